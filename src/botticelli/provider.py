"""The provider factory: settings in, a :class:`~botticelli_interface.GenerativeModel` out.

Each backend is imported only when it is chosen, so ``import botticelli`` stays fast and a
missing optional extra costs nothing until that backend is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Protocol, Self

from pydantic import BaseModel

from botticelli._clients import create_backend, create_chain
from botticelli.config import PROVIDERS, BotticelliSettings, build_backend_config, load_settings, settings_from_dict
from botticelli_error import ConfigurationError
from botticelli_interface import GenerativeModel

__all__ = ["ModelClient", "ModelProvider"]


class ModelClient(GenerativeModel, Protocol):
    """What :meth:`ModelProvider.create_client` returns: a model that is also an async context manager."""

    async def __aenter__(self) -> Self:
        """Enter; the client is ready to use."""
        ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the client."""
        ...

    async def aclose(self) -> None:
        """Release the client's connections, processes or engine. Safe to call twice."""
        ...


class ModelProvider:
    """Chooses and builds the configured backend: ``local``, ``gemini``, ``embedded``, ``hybrid`` or ``fallback``.

    Every backend setting the chosen provider needs is checked when the provider is made,
    so configuration mistakes surface at once, before any connection. The clients it
    creates are async context managers: use ``async with provider.create_client() as model``.

    Args:
        settings: Merged settings, from :func:`~botticelli.config.load_settings` or
            :func:`~botticelli.config.settings_from_dict`.

    Raises:
        ConfigurationError: A setting the chosen backend needs is missing or invalid.

    Examples:
        >>> provider = ModelProvider.from_dict({"model": {"provider": "local", "local": {"model": "phi"}}})
        >>> provider.provider_name
        'local'
        >>> client = provider.create_client()
        >>> client.provider_name, client.model_name
        ('local', 'phi')
        >>> ModelProvider.from_dict({"model": {"provider": "openai"}})
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] settings: model.provider: unknown provider 'openai'...
    """

    def __init__(self, settings: BotticelliSettings) -> None:
        self.settings = settings
        # Validated now, so a mistake is reported by from_config rather than at first use.
        self._configs = {name: self._backend_config(name) for name in self.backends}

    def __repr__(self) -> str:
        return f"ModelProvider(provider={self.provider_name!r}, source={self.settings.origin('model.provider')!r})"

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> ModelProvider:
        """Read ``botticelli.toml`` (``path``, or the search order of :mod:`botticelli.config`) and the environment.

        Args:
            path: A configuration file; it must exist. ``None`` searches, and no file is fine.
            env: The environment; ``os.environ`` when omitted.
            provider: Overrides ``model.provider`` (as a command-line option would).
            model: Overrides the chosen backend's model (see :meth:`with_overrides`).

        Raises:
            ConfigurationError: Naming the file (or variable), the key and what was expected.
        """
        return cls(_overridden(load_settings(path, env=env), provider=provider, model=model))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ModelProvider:
        """Only the environment: ``BOTTICELLI_PROVIDER`` (default ``local``) and the backends' variables.

        Examples:
            >>> ModelProvider.from_env({"BOTTICELLI_PROVIDER": "gemini", "GEMINI_API_KEY": "k"}).provider_name
            'gemini'
        """
        return cls(settings_from_dict({}, env=os.environ if env is None else env))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> ModelProvider:
        """Settings shaped like the TOML file; the environment applies only when ``env`` is given."""
        return cls(settings_from_dict(data, env=env))

    def with_overrides(self, *, provider: str | None = None, model: str | None = None) -> ModelProvider:
        """A provider with another backend chosen, or another model for the chosen backend.

        Args:
            provider: One of ``local``, ``gemini``, ``embedded``, ``hybrid``, ``fallback``.
            model: The model of the chosen backend (not possible for ``hybrid`` or ``fallback``,
                which have several).

        Raises:
            ConfigurationError: An unknown provider, or ``model`` with the hybrid or fallback provider.

        Examples:
            >>> base = ModelProvider.from_dict({"model": {"local": {"model": "phi"}}})
            >>> base.with_overrides(model="qwen").create_client().model_name
            'qwen'
        """
        settings = _overridden(self.settings, provider=provider, model=model)
        return self if settings is self.settings else ModelProvider(settings)

    # -- what it builds ------------------------------------------------------------------

    @property
    def provider_name(self) -> str:
        """The chosen provider: ``local``, ``gemini``, ``embedded``, ``hybrid`` or ``fallback``."""
        return self.settings.model.provider

    @property
    def backends(self) -> tuple[str, ...]:
        """The backends the chosen provider uses: one, the hybrid's preferred then fallback, or the chain in order."""
        if self.provider_name == "hybrid":
            hybrid = self.settings.model.hybrid
            return (hybrid.prefer, hybrid.fallback)
        if self.provider_name == "fallback":
            return self.settings.model.fallback.backends()
        return (self.provider_name,)

    def backend_config(self, name: str) -> BaseModel:
        """The validated config model of one backend in use (``ServerConfig``, ``GeminiConfig``, ``EmbeddedConfig``).

        Raises:
            ConfigurationError: ``name`` is not a backend the chosen provider uses.
        """
        try:
            return self._configs[name]
        except KeyError:
            raise ConfigurationError(
                f"the {self.provider_name!r} provider does not use the {name!r} backend "
                f"(it uses {', '.join(self.backends)})"
            ) from None

    def create_client(self) -> ModelClient:
        """A new client of the chosen provider; close it (``async with``) when done.

        Raises:
            ConfigurationError: The backend's optional extra is not installed.
        """
        if self.provider_name == "fallback":
            return create_chain(self.settings.model.fallback, self._configs)
        if self.provider_name != "hybrid":
            return self._create(self.provider_name)
        from botticelli.hybrid import HybridModel  # noqa: PLC0415 - imported only when chosen

        prefer, fallback = self.backends
        return HybridModel(self._create(prefer), self._create(fallback), policy=self.settings.model.hybrid.policy())

    def _create(self, name: str) -> ModelClient:
        if name == "local" and self._autostarts:
            from botticelli.autostart import autostarted_client  # noqa: PLC0415 - imported only when chosen

            return autostarted_client(self.settings, self._configs[name])
        return create_backend(name, self._configs[name])

    def _backend_config(self, name: str) -> BaseModel:
        if name == "local" and self._autostarts:
            from botticelli._autostart_config import autostart_config  # noqa: PLC0415 - imported only when chosen

            return autostart_config(self.settings)
        config: BaseModel = build_backend_config(self.settings, name)
        return config

    @property
    def _autostarts(self) -> bool:
        # [server] autostart: the local backend's client starts (and stops) that server itself.
        return self.settings.server is not None and self.settings.server.autostart


# How many backends a provider over several uses, for the message refusing a model override.
_SEVERAL = {"hybrid": "two", "fallback": "a chain of them"}


def _overridden(settings: BotticelliSettings, *, provider: str | None, model: str | None) -> BotticelliSettings:
    values: dict[str, Any] = {}
    if provider is not None:
        if provider not in PROVIDERS:
            raise ConfigurationError(f"unknown provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
        values["model.provider"] = provider
    chosen = provider or settings.model.provider
    if model is not None:
        if chosen in ("hybrid", "fallback"):
            raise ConfigurationError(
                f"a model override names one backend's model, and {chosen} uses {_SEVERAL[chosen]}: "
                "set model.<backend>.model in the configuration file instead"
            )
        values[f"model.{chosen}.model"] = model
    return settings.with_values(values, origin="command line") if values else settings
