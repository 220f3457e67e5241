"""The opt-in restart policy of an autostarted inference server: how many restarts, how far apart."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RestartPolicy"]


class RestartPolicy(BaseModel):
    """``[server] restart = { max_restarts = 3, backoff = 1.0 }``: restart a crashed server, boundedly.

    When the server botticelli started has exited, the next call restarts it (after a
    pause) instead of failing, at most ``max_restarts`` times over the client's life; the
    pause starts at ``backoff`` seconds and doubles with each restart, up to ``max_backoff``.
    Once the restarts are spent, a crash is a :class:`~botticelli_error.ServerCrashedError`.

    Examples:
        >>> policy = RestartPolicy(max_restarts=3, backoff=0.5)
        >>> [policy.delay(n) for n in (1, 2, 3)]
        [0.5, 1.0, 2.0]
        >>> RestartPolicy(backoff=20).delay(3)
        30.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_restarts: int = Field(default=3, ge=1, le=1000)
    backoff: float = Field(default=1.0, ge=0.0, le=300.0)
    max_backoff: float = Field(default=30.0, ge=0.0, le=3600.0)

    def delay(self, restart: int) -> float:
        """Seconds to wait before the ``restart``-th restart (counted from 1)."""
        return float(min(self.backoff * 2 ** (restart - 1), self.max_backoff))
