"""botticelli's settings: ``botticelli.toml``, environment variables, or a dict, as immutable models.

A file looks like this (every key is optional except each backend's model)::

    [model]
    provider = "local"              # local | gemini | embedded | hybrid

    [model.local]                   # any other ServerConfig setting too (timeouts, retries...)
    base_url = "http://localhost:8080"
    model = "microsoft/Phi-3.5-mini-instruct"

    [model.gemini]                  # the key comes from GEMINI_API_KEY
    model = "gemini-2.5-flash"

    [model.embedded]                # relative paths resolve against this file's folder
    model_path = "models/Phi-3.5-mini-instruct-Q4_K_M.gguf"

    [model.hybrid]
    prefer = "local"                # cheap requests: local or embedded
    fallback = "gemini"             # complex requests, and when the preferred one fails

    [server]                        # what `botticelli serve` starts
    preset = "llama-cpp-python"
    model_path = "models/tiny.gguf"

The file is the first that exists of: the path given, ``$BOTTICELLI_CONFIG``,
``./botticelli.toml``, ``$XDG_CONFIG_HOME/botticelli/botticelli.toml`` (by default
``~/.config/botticelli/botticelli.toml``). No file is fine: the environment then decides.
Environment variables win over the file (see :data:`ENV_OVERRIDES`).

An API key written in the file works, but is logged as a warning (event
``botticelli.config.secret_in_file``): the file tends to end up in version control. It is a
structured log event rather than a Python warning, so programs that turn warnings into
errors still start.

Each backend's settings are checked when that backend is used (by
:class:`~botticelli.provider.ModelProvider`), so a ``[model.gemini]`` section needs no key
while only the local backend runs. Every mistake is a
:class:`~botticelli_error.ConfigurationError` naming the file (or variable), the key and
what was expected.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal, Self, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from botticelli._routing import HybridPolicy
from botticelli_error import ConfigurationError
from botticelli_interface.request_log import log_event

__all__ = [
    "CONFIG_FILE_NAME",
    "ENV_CONFIG",
    "ENV_OVERRIDES",
    "ENV_PROVIDER",
    "PROVIDERS",
    "BotticelliSettings",
    "EmbeddedSection",
    "GeminiSection",
    "HybridSection",
    "LocalSection",
    "ModelSettings",
    "ProviderName",
    "ServerSection",
    "build_backend_config",
    "config_error",
    "find_config_file",
    "load_settings",
    "settings_from_dict",
]

ProviderName = Literal["local", "gemini", "embedded", "hybrid"]
PROVIDERS: tuple[str, ...] = get_args(ProviderName)
"""The valid values of ``model.provider``."""

CONFIG_FILE_NAME = "botticelli.toml"
ENV_CONFIG = "BOTTICELLI_CONFIG"
ENV_PROVIDER = "BOTTICELLI_PROVIDER"

ENV_OVERRIDES: Mapping[str, tuple[str, ...]] = {
    ENV_PROVIDER: ("model", "provider"),
    "INFERENCE_SERVER_BASE_URL": ("model", "local", "base_url"),
    "INFERENCE_SERVER_MODEL": ("model", "local", "model"),
    "INFERENCE_SERVER_API_KEY": ("model", "local", "api_key"),
    "GEMINI_API_KEY": ("model", "gemini", "api_key"),
    "GEMINI_MODEL": ("model", "gemini", "model"),
    "BOTTICELLI_EMBEDDED_MODEL_PATH": ("model", "embedded", "model_path"),
    "BOTTICELLI_EMBEDDED_MODEL": ("model", "embedded", "model"),
}
"""Environment variable -> the setting it overrides (set and non-blank values only)."""

# Keys holding paths: relative values in a file resolve against the file's folder.
_PATH_KEYS = (("model", "embedded", "model_path"), ("server", "model_path"))
_SECRET_WORDS = ("key", "token", "secret", "password")
_SECRET_IN_FILE_EVENT = "botticelli.config.secret_in_file"  # noqa: S105 - an event name, not a secret


class _Settings(BaseModel):
    # No ConfigurationError-raising __init__ here (unlike the backends' configs): pydantic calls a
    # custom __init__ for nested tables too, which would bury each key's location. The loaders
    # (load_settings, settings_from_dict) turn pydantic's errors into ConfigurationErrors.
    model_config = ConfigDict(frozen=True, extra="forbid")


class _BackendSection(_Settings):
    # Other keys are the backend's own settings (timeouts, retries...), checked by the
    # backend's config model when the backend is built.
    model_config = ConfigDict(frozen=True, extra="allow")

    @property
    def options(self) -> dict[str, Any]:
        """The backend settings besides the ones this section names."""
        return dict(self.model_extra or {})


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
        >>> settings_from_dict({"model": {"hybrid": {"prefer": "local", "fallback": "local"}}})
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] settings: model.hybrid: prefer and fallback ...
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


class ServerSection(_Settings):
    """``[server]``: the inference server ``botticelli serve`` starts.

    Give ``preset`` (``"llama-cpp-python"``, ``"llama-server"``, ``"mistralrs"``, ...) or
    ``command`` (an argv with ``{host}``, ``{port}``, ``{model}``... placeholders).

    Examples:
        >>> ServerSection(preset="llama-server", model_path="m.gguf", port=8080).alias is None
        True
    """

    preset: str | None = Field(default=None, min_length=1)
    command: tuple[str, ...] | None = Field(default=None, min_length=1)
    model_path: Path | None = None
    alias: str | None = Field(default=None, min_length=1)
    """The model name clients send; presets pass it to the server (default: the file's stem)."""
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    extra_args: tuple[str, ...] = ()
    startup_timeout: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _one_command(self) -> Self:
        if (self.preset is None) == (self.command is None):
            raise ValueError("give exactly one of preset (a known server) or command (an argv)")
        return self


class BotticelliSettings(_Settings):
    """All of botticelli's settings, after merging the file and the environment. Immutable.

    Args:
        model: The ``[model]`` table.
        server: The ``[server]`` table, if any.
        source: The file the settings were read from, if any.
        origins: Where each set key came from (``"model.local.model"`` -> a file path or
            ``"environment variable INFERENCE_SERVER_MODEL"``), for error messages.

    Examples:
        >>> settings = settings_from_dict({"model": {"provider": "gemini", "gemini": {"model": "gemini-2.5-pro"}}})
        >>> settings.model.provider, settings.model.gemini.model
        ('gemini', 'gemini-2.5-pro')
    """

    model: ModelSettings = Field(default_factory=ModelSettings)
    server: ServerSection | None = None
    source: Path | None = None
    origins: Mapping[str, str] = Field(default_factory=dict)

    def origin(self, key: str) -> str:
        """Where ``key`` (dotted, e.g. ``"model.local.model"``) was set, or where it should be."""
        return _origin_of(key, self.origins, self.source)

    def with_values(self, values: Mapping[str, Any], *, origin: str) -> BotticelliSettings:
        """A copy with some dotted keys set, e.g. ``{"model.provider": "gemini"}``, validated again.

        Examples:
            >>> settings_from_dict({}).with_values({"model.provider": "gemini"}, origin="--provider").model.provider
            'gemini'
        """
        data = self.model_dump(exclude={"source", "origins"}, exclude_none=True)
        origins = dict(self.origins)
        for dotted, value in values.items():
            _set(data, tuple(dotted.split(".")), value)
            origins[dotted] = origin
        return _validate(data, source=self.source, origins=origins)


def config_error(settings: BotticelliSettings, key: str, problem: str) -> ConfigurationError:
    """A :class:`~botticelli_error.ConfigurationError` saying where ``key`` came from and what is wrong.

    Examples:
        >>> print(config_error(settings_from_dict({}), "model.local.model", "is missing"))
        [botticelli] settings: model.local.model is missing
    """
    return ConfigurationError(f"{settings.origin(key)}: {key} {problem}")


M = TypeVar("M", bound=BaseModel)


def build_backend_config(
    settings: BotticelliSettings, config_class: type[M], data: Mapping[str, Any], *, section: str
) -> M:
    """Validate one backend's settings with its own config model; errors name the origin and the key.

    Args:
        settings: Where the values came from (for error messages).
        config_class: The backend's config model, e.g. ``ServerConfig``.
        data: The section's values, merged with the environment.
        section: The section's dotted name, e.g. ``"model.local"``.

    Raises:
        ConfigurationError: ``"botticelli.toml: model.local.max_retries: Input should be ..."``.

    Examples:
        >>> from botticelli._routing import HybridPolicy
        >>> build_backend_config(settings_from_dict({}), HybridPolicy, {"cooldown": -1}, section="model.hybrid")
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] settings: model.hybrid.cooldown: Input should be ...
    """
    try:
        _plain(config_class).model_validate(data)
    except ValidationError as exc:
        raise _translate(
            exc, root=config_class, origins=settings.origins, source=settings.source, prefix=tuple(section.split("."))
        ) from None
    return config_class.model_validate(data)


@cache
def _plain(config_class: type[M]) -> type[M]:
    # The backends' configs raise ConfigurationError from __init__, and pydantic calls a custom
    # __init__ even from model_validate, so each error's location would be lost in one message.
    # A subclass with BaseModel's own __init__ validates the same fields the same way, and keeps them.
    return type(config_class.__name__, (config_class,), {"__init__": BaseModel.__init__, "__module__": __name__})


# -- loading ----------------------------------------------------------------------------


def find_config_file(env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Path | None:
    """The configuration file to read, by the search order in the module docstring, or ``None``.

    Raises:
        ConfigurationError: ``$BOTTICELLI_CONFIG`` names a file that does not exist.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     print(find_config_file({"XDG_CONFIG_HOME": tmp}, cwd=Path(tmp)))
        None
    """
    environ = os.environ if env is None else env
    named = environ.get(ENV_CONFIG, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"environment variable {ENV_CONFIG}: no configuration file at {named}")
        return path
    local = (cwd or Path.cwd()) / CONFIG_FILE_NAME
    if local.is_file():
        return local
    xdg = environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path(environ.get("HOME", "") or Path.home()).expanduser() / ".config"
    user = base / "botticelli" / CONFIG_FILE_NAME
    return user if user.is_file() else None


def load_settings(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> BotticelliSettings:
    """Read the configuration file (searched for unless ``path`` is given) and apply the environment.

    Args:
        path: A file to read; it must exist.
        env: The environment; ``os.environ`` when omitted.

    Raises:
        ConfigurationError: The file is missing or unreadable, not valid TOML (the message has the
            line), or holds an unknown key or a value of the wrong type.

    Examples:
        >>> load_settings(env={"BOTTICELLI_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent",
        ...                    "BOTTICELLI_PROVIDER": "gemini"}).model.provider
        'gemini'
    """
    environ = os.environ if env is None else env
    if path is not None:
        file: Path | None = Path(path).expanduser()
        assert file is not None  # for the type checker: Path() never returns None
        if not file.is_file():
            raise ConfigurationError(f"{file}: no such configuration file")
    else:
        file = find_config_file(environ)
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if file is not None:
        data = _read_toml(file)
        _resolve_paths(data, file.parent)
        origins = {key: str(file) for key in _leaf_keys(data)}
        _warn_secrets(data, file)
    return _apply_env(data, origins, environ, source=file)


def settings_from_dict(
    data: Mapping[str, Any], *, env: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> BotticelliSettings:
    """Settings from a dict shaped like the TOML file, for tests and programmatic use.

    Args:
        data: The tables, e.g. ``{"model": {"provider": "local", "local": {"model": "phi"}}}``.
        env: Environment variables to apply on top; unlike :func:`load_settings`, none are
            read unless given, so code that passes a dict gets exactly that.
        base_dir: Where relative paths point; the current directory when omitted.

    Raises:
        ConfigurationError: An unknown key or a value of the wrong type.

    Examples:
        >>> settings_from_dict({"model": {"provder": "local"}})
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] settings: model.provder: unknown key; ...
    """
    copied = _deep_copy(data)
    if base_dir is not None:
        _resolve_paths(copied, base_dir)
    origins = dict.fromkeys(_leaf_keys(copied), "settings")
    return _apply_env(copied, origins, env or {}, source=None)


def _apply_env(
    data: dict[str, Any], origins: dict[str, str], env: Mapping[str, str], *, source: Path | None
) -> BotticelliSettings:
    for name, keys in ENV_OVERRIDES.items():
        value = env.get(name, "").strip()
        if value:
            _set(data, keys, value)
            origins[".".join(keys)] = f"environment variable {name}"
    return _validate(data, source=source, origins=origins)


def _validate(data: dict[str, Any], *, source: Path | None, origins: Mapping[str, str]) -> BotticelliSettings:
    unknown = sorted(set(data) - {"model", "server"})
    if unknown:
        key = unknown[0]
        raise ConfigurationError(
            f"{_origin_of(key, origins, source)}: {key}: unknown table; expected [model] or [server]"
        )
    try:
        return BotticelliSettings.model_validate({**data, "source": source, "origins": origins})
    except ValidationError as exc:
        raise _translate(exc, root=BotticelliSettings, origins=origins, source=source) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries the position: "Expected '=' ... (at line 3, column 9)".
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from None


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for keys in _PATH_KEYS:
        table: Any = data
        for key in keys[:-1]:
            table = table.get(key) if isinstance(table, dict) else None
        value = table.get(keys[-1]) if isinstance(table, dict) else None
        if isinstance(value, str) and value:
            path = Path(value).expanduser()
            table[keys[-1]] = str(path if path.is_absolute() else base / path)


def _warn_secrets(data: dict[str, Any], file: Path) -> None:
    model = data.get("model")
    if not isinstance(model, dict):
        return
    for section, variable in (("gemini", "GEMINI_API_KEY"), ("local", "INFERENCE_SERVER_API_KEY")):
        table = model.get(section)
        if isinstance(table, dict) and "api_key" in table:
            log_event(
                logging.WARNING,
                _SECRET_IN_FILE_EVENT,
                file=str(file),
                key=f"model.{section}.api_key",
                advice=f"set {variable} instead; files end up in version control",
            )


# -- error messages -----------------------------------------------------------------------


def _translate(
    exc: ValidationError,
    *,
    root: type[BaseModel],
    origins: Mapping[str, str],
    source: Path | None = None,
    prefix: tuple[str, ...] = (),
) -> ConfigurationError:
    """One ConfigurationError from pydantic's errors: origin, dotted key and what was expected.

    ``root`` is the model that was validated, for listing the keys a table accepts; its
    error locations are relative to ``prefix`` (``("model", "local")`` for a backend's config).
    """
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        relative = [str(part) for part in error["loc"]]
        key = ".".join([*prefix, *relative])
        origin = _origin_of(key or ".".join(prefix), origins, source)
        problems.append(f"{origin}: {key + ': ' if key else ''}{_explain(error, root, relative)}")
    return ConfigurationError("; ".join(problems))


def _explain(error: Any, root: type[BaseModel], loc: list[str]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key; expected one of {', '.join(_known_keys(root, loc))}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "expected a table"
    if kind == "literal_error" and loc[-1:] == ["provider"]:
        return f"unknown provider {error['input']!r}; choose one of {', '.join(PROVIDERS)}"
    message: str = error["msg"]
    if kind == "value_error":
        message = str(error.get("ctx", {}).get("error", message))
    elif kind != "missing" and not (loc and any(word in loc[-1].lower() for word in _SECRET_WORDS)):
        got = repr(error.get("input"))
        message += f" (got {got if len(got) <= 60 else got[:57] + '...'})"
    return message


def _known_keys(root: type[BaseModel], loc: list[str]) -> list[str]:
    """The keys the table at ``loc`` accepts, found by walking the models from ``root``."""
    model = root
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        candidates = [a for a in (annotation, *get_args(annotation)) if isinstance(a, type)]
        nested = next((a for a in candidates if issubclass(a, BaseModel)), None)
        if nested is None:
            break
        model = nested
    hidden = {"source", "origins"} if model is BotticelliSettings else set()
    return sorted(name for name in model.model_fields if name not in hidden)


def _origin_of(key: str, origins: Mapping[str, str], source: Path | None) -> str:
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        found = origins.get(".".join(parts[:end]))
        if found is not None:
            return found
    # A key nobody set: blame the file when there is one (that is where it belongs).
    files = sorted({origin for origin in origins.values() if not origin.startswith("environment variable")})
    if source is not None:
        return str(source)
    return files[0] if files else "settings"


# -- small dict helpers -------------------------------------------------------------------


def _set(data: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    table = data
    for key in keys[:-1]:
        nested = table.get(key)
        if not isinstance(nested, dict):
            nested = {}
            table[key] = nested
        table = nested
    table[keys[-1]] = value


def _leaf_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            keys.extend(_leaf_keys(value, dotted + "."))
        else:
            keys.append(dotted)
    return keys


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deep_copy(value) if isinstance(value, Mapping) else value for key, value in data.items()}
