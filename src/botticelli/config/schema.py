"""The shape of ``botticelli.toml``: one immutable model per table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from botticelli._restart import RestartPolicy
from botticelli._routing import HybridPolicy
from botticelli.config._chain import FallbackSection
from botticelli.config._messages import validate_named
from botticelli.config._tables import origin_of, set_path
from botticelli_core import LoraAdapter, ModelRef
from botticelli_core.adapters import repeated_names
from botticelli_error import ConfigurationError, redact_url

__all__ = [
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
    "validate_tables",
]

ProviderName = Literal["local", "gemini", "embedded", "hybrid", "fallback"]
PROVIDERS: tuple[str, ...] = get_args(ProviderName)
"""The valid values of ``model.provider``."""

TABLES = ("model", "server")


class _Settings(BaseModel):
    # A plain BaseModel, not FrozenModel: validate_tables names each problem by file and key.
    model_config = ConfigDict(frozen=True, extra="forbid")


class _BackendSection(_Settings):
    # Other keys are the backend's own settings (timeouts, retries...), checked by the
    # backend's config model when the backend is built.
    model_config = ConfigDict(frozen=True, extra="allow")

    @property
    def options(self) -> dict[str, Any]:
        """The backend settings besides the ones this section names."""
        return dict(self.model_extra or {})

    def __repr_args__(self) -> Any:
        # A base URL may carry a password (http://user:pass@host): never show it, alone or in a list.
        for name, value in super().__repr_args__():
            if isinstance(value, str):
                yield name, redact_url(value)
            elif isinstance(value, list | tuple):
                yield name, [redact_url(v) if isinstance(v, str) else v for v in value]
            else:
                yield name, value


class LocalSection(_BackendSection):
    """``[model.local]``: an OpenAI-compatible server; other keys go to ``ServerConfig``.

    Examples:
        >>> LocalSection(model="phi", max_retries=0).options
        {'max_retries': 0}
    """

    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None


class GeminiSection(_BackendSection):
    """``[model.gemini]``: Google Gemini; other keys go to ``GeminiConfig``."""

    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None


class EmbeddedSection(_BackendSection):
    """``[model.embedded]``: mistral.rs in-process; other keys go to ``EmbeddedConfig``."""

    model_path: Path | None = None
    model: str | None = None


class HybridSection(HybridPolicy):
    """``[model.hybrid]``: which backends to combine, and the routing policy.

    Examples:
        >>> HybridSection(prefer="embedded").fallback
        'gemini'
    """

    prefer: Literal["local", "embedded"] = "local"
    fallback: Literal["local", "gemini", "embedded"] = "gemini"

    @model_validator(mode="after")
    def _two_backends(self) -> Self:
        if self.prefer == self.fallback:
            raise ValueError(f"prefer and fallback must name two different backends, both are {self.prefer!r}")
        return self

    def policy(self) -> HybridPolicy:
        """The routing policy alone, without the backend names."""
        return HybridPolicy(**self.model_dump(exclude={"prefer", "fallback"}))


class ModelSettings(_Settings):
    """``[model]``: which provider to use, and each backend's section."""

    provider: ProviderName = "local"
    local: LocalSection = Field(default_factory=LocalSection)
    gemini: GeminiSection = Field(default_factory=GeminiSection)
    embedded: EmbeddedSection = Field(default_factory=EmbeddedSection)
    hybrid: HybridSection = Field(default_factory=HybridSection)
    fallback: FallbackSection = Field(default_factory=FallbackSection)

    @field_validator("provider", mode="before")
    @classmethod
    def _known_provider(cls, value: Any) -> Any:
        if value not in PROVIDERS:
            raise ValueError(f"unknown provider {value!r}; choose one of {', '.join(PROVIDERS)}")
        return value


class ServerSection(_Settings):
    """``[server]``: the inference server ``botticelli serve`` starts, or the client itself (``autostart``).

    Give ``preset`` (``"llama-cpp-python"``, ``"llama-server"``, ``"mistralrs"``, ...) or
    ``command`` (an argv with ``{host}``, ``{port}``, ``{model}``... placeholders). With
    ``autostart = true`` the ``local`` backend starts this server when its client is opened
    and stops it when the client closes (see :mod:`botticelli.autostart`); ``port = 0``
    (or none) picks a free port then.

    Examples:
        >>> ServerSection(preset="llama-server", model_path="m.gguf", port=8080).alias is None
        True
        >>> ServerSection(preset="llama-server", model="m.gguf", autostart=True, restart={"max_restarts": 2}).restart
        RestartPolicy(max_restarts=2, backoff=1.0, max_backoff=30.0)
    """

    preset: str | None = Field(default=None, min_length=1)
    command: tuple[str, ...] | None = Field(default=None, min_length=1)
    model: ModelRef | None = None
    """The model to serve, as a model reference: a local path, ``hf:org/repo/file.gguf[@revision]``
    (fetched before the server starts) or ``org/repo`` for servers that load from the hub
    (``vllm``, ``mistralrs``). ``model_path`` is the older name, read the same way."""
    model_path: Path | None = None
    """The same as ``model`` (give one of them), kept for existing configuration files."""
    alias: str | None = Field(default=None, min_length=1)
    """The model name clients send; presets pass it to the server (default: the file or repository name)."""
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=0, le=65535)
    """``0`` or none: a free port, picked when the server starts."""
    extra_args: tuple[str, ...] = ()
    startup_timeout: float = Field(default=120.0, gt=0)
    adapters: tuple[LoraAdapter, ...] = ()
    """LoRA adapters the server loads (``[{ name, path, scale }]``); requests select them by name."""
    embeddings: bool = False
    """Start the server so that it answers ``/v1/embeddings``: the preset adds its server's switch
    (llama-cpp-python ``--embedding true``, llama-server ``--embeddings``, vLLM ``--runner pooling``)."""
    autostart: bool = False
    """Start this server when a ``local`` client is opened, and stop it when the client closes."""
    restart: RestartPolicy | None = None
    """Restart an autostarted server that crashed; ``None``: a crash is an error on the next call."""

    @model_validator(mode="after")
    def _one_command(self) -> Self:
        if (self.preset is None) == (self.command is None):
            raise ValueError("give exactly one of preset (a known server) or command (an argv)")
        if self.model is not None and self.model_path is not None:
            raise ValueError("give model or model_path, not both")
        if repeated_names(self.adapters):
            raise ValueError(f"adapter names must be unique (repeated: {', '.join(repeated_names(self.adapters))})")
        return self

    @field_validator("model_path")
    @classmethod
    def _a_model_reference(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                ModelRef.parse(str(value))
            except ConfigurationError as exc:
                raise ValueError(exc.message) from None
        return value

    @property
    def model_ref(self) -> ModelRef | None:
        """``model`` (or ``model_path``) as a model reference (``"org/repo"`` is a repository, not a path).

        Examples:
            >>> ServerSection(preset="vllm", model_path="microsoft/Phi-3.5-mini-instruct").model_ref
            ModelRef('microsoft/Phi-3.5-mini-instruct')
        """
        if self.model is not None:
            return self.model
        return ModelRef.parse(str(self.model_path)) if self.model_path is not None else None


class BotticelliSettings(_Settings):
    """All of botticelli's settings, after merging the file and the environment. Immutable.

    Args:
        model: The ``[model]`` table.
        server: The ``[server]`` table, if any.
        source: The file the settings were read from, if any.
        origins: Where each set key came from (``"model.local.model"`` -> a file path or
            ``"environment variable INFERENCE_SERVER_MODEL"``), for error messages.

    Examples:
        >>> settings = validate_tables({"model": {"provider": "gemini", "gemini": {"model": "gemini-2.5-pro"}}})
        >>> settings.model.provider, settings.model.gemini.model
        ('gemini', 'gemini-2.5-pro')
    """

    model: ModelSettings = Field(default_factory=ModelSettings)
    server: ServerSection | None = None
    # Bookkeeping, not keys of the file: excluded from dumps and from "expected one of" lists.
    source: Path | None = Field(default=None, exclude=True)
    origins: Mapping[str, str] = Field(default_factory=dict, exclude=True)

    def origin(self, key: str) -> str:
        """Where ``key`` (dotted, e.g. ``"model.local.model"``) was set, or where it should be."""
        return origin_of(key, self.origins, self.source)

    def with_values(self, values: Mapping[str, Any], *, origin: str) -> BotticelliSettings:
        """A copy with some dotted keys set, e.g. ``{"model.provider": "gemini"}``, validated again.

        Examples:
            >>> validate_tables({}).with_values({"model.provider": "gemini"}, origin="--provider").model.provider
            'gemini'
        """
        data = self.model_dump(exclude_none=True)
        origins = dict(self.origins)
        for dotted, value in values.items():
            set_path(data, tuple(dotted.split(".")), value)
            origins[dotted] = origin
        return validate_tables(data, source=self.source, origins=origins)


def validate_tables(
    data: Mapping[str, Any], *, source: Path | None = None, origins: Mapping[str, str] | None = None
) -> BotticelliSettings:
    """Validate tables shaped like the file; each problem names its origin and its dotted key.

    A table or an array of the wrong type says what was given and what was expected, in the
    words of both ways in (see :mod:`botticelli.config._messages`).

    Raises:
        ConfigurationError: ``"botticelli.toml: model.local.model: Input should be ..."``.

    Examples:
        >>> validate_tables({"model": {"hybrid": {"prefer": "local", "fallback": "local"}}})
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] settings: model.hybrid: prefer and fallback ...
        >>> try:
        ...     validate_tables({"model": {"local": ["phi"]}})
        ... except ConfigurationError as exc:
        ...     print(exc.message)
        settings: model.local: expected a table (a dict, from Python), got a list
    """
    known = dict(origins or {})
    unknown = sorted(set(data) - set(TABLES))
    if unknown:
        key = unknown[0]
        raise ConfigurationError(f"{origin_of(key, known, source)}: {key}: unknown table; expected [model] or [server]")

    def label(key: str) -> str:
        return f"{origin_of(key, known, source)}: {key}" if key else origin_of(key, known, source)

    return validate_named(BotticelliSettings, {**data, "source": source, "origins": known}, label=label)
