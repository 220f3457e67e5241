"""A backend's configuration section, declared once as data: name, model, variables, required keys."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel

from botticelli_core._base import is_secret_name
from botticelli_error import ConfigurationError

__all__ = ["ConfigSection", "Requirement"]

C = TypeVar("C", bound=BaseModel)


# NamedTuples rather than frozen dataclasses: they are immutable too, and building the
# class costs a tenth as much at import time, which every client pays.
class Requirement(NamedTuple):
    """A setting a backend cannot start without: any one of ``keys``, with advice on what to give.

    Args:
        keys: The fields that satisfy it; the first one is the one error messages name.
        hint: What to give, e.g. ``"name the model the server serves"``; for a credential,
            where it comes from (``"your key from Google AI Studio"``).
    """

    keys: tuple[str, ...]
    hint: str


class ConfigSection(NamedTuple, Generic[C]):
    """Everything botticelli needs to know to configure one backend, in one declaration.

    The backend's ``from_env``, botticelli's ``botticelli.toml`` and environment loading,
    and the provider factory all read it, so a variable's name is written once.

    Args:
        name: The provider name and the ``[model.<name>]`` table of ``botticelli.toml``.
        config_class: The backend's settings model.
        env: Environment variable -> the field it sets.
        required: What must be given, by a variable, a table or in code.
        path_keys: Fields holding file paths; relative ones in a file resolve against its folder.
        client: The backend's client, as ``"module:Class"``, built from one ``config_class``
            instance; a name rather than the class, so the config module need not import it.

    Examples:
        >>> from botticelli_core import FrozenModel
        >>> class Demo(FrozenModel):
        ...     model: str
        ...     api_key: str | None = None
        >>> section = ConfigSection("demo", Demo, env={"DEMO_MODEL": "model", "DEMO_KEY": "api_key"},
        ...                         required=(Requirement(("model",), "name the model"),))
        >>> section.from_env({"DEMO_MODEL": " tiny "}).model
        'tiny'
        >>> section.from_env({})
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [demo] DEMO_MODEL is not set: name the model
    """

    name: str
    config_class: type[C]
    env: Mapping[str, str]
    required: tuple[Requirement, ...] = ()
    path_keys: tuple[str, ...] = ()
    client: str = ""

    def create_client(self, config: C) -> Any:
        """A new client of this backend for ``config``, importing the client's module on first use."""
        module, _, name = self.client.partition(":")
        return getattr(importlib.import_module(module), name)(config)

    def variable(self, key: str) -> str | None:
        """The environment variable that sets ``key``, if there is one."""
        return next((name for name, target in self.env.items() if target == key), None)

    def env_values(self, env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
        """``field -> (value, variable)`` for each of this section's variables that is set and not blank."""
        found: dict[str, tuple[str, str]] = {}
        for name, key in self.env.items():
            value = env.get(name, "").strip()
            if value:
                found[key] = (value, name)
        return found

    def unmet(self, data: Mapping[str, Any]) -> Requirement | None:
        """The first requirement ``data`` does not meet, or ``None``."""
        return next((need for need in self.required if not any(key in data for key in need.keys)), None)

    def missing_advice(self, need: Requirement) -> str:
        """``"is missing: ..."``: what to write, or which variable to set, for an unmet requirement."""
        variable = self.variable(need.keys[0])
        if variable is None:
            return f"is missing: {need.hint}"
        if is_secret_name(need.keys[0]):
            # Credentials belong in the environment, not in a file that ends up in version control.
            return f"is missing: export {variable} with {need.hint}"
        return f"is missing: {need.hint}, or set {variable}"

    def values_from_env(self, env: Mapping[str, str] | None, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """The keywords of ``config_class`` from the environment, with ``overrides`` winning.

        Raises:
            ConfigurationError: A requirement is met neither by a variable nor by an override.
        """
        source = os.environ if env is None else env
        values: dict[str, Any] = {key: value for key, (value, _) in self.env_values(source).items()}
        values.update(overrides)
        need = self.unmet(values)
        if need is not None:
            variable = self.variable(need.keys[0]) or need.keys[0]
            advice = f"export it with {need.hint}" if is_secret_name(need.keys[0]) else need.hint
            raise ConfigurationError(f"{variable} is not set: {advice}", provider=self.name)
        return values

    def from_env(self, env: Mapping[str, str] | None = None, **overrides: Any) -> C:
        """The backend's settings from the environment (``os.environ`` when ``env`` is omitted).

        Raises:
            ConfigurationError: A required variable is unset, or a value is invalid.
        """
        return self.config_class(**self.values_from_env(env, overrides))
