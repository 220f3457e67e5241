"""Helpers for the nested dicts a TOML file reads into, and for naming where a key came from."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["deep_copy", "get_path", "leaf_keys", "origin_of", "set_path"]


def set_path(data: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    """Set ``data[k1][k2]...`` to ``value``, making the tables on the way.

    Examples:
        >>> data = {}
        >>> set_path(data, ("model", "local", "model"), "phi")
        >>> data
        {'model': {'local': {'model': 'phi'}}}
    """
    table = data
    for key in keys[:-1]:
        nested = table.get(key)
        if not isinstance(nested, dict):
            nested = {}
            table[key] = nested
        table = nested
    table[keys[-1]] = value


def get_path(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """``data[k1][k2]...``, or ``None`` where a table or the key is missing."""
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def leaf_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted names of every value that is not a table.

    Examples:
        >>> leaf_keys({"model": {"provider": "local", "local": {"model": "phi"}}})
        ['model.provider', 'model.local.model']
    """
    keys: list[str] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            keys.extend(leaf_keys(value, dotted + "."))
        else:
            keys.append(dotted)
    return keys


def deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy whose tables can be changed without touching ``data``'s."""
    return {key: deep_copy(value) if isinstance(value, Mapping) else value for key, value in data.items()}


def origin_of(key: str, origins: Mapping[str, str], source: Path | None) -> str:
    """Where the dotted ``key`` (or the table holding it) was set; for a key nobody set, where it belongs.

    Examples:
        >>> origin_of("model.local.model", {"model.local": "botticelli.toml"}, None)
        'botticelli.toml'
        >>> origin_of("model.local.model", {}, None)
        'settings'
    """
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        found = origins.get(".".join(parts[:end]))
        if found is not None:
            return found
    # A key nobody set: blame the file when there is one (that is where it belongs).
    if source is not None:
        return str(source)
    files = sorted({origin for origin in origins.values() if not origin.startswith("environment variable")})
    return files[0] if files else "settings"
