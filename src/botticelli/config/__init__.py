"""botticelli's settings: ``botticelli.toml``, environment variables, or a dict, as immutable models.

A file looks like this (every key is optional except each backend's model)::

    [model]
    provider = "local"              # local | gemini | embedded | hybrid | fallback

    [model.local]                   # any other ServerConfig setting too (timeouts, retries...)
    base_url = "http://localhost:8080"  # or base_urls = [...]: a pool of replicas
    model = "microsoft/Phi-3.5-mini-instruct"

    [model.gemini]                  # the key comes from GEMINI_API_KEY
    model = "gemini-2.5-flash"

    [model.embedded]                # relative paths resolve against this file's folder
    model_path = "models/Phi-3.5-mini-instruct-Q4_K_M.gguf"

    [model.hybrid]
    prefer = "local"                # cheap requests: local or embedded
    fallback = "gemini"             # complex requests, and when the preferred one fails

    [model.fallback]                # backends tried in order; "<backend>:<model>" picks a model
    chain = ["local", "gemini:gemini-2.5-flash", "gemini:gemini-2.5-pro"]

    [server]                        # what `botticelli serve` starts
    preset = "llama-cpp-python"
    model_path = "models/tiny.gguf"

The file is the first that exists of: the path given, ``$BOTTICELLI_CONFIG``,
``./botticelli.toml``, ``$XDG_CONFIG_HOME/botticelli/botticelli.toml`` (by default
``~/.config/botticelli/botticelli.toml``). No file is fine: the environment then decides.
Environment variables win over the file (see :data:`ENV_OVERRIDES`; each backend declares
its own in its config module's ``SECTION``).

An API key written in the file works, but is logged as a warning (event
``botticelli.config.secret_in_file``): the file tends to end up in version control. It is a
structured log event rather than a Python warning, so programs that turn warnings into
errors still start.

Each backend's settings are checked when that backend is used (by
:class:`~botticelli.provider.ModelProvider`), so a ``[model.gemini]`` section needs no key
while only the local backend runs. Every mistake is a
:class:`~botticelli_error.ConfigurationError` naming the file (or variable), the key and
what was expected.

The package is split by job: :mod:`~botticelli.config.schema` (the tables as models),
:mod:`~botticelli.config.loading` (file, environment, dict, and each backend's section).
"""

from __future__ import annotations

from typing import Any

from botticelli.config.loading import (
    CONFIG_FILE_NAME,
    ENV_CONFIG,
    ENV_PROVIDER,
    build_backend_config,
    config_error,
    env_overrides,
    find_config_file,
    load_settings,
    settings_from_dict,
)
from botticelli.config.schema import (
    PROVIDERS,
    BotticelliSettings,
    EmbeddedSection,
    FallbackSection,
    GeminiSection,
    HybridSection,
    LocalSection,
    ModelSettings,
    ProviderName,
    ServerSection,
)

__all__ = [
    "CONFIG_FILE_NAME",
    "ENV_CONFIG",
    "ENV_OVERRIDES",
    "ENV_PROVIDER",
    "PROVIDERS",
    "BotticelliSettings",
    "EmbeddedSection",
    "FallbackSection",
    "GeminiSection",
    "HybridSection",
    "LocalSection",
    "ModelSettings",
    "ProviderName",
    "ServerSection",
    "build_backend_config",
    "config_error",
    "env_overrides",
    "find_config_file",
    "load_settings",
    "settings_from_dict",
]


def __getattr__(name: str) -> Any:
    # ENV_OVERRIDES gathers every backend's variables, which loads their config modules:
    # computed on first use, so importing botticelli.config loads no backend.
    if name == "ENV_OVERRIDES":
        return env_overrides()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
