"""Every package exports a sorted, complete public surface."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

PACKAGES = [
    "botticelli",
    "botticelli.config",
    "botticelli.routing",
    "botticelli.testing",
    "botticelli_core",
    "botticelli_embedded",
    "botticelli_error",
    "botticelli_gemini",
    "botticelli_interface",
    "botticelli_server",
    "botticelli_transport",
]

# Plumbing one module of a package lends another; not part of the package's surface.
# Kept explicit so that a new public name cannot slip past the package's __all__.
INTERNAL: dict[str, set[str]] = {
    # The demo is run as ``python -m botticelli demo``; its functions are the command's own.
    "botticelli.demo": {"DemoReport", "Engine", "available_engines", "llama_cpp_server_available", "run_demo"},
    "botticelli.config.schema": {"validate_tables"},
    # The provider's builder of autostarted clients, and the adapter-name checks of the config models.
    "botticelli.autostart": {"autostarted_client"},
    "botticelli_core.adapters": {"check_unique_names", "repeated_names"},
    # Imported by the request log only when opentelemetry-api is installed: re-exporting it
    # from the package would import OpenTelemetry with botticelli_interface.
    "botticelli_interface.tracing": {"Trace", "operation_name", "provider_name", "start"},
    # Each backend's conversions serve its own client; the wire-level API of the local server
    # is public (it has a wire-level client API), Gemini's and the embedded engine's are not.
    "botticelli_embedded.convert": {
        "EngineChunk",
        "EngineChunkChoice",
        "EngineDelta",
        "EngineUsage",
        "finish_reason",
        "response_from_chunks",
        "stream_chunk",
        "to_engine_request",
        "usage",
    },
    "botticelli_embedded.errors": {"engine_message", "load_error", "request_error"},
    "botticelli_gemini.errors": {"error_from_response", "parse_duration", "stream_error"},
    # Gemini's wire format: botticelli offers no wire-level Gemini API, only the neutral one.
    "botticelli_gemini.embeddings": {
        "WireBatchEmbedRequest",
        "WireBatchEmbedResponse",
        "WireContentEmbedding",
        "WireEmbedRequest",
        "batch_body",
        "batches",
        "parse_batch_embed_response",
        "to_embed_response",
    },
    "botticelli_gemini.request": {
        "WireBlob",
        "WireContent",
        "WireCountTokensRequest",
        "WireCountedRequest",
        "WireFileData",
        "WireFunctionCallPart",
        "WireFunctionCallingConfig",
        "WireFunctionDeclaration",
        "WireFunctionResponse",
        "WireGenerateContentRequest",
        "WireGenerationConfig",
        "WirePart",
        "WireThinkingConfig",
        "WireTool",
        "WireToolConfig",
        "dump_request",
    },
    "botticelli_gemini.response": {
        "WireCandidate",
        "WireCountTokensResponse",
        "WireError",
        "WireErrorEnvelope",
        "WireFunctionCall",
        "WireGenerateContentResponse",
        "WireListModelsResponse",
        "WireModel",
        "WireParsedContent",
        "WirePromptFeedback",
        "WireResponsePart",
        "WireUsageMetadata",
        "parse_count_tokens_response",
        "parse_generate_response",
        "parse_list_models_response",
        "parse_model",
    },
    "botticelli_gemini.convert": {
        "check_blocked",
        "finish_reason",
        "new_tool_call_id",
        "to_model_info",
        "to_response",
        "to_usage",
        "to_wire_request",
    },
}
# The command-line program: its surface is the command line, not Python names.
APPLICATIONS = {"botticelli.cli"}
# botticelli's own __all__ is grouped by the package each name comes from (see its __init__).
GROUPED = {"botticelli"}


def isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


def public_modules(package: ModuleType) -> list[ModuleType]:
    """The package's public plain modules; a subpackage is a surface of its own (in PACKAGES)."""
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_") and not info.ispkg
    ]


def test_every_public_subpackage_is_checked_as_a_package() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.iter_modules(package.__path__):
            if info.ispkg and not info.name.startswith("_"):
                assert f"{name}.{info.name}" in PACKAGES or f"{name}.{info.name}" in APPLICATIONS


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_every_name_exists(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    if name not in GROUPED:
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


# Packages whose exports load on first access (PEP 562); the others bind each export after
# importing its module, so a submodule of the same name cannot shadow it.
LAZY_PACKAGES = [name for name in PACKAGES if hasattr(importlib.import_module(name), "_EXPORTS")]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_no_export_shares_its_name_with_a_submodule(name: str) -> None:
    # Importing a submodule binds it on its package under its own name, which then shadows a
    # lazily loaded export of the same name: `from pkg import x` would hand out the module.
    package = importlib.import_module(name)
    submodules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert not submodules & set(package.__all__), name
