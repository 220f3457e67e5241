"""What a backend can tell about itself: its models and whether it is ready."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from botticelli_core._base import FrozenModel

__all__ = ["HealthStatus", "ModelInfo"]


class ModelInfo(FrozenModel):
    """One model a backend offers.

    Examples:
        >>> ModelInfo(id="phi-3.5-mini").id
        'phi-3.5-mini'
    """

    id: str
    owned_by: str | None = None
    status: str | None = None
    """The server's own word for the model's state, where it gives one (``"loaded"``)."""
    context_length: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    """Everything else the server said about the model, unparsed."""


class HealthStatus(FrozenModel):
    """Whether a backend can take requests now.

    Examples:
        >>> HealthStatus(ready=False, status="loading", detail="Loading model").ready
        False
    """

    ready: bool
    status: str
    """``"ok"``, ``"loading"``, ``"unavailable"`` or ``"unreachable"``."""
    detail: str | None = None
    latency_s: float | None = None
