"""Package exports loaded on first use, so that importing a package costs only what a program reads.

Building a pydantic model class costs time even with its schema deferred, and a program
that talks to a server imports one request type, not every response, catalog and
embedding model. A package's ``__init__`` lists where each export lives and lets this
module's :func:`lazy_exports` import it on first access (PEP 562).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's module ``__getattr__`` and ``__dir__`` for exports imported on first access.

    Args:
        package: The package's name, for the error of an unknown attribute.
        namespace: The package's ``globals()``; each loaded export is stored there, so
            later lookups are plain attribute reads.
        exports: Each lazily loaded name and the module that defines it.

    Examples:
        >>> namespace: dict[str, Any] = {"__all__": ["dedent"]}
        >>> getattr_, dir_ = lazy_exports("pkg", namespace, {"dedent": "textwrap"})
        >>> getattr_("dedent")("  x")
        'x'
        >>> "dedent" in namespace, dir_()
        (True, ['__all__', 'dedent'])
        >>> getattr_("missing")
        Traceback (most recent call last):
        ...
        AttributeError: module 'pkg' has no attribute 'missing'
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *namespace.get("__all__", ())})

    return __getattr__, __dir__
