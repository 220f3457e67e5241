"""Settings of a :class:`~botticelli_gemini.GeminiClient`: key, model, endpoint, limits."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, SecretStr, field_validator

from botticelli_core import FrozenModel
from botticelli_error import ConfigurationError
from botticelli_gemini.rate_limit import RateLimits
from botticelli_transport.settings import DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "ENV_API_KEY",
    "ENV_MODEL",
    "GeminiConfig",
]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
"""Google's public Gemini endpoint; the client appends ``/v1beta/models/...``."""
DEFAULT_MODEL = "gemini-2.5-flash"
ENV_API_KEY = "GEMINI_API_KEY"
ENV_MODEL = "GEMINI_MODEL"

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 120.0
DEFAULT_TOTAL_TIMEOUT = 600.0
DEFAULT_STREAM_IDLE_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_AFTER = 60.0
# Google documents a 20 MB limit on a whole generateContent request; inline media
# counts towards it as base64 text.
DEFAULT_MAX_REQUEST_BYTES = 20_000_000


class GeminiConfig(FrozenModel):
    """How to reach Gemini. Immutable; the API key is a :class:`~pydantic.SecretStr`.

    Args:
        api_key: The Gemini API key, sent only in the ``x-goog-api-key`` header.
        model: The model used when a request does not name one.
        base_url: Scheme and host of the API, without ``/v1beta``.
        connect_timeout: Seconds to establish a connection.
        read_timeout: Seconds to wait for any byte of a response.
        total_timeout: Seconds one call may take in all, retries included.
        stream_idle_timeout: Seconds a stream may go without a data event.
        max_retries: Retries after the first attempt for retryable errors.
        max_retry_after: The longest server-requested wait honoured before a retry.
        backoff_initial: First wait, in seconds, of the exponential backoff between retries
            (used when Gemini names no wait of its own).
        backoff_max: Longest backoff wait.
        max_request_bytes: Inline media and text above this size are refused before sending.
        rate_limits: Client-side limits per model name; the key ``"*"`` applies to any
            other model. Empty (the default) means no client-side limiting. See
            :data:`~botticelli_gemini.FREE_TIER_LIMITS` for the free tier's values.

    Example:
        >>> cfg = GeminiConfig(api_key="AIza-example")
        >>> cfg.model, cfg.base_url
        ('gemini-2.5-flash', 'https://generativelanguage.googleapis.com')
        >>> "AIza" in repr(cfg)
        False
    """

    error_provider: ClassVar[str] = "gemini"

    api_key: SecretStr
    model: str = Field(default=DEFAULT_MODEL, min_length=1)
    base_url: str = DEFAULT_BASE_URL
    connect_timeout: float = Field(default=DEFAULT_CONNECT_TIMEOUT, gt=0)
    read_timeout: float = Field(default=DEFAULT_READ_TIMEOUT, gt=0)
    total_timeout: float | None = Field(default=DEFAULT_TOTAL_TIMEOUT, gt=0)
    stream_idle_timeout: float | None = Field(default=DEFAULT_STREAM_IDLE_TIMEOUT, gt=0)
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0)
    max_retry_after: float = Field(default=DEFAULT_MAX_RETRY_AFTER, ge=0)
    backoff_initial: float = Field(default=DEFAULT_BACKOFF_INITIAL, ge=0)
    backoff_max: float = Field(default=DEFAULT_BACKOFF_MAX, ge=0)
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, gt=0)
    rate_limits: Mapping[str, RateLimits] = Field(default_factory=dict)

    @field_validator("api_key")
    @classmethod
    def _key_not_blank(cls, key: SecretStr) -> SecretStr:
        if not key.get_secret_value().strip():
            raise ValueError("the Gemini API key is empty")
        return key

    @field_validator("model")
    @classmethod
    def _bare_model_name(cls, model: str) -> str:
        # The API names models "models/gemini-2.5-flash"; accept that spelling too.
        return model.removeprefix("models/")

    @field_validator("base_url")
    @classmethod
    def _http_base_url(cls, url: str) -> str:
        url = url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
        if url.endswith("/v1beta"):
            raise ValueError("base_url must not include /v1beta; the client appends it")
        return url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> GeminiConfig:
        """Settings from ``GEMINI_API_KEY`` (required) and ``GEMINI_MODEL`` (optional).

        Args:
            environ: Where to read variables from; ``os.environ`` when omitted.
            **overrides: Other fields of :class:`GeminiConfig`, which win over the environment.

        Raises:
            ConfigurationError: ``GEMINI_API_KEY`` is missing or empty, or a setting is invalid.

        Example:
            >>> GeminiConfig.from_env({"GEMINI_API_KEY": "k", "GEMINI_MODEL": "gemini-2.5-pro"}).model
            'gemini-2.5-pro'
            >>> GeminiConfig.from_env({})
            Traceback (most recent call last):
            ...
            botticelli_error.errors.ConfigurationError: [gemini] GEMINI_API_KEY is not set; ...
        """
        env = os.environ if environ is None else environ
        key = env.get(ENV_API_KEY, "").strip()
        if not key:
            raise ConfigurationError(
                f"{ENV_API_KEY} is not set; export it with your key from Google AI Studio",
                provider="gemini",
            )
        values: dict[str, Any] = {"api_key": key}
        model = env.get(ENV_MODEL, "").strip()
        if model:
            values["model"] = model
        values.update(overrides)
        return cls.build(**values)

    @classmethod
    def build(cls, **values: Any) -> GeminiConfig:
        """Validate settings given as keywords; the same as calling the class.

        Bad values raise :class:`~botticelli_error.ConfigurationError` naming each field
        at fault, and never the key.

        Examples:
            >>> GeminiConfig.build(api_key="k", max_retries=-1)
            Traceback (most recent call last):
            ...
            botticelli_error.errors.ConfigurationError: [gemini] invalid GeminiConfig: GeminiConfig.max_retries: ...
        """
        return cls(**values)

    def limits_for(self, model: str) -> RateLimits | None:
        """The client-side limits that apply to ``model``, if any.

        Example:
            >>> cfg = GeminiConfig(api_key="k", rate_limits={"*": RateLimits(requests_per_minute=5)})
            >>> cfg.limits_for("gemini-2.5-pro").requests_per_minute
            5
        """
        return self.rate_limits.get(model, self.rate_limits.get("*"))
