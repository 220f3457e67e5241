"""Reading the settings: the file, the environment, or a dict, and each backend's section."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botticelli.config._backends import backend_section, backend_sections
from botticelli.config._messages import describe_value, validate_named
from botticelli.config._secrets import warn_secrets_in_file
from botticelli.config._tables import deep_copy, get_path, leaf_keys, set_path
from botticelli.config.schema import BotticelliSettings, validate_tables
from botticelli_core import ModelRef
from botticelli_error import ConfigurationError

__all__ = [
    "CONFIG_FILE_NAME",
    "ENV_CONFIG",
    "ENV_PROVIDER",
    "build_backend_config",
    "config_error",
    "env_overrides",
    "find_config_file",
    "load_settings",
    "settings_from_dict",
]

CONFIG_FILE_NAME = "botticelli.toml"
ENV_CONFIG = "BOTTICELLI_CONFIG"
ENV_PROVIDER = "BOTTICELLI_PROVIDER"

# Keys of botticelli's own tables holding paths; each backend declares its own (ConfigSection.path_keys).
_SERVER_PATH_KEYS: tuple[tuple[str, ...], ...] = (("server", "model_path"), ("server", "model"))
# Of those, the keys holding a model reference: only a local path is resolved against the file's
# folder; "org/repo" and "hf:..." are kept as written.
_MODEL_REF_KEYS: frozenset[tuple[str, ...]] = frozenset({("server", "model_path"), ("server", "model")})


def env_overrides() -> dict[str, tuple[str, ...]]:
    """Environment variable -> the setting it overrides, from every backend's section.

    Examples:
        >>> env_overrides()["GEMINI_MODEL"]
        ('model', 'gemini', 'model')
    """
    table: dict[str, tuple[str, ...]] = {ENV_PROVIDER: ("model", "provider")}
    for section in backend_sections():
        table.update({variable: ("model", section.name, key) for variable, key in section.env.items()})
    return table


def config_error(settings: BotticelliSettings, key: str, problem: str) -> ConfigurationError:
    """A :class:`~botticelli_error.ConfigurationError` saying where ``key`` came from and what is wrong.

    Examples:
        >>> print(config_error(settings_from_dict({}), "model.local.model", "is missing"))
        [botticelli] settings: model.local.model is missing
    """
    return ConfigurationError(f"{settings.origin(key)}: {key} {problem}")


def build_backend_config(settings: BotticelliSettings, name: str) -> Any:
    """The backend ``name``'s validated config model, from its section and the environment already merged.

    Raises:
        ConfigurationError: A required key is missing, or a value is invalid; the message
            names the origin and the key, e.g. ``"botticelli.toml: model.local.max_retries: ..."``.

    Examples:
        >>> build_backend_config(settings_from_dict({"model": {"local": {"model": "phi"}}}), "local").model
        'phi'
        >>> build_backend_config(settings_from_dict({}), "gemini")
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] settings: model.gemini.api_key is missing: export ...
    """
    section = backend_section(name)
    table = f"model.{name}"
    data = getattr(settings.model, name).model_dump(exclude_none=True)
    need = section.unmet(data)
    if need is not None:
        raise config_error(settings, f"{table}.{need.keys[0]}", section.missing_advice(need))

    def label(key: str) -> str:
        dotted = f"{table}.{key}" if key else table
        return f"{settings.origin(dotted)}: {dotted}"

    return validate_named(section.config_class, data, label=label)


def find_config_file(env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Path | None:
    """The configuration file to read, by the search order in :mod:`botticelli.config`, or ``None``.

    Raises:
        ConfigurationError: ``$BOTTICELLI_CONFIG`` names a file that does not exist.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     print(find_config_file({"XDG_CONFIG_HOME": tmp}, cwd=Path(tmp)))
        None
    """
    source = os.environ if env is None else env
    named = source.get(ENV_CONFIG, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"environment variable {ENV_CONFIG}: no configuration file at {named}")
        return path
    local = (cwd or Path.cwd()) / CONFIG_FILE_NAME
    if local.is_file():
        return local
    xdg = source.get("XDG_CONFIG_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path(source.get("HOME", "") or Path.home()).expanduser() / ".config"
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
        ConfigurationError: The file is missing or unreadable, not UTF-8, not valid TOML (the
            message has the line), or holds an unknown key or a value of the wrong type.

    Examples:
        >>> load_settings(env={"BOTTICELLI_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent",
        ...                    "BOTTICELLI_PROVIDER": "gemini"}).model.provider
        'gemini'
    """
    source = os.environ if env is None else env
    if path is not None:
        file: Path | None = Path(path).expanduser()
        assert file is not None  # for the type checker: Path() never returns None
        if not file.is_file():
            raise ConfigurationError(f"{file}: no such configuration file")
    else:
        file = find_config_file(source)
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if file is not None:
        data = _read_toml(file)
        _resolve_paths(data, file.parent)
        origins = {key: str(file) for key in leaf_keys(data)}
        warn_secrets_in_file(data, file)
    return _apply_env(data, origins, source, source_file=file)


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
        ConfigurationError: An unknown key or a value of the wrong type, saying what was
            given and what was expected (``model.local: expected a table (a dict, from
            Python), got a list``).

    Examples:
        >>> settings_from_dict({"model": {"provder": "local"}})
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] settings: model.provder: unknown key; ...
    """
    if not isinstance(data, Mapping):
        # Checked here: the copy below would fail on it with an AttributeError, naming nothing.
        raise ConfigurationError(
            f"settings: expected a dict of tables such as {{'model': {{'provider': 'local'}}}}, "
            f"got {describe_value(data, show=False)}"
        )
    copied = deep_copy(data)
    if base_dir is not None:
        _resolve_paths(copied, base_dir)
    origins = dict.fromkeys(leaf_keys(copied), "settings")
    return _apply_env(copied, origins, env or {}, source_file=None)


def _apply_env(
    data: dict[str, Any], origins: dict[str, str], env: Mapping[str, str], *, source_file: Path | None
) -> BotticelliSettings:
    # With no environment there is nothing to look up, and no backend's section needs loading.
    for name, keys in env_overrides().items() if env else ():
        value = env.get(name, "").strip()
        if value:
            set_path(data, keys, value)
            origins[".".join(keys)] = f"environment variable {name}"
    return validate_tables(data, source=source_file, origins=origins)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries the position: "Expected '=' ... (at line 3, column 9)".
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "TOML files must be saved as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from None


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    keys: list[tuple[str, ...]] = [*_SERVER_PATH_KEYS]
    keys += [("model", section.name, key) for section in backend_sections() for key in section.path_keys]
    for path_keys in keys:
        table = get_path(data, path_keys[:-1])
        value = table.get(path_keys[-1]) if isinstance(table, dict) else None
        if isinstance(value, str) and value:
            if path_keys in _MODEL_REF_KEYS and not _names_a_local_path(value):
                continue
            path = Path(value).expanduser()
            table[path_keys[-1]] = str(path if path.is_absolute() else base / path)
    _resolve_references(data, base)


# Adapter paths may be repository ids ("org/sql-lora") for servers that fetch adapters
# themselves: relative ones resolve against the file's folder only where that file exists.
_ADAPTER_LISTS: tuple[tuple[str, ...], ...] = (("server", "adapters"), ("model", "local", "adapters"))


def _resolve_references(data: dict[str, Any], base: Path) -> None:
    places: list[tuple[dict[str, Any], str]] = []
    for keys in _ADAPTER_LISTS:
        adapters = get_path(data, keys)
        places += [(item, "path") for item in adapters or () if isinstance(item, dict)]
    for table, key in places:
        value = table.get(key)
        if isinstance(value, str) and value and (base / Path(value).expanduser()).exists():
            table[key] = str(base / Path(value).expanduser())


def _names_a_local_path(value: str) -> bool:
    try:
        return ModelRef.parse(value).is_local
    except ConfigurationError:
        return False  # left as written; validating the table names the key and the problem
