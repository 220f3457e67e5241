"""Building clients from validated backend configs: one backend, a replica pool, or a fallback chain.

The provider factory calls these; each backend's module is imported only when it is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from botticelli.config._backends import backend_section

if TYPE_CHECKING:
    from botticelli.config._chain import FallbackSection
    from botticelli.provider import ModelClient

__all__ = ["create_backend", "create_chain"]


def create_backend(name: str, config: BaseModel) -> ModelClient:
    """The client of backend ``name``: for ``local`` with ``base_urls``, a replica pool over them."""
    if name == "local" and getattr(config, "base_urls", None):
        from botticelli.routing import ReplicaPool  # noqa: PLC0415 - imported only when chosen

        return ReplicaPool.from_config(config)
    # The client's module is imported here, so that only the chosen backends are ever loaded.
    client: ModelClient = backend_section(name).create_client(config)
    return client


def create_chain(section: FallbackSection, configs: Mapping[str, Any]) -> ModelClient:
    """A :class:`~botticelli.routing.FallbackModel` over the chain's entries, in order.

    An entry's model (``"gemini:gemini-2.5-pro"``) replaces its section's ``model``.
    """
    from botticelli.routing import FallbackModel  # noqa: PLC0415 - imported only when chosen

    members = []
    for entry in section.entries():
        config: BaseModel = configs[entry.backend]
        if entry.model is not None:
            config = config.model_copy(update={"model": entry.model})
        members.append(create_backend(entry.backend, config))
    return FallbackModel(*members, failure_threshold=section.failure_threshold, cooldown=section.cooldown)
