"""What a transport needs to know: where to connect, what to send, how long to wait."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "DEFAULT_BACKOFF_INITIAL",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_STREAM_IDLE_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "HttpSettings",
]

# The defaults, in one place. Local CPU inference is slow: a long prompt can take
# minutes to prefill, so read limits are generous while connect fails fast.
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 300.0
DEFAULT_TOTAL_TIMEOUT = 900.0
DEFAULT_STREAM_IDLE_TIMEOUT = 120.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_AFTER = 60.0
DEFAULT_BACKOFF_INITIAL = 0.5
DEFAULT_BACKOFF_MAX = 8.0
DEFAULT_MAX_CONNECTIONS = 1000


class HttpSettings(BaseModel):
    """Connection, timeout and retry settings of one :class:`HttpTransport`.

    Every timeout is in seconds; ``None`` turns that limit off.

    Examples:
        >>> s = HttpSettings(provider="local", base_url="http://127.0.0.1:8080",
        ...                  secret_headers={"Authorization": "Bearer sk-secret"})
        >>> "sk-secret" in repr(s)
        False
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    base_url: str
    headers: dict[str, str] = {}
    secret_headers: dict[str, SecretStr] = {}
    """Headers carrying credentials; their values are scrubbed from every error and log."""
    connect_timeout: float | None = Field(default=DEFAULT_CONNECT_TIMEOUT, gt=0)
    read_timeout: float | None = Field(default=DEFAULT_READ_TIMEOUT, gt=0)
    """Longest wait for any single read (for a non-streamed call: for the whole answer to start)."""
    total_timeout: float | None = Field(default=DEFAULT_TOTAL_TIMEOUT, gt=0)
    """Deadline for the whole call, retries and backoff included."""
    stream_idle_timeout: float | None = Field(default=DEFAULT_STREAM_IDLE_TIMEOUT, gt=0)
    """Longest gap between two data events of a stream; keep-alive comments do not count."""
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, le=20)
    max_retry_after: float = Field(default=DEFAULT_MAX_RETRY_AFTER, ge=0)
    """A server asking for a longer wait than this gets an immediate error instead."""
    backoff_initial: float = Field(default=DEFAULT_BACKOFF_INITIAL, ge=0)
    backoff_max: float = Field(default=DEFAULT_BACKOFF_MAX, ge=0)
    max_connections: int = Field(default=DEFAULT_MAX_CONNECTIONS, gt=0)

    @classmethod
    def from_config(
        cls, config: BaseModel, *, provider: str, secret_headers: Mapping[str, SecretStr] | None = None
    ) -> HttpSettings:
        """Transport settings from a backend's configuration.

        Every setting the backend's configuration has under the same name (``base_url``,
        the timeouts, the retry policy, ``max_connections``...) is copied, so a setting
        added here reaches every backend that offers it without a second list to update.

        Examples:
            >>> class Backend(BaseModel):
            ...     base_url: str = "http://127.0.0.1:8080"
            ...     max_retries: int = 5
            ...     model: str = "tiny"
            >>> settings = HttpSettings.from_config(Backend(), provider="local")
            >>> settings.base_url, settings.max_retries, settings.read_timeout
            ('http://127.0.0.1:8080', 5, 300.0)
        """
        own = {"provider", "headers", "secret_headers"}
        shared = {name: getattr(config, name) for name in cls.model_fields if name not in own and hasattr(config, name)}
        return cls(provider=provider, secret_headers=dict(secret_headers or {}), **shared)

    def secrets(self) -> tuple[str, ...]:
        """The secret values to scrub, including their bare forms (without ``Bearer``)."""
        values: list[str] = []
        for secret in self.secret_headers.values():
            raw = secret.get_secret_value()
            values.append(raw)
            _, _, bare = raw.partition(" ")
            if bare:
                values.append(bare)
        return tuple(v for v in values if v)
