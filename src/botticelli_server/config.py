"""Settings of the local-server backend, from code or from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from botticelli_core import FrozenModel
from botticelli_error import ConfigurationError
from botticelli_transport import HttpSettings
from botticelli_transport.settings import (
    DEFAULT_BACKOFF_INITIAL,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_STREAM_IDLE_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
)

__all__ = ["DEFAULT_BASE_URL", "PROVIDER", "ServerConfig"]

PROVIDER = "local"
DEFAULT_BASE_URL = "http://localhost:8080"

ENV_BASE_URL = "INFERENCE_SERVER_BASE_URL"
ENV_MODEL = "INFERENCE_SERVER_MODEL"
ENV_API_KEY = "INFERENCE_SERVER_API_KEY"


class ServerConfig(FrozenModel):
    """How to reach an OpenAI-compatible inference server.

    ``base_url`` may be given with or without its ``/v1`` suffix; timeouts are in
    seconds and ``None`` turns one off. The API key is held as a secret: it is never
    shown by ``repr``, logs or errors.

    Examples:
        >>> cfg = ServerConfig(base_url="http://127.0.0.1:1234/v1/", model="default", api_key="sk-1")
        >>> cfg.base_url, cfg.model
        ('http://127.0.0.1:1234', 'default')
        >>> "sk-1" in repr(cfg)
        False
    """

    error_provider: ClassVar[str] = PROVIDER

    base_url: str = DEFAULT_BASE_URL
    model: str = Field(min_length=1)
    """The model to request when a request names none (mistral.rs accepts ``"default"``)."""
    api_key: SecretStr | None = None
    connect_timeout: float | None = Field(default=DEFAULT_CONNECT_TIMEOUT, gt=0)
    read_timeout: float | None = Field(default=DEFAULT_READ_TIMEOUT, gt=0)
    total_timeout: float | None = Field(default=DEFAULT_TOTAL_TIMEOUT, gt=0)
    """Deadline for a whole call, retries and backoff included."""
    stream_idle_timeout: float | None = Field(default=DEFAULT_STREAM_IDLE_TIMEOUT, gt=0)
    """Longest gap between data events of a stream; keep-alive comments do not reset it."""
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, le=20)
    max_retry_after: float = Field(default=DEFAULT_MAX_RETRY_AFTER, ge=0)
    """A server asking to wait longer than this gets its error raised at once."""
    backoff_initial: float = Field(default=DEFAULT_BACKOFF_INITIAL, ge=0)
    """First wait between retries when the server names none; it doubles each time, with jitter."""
    backoff_max: float = Field(default=DEFAULT_BACKOFF_MAX, ge=0)
    max_connections: int = Field(default=DEFAULT_MAX_CONNECTIONS, gt=0)
    include_usage: bool = True
    """Send ``stream_options.include_usage`` so servers report usage on streams (a few reject it)."""
    log_content: bool = False
    """Add prompts and outputs to the request log; off by default, for privacy."""

    @field_validator("base_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host, like http://localhost:8080")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query string or fragment")
        if url.endswith("/v1"):
            url = url[: -len("/v1")]
        return url

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Read ``INFERENCE_SERVER_BASE_URL``, ``INFERENCE_SERVER_MODEL`` and ``INFERENCE_SERVER_API_KEY``.

        Args:
            env: Where to read from; ``os.environ`` by default.
            **overrides: Other settings (timeouts, retries...) given in code.

        Raises:
            ConfigurationError: ``INFERENCE_SERVER_MODEL`` is unset, or a value is invalid.

        Examples:
            >>> ServerConfig.from_env({"INFERENCE_SERVER_MODEL": "phi"}).base_url
            'http://localhost:8080'
        """
        source = os.environ if env is None else env
        model = source.get(ENV_MODEL, "").strip()
        if not model and "model" not in overrides:
            raise ConfigurationError(
                f"{ENV_MODEL} is not set: name the model the server serves "
                f"(mistral.rs accepts 'default'; see GET {{base_url}}/v1/models)",
                provider=PROVIDER,
            )
        data: dict[str, Any] = {"base_url": source.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL}
        if model:
            data["model"] = model
        if key := source.get(ENV_API_KEY, "").strip():
            data["api_key"] = key
        data.update(overrides)
        return cls(**data)

    def http_settings(self) -> HttpSettings:
        """The transport settings this configuration implies."""
        secret = {"Authorization": SecretStr(f"Bearer {self.api_key.get_secret_value()}")} if self.api_key else {}
        return HttpSettings.from_config(self, provider=PROVIDER, secret_headers=secret)
