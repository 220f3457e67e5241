"""Every package exports a sorted, complete public surface."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

PACKAGES = ["botticelli_core", "botticelli_error", "botticelli_interface", "botticelli_transport", "botticelli_server"]

# Plumbing one module of a package lends another; not part of the package's surface.
# Kept explicit so that a new public name cannot slip past the package's __all__.
INTERNAL: dict[str, set[str]] = {
    # The error policy as the transport's modules import it; its home is botticelli_error.
    "botticelli_transport.errors": {
        "ErrorResponse",
        "error_class_for_status",
        "error_for_status",
        "error_from_response",
        "parse_retry_after",
        "redact_url",
        "request_id",
        "request_id_of",
        "scrub",
    },
}


def isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


def public_modules(package: ModuleType) -> list[ModuleType]:
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    ]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_every_name_exists(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert exported == sorted(exported, key=isort_key)
    assert len(set(exported)) == len(exported)
    missing = [n for n in exported if not hasattr(package, n)]
    assert missing == []


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_modules_names_are_reexported_by_its_package(name: str) -> None:
    package = importlib.import_module(name)
    for module in public_modules(package):
        names = getattr(module, "__all__", None)
        assert names is not None, f"{module.__name__} has no __all__"
        assert all(hasattr(module, n) for n in names), module.__name__
        assert sorted(names, key=isort_key) == list(names), module.__name__
        internal = INTERNAL.get(module.__name__, set())
        assert internal <= set(names), f"{module.__name__}: stale INTERNAL entry"
        # Constants (tuning defaults) may stay in their module; classes and functions may not.
        public = [n for n in names if not n.isupper() and n not in internal]
        not_exported = [n for n in public if n not in package.__all__]
        assert not_exported == [], f"{module.__name__}: {not_exported}"
        assert not internal & set(package.__all__), f"{module.__name__}: exported names listed as INTERNAL"


def test_botticelli_all_names_resolve() -> None:
    botticelli = importlib.import_module("botticelli")
    assert len(set(botticelli.__all__)) == len(botticelli.__all__)
    unresolved = [n for n in botticelli.__all__ if getattr(botticelli, n, None) is None]
    assert unresolved == []
