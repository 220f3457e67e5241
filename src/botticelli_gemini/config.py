"""Settings of a :class:`~botticelli_gemini.GeminiClient`: key, model, endpoint, limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import Field, SecretStr, field_validator

from botticelli_core import ConfigSection, FrozenModel, Requirement
from botticelli_gemini.rate_limit import RateLimits
from botticelli_transport import BaseUrl, HttpSettings, Timeout, TransportOptions

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "ENV_API_KEY",
    "ENV_MODEL",
    "PROVIDER",
    "SECTION",
    "GeminiConfig",
]

PROVIDER = "gemini"
"""The provider name of the Gemini backend, in errors, logs and ``botticelli.toml``."""
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
"""Google's public Gemini endpoint; the client appends ``/v1beta/models/...``."""
DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_EMBEDDING_MODEL = "gemini-embedding-001"
"""Google's text embedding model (3072 dimensions unless ``outputDimensionality`` shortens them)."""
ENV_API_KEY = "GEMINI_API_KEY"
ENV_MODEL = "GEMINI_MODEL"

# A cloud API answers sooner than a local CPU: shorter waits than the transport's defaults.
DEFAULT_READ_TIMEOUT = 120.0
DEFAULT_TOTAL_TIMEOUT = 600.0
DEFAULT_STREAM_IDLE_TIMEOUT = 60.0
# Google documents a 20 MB limit on a whole generateContent request; inline media
# counts towards it as base64 text.
DEFAULT_MAX_REQUEST_BYTES = 20_000_000


class GeminiConfig(FrozenModel, TransportOptions):
    """How to reach Gemini. Immutable; the API key is a :class:`~pydantic.SecretStr`.

    Args:
        api_key: The Gemini API key, sent only in the ``x-goog-api-key`` header.
        model: The model used when a request does not name one.
        base_url: Scheme and host of the API, without ``/v1beta``.
        read_timeout: Seconds to wait for any byte of a response (120, shorter than the
            transport's default: a cloud API answers sooner than a local CPU).
        total_timeout: Seconds one call may take in all, retries included (600).
        stream_idle_timeout: Seconds a stream may go without a data event (60).
        max_request_bytes: Inline media and text above this size are refused before sending.
        embedding_model: The model :meth:`~botticelli_gemini.GeminiClient.embed` uses when
            the call names none.
        rate_limits: Client-side limits per model name; the key ``"*"`` applies to any
            other model. Empty (the default) means no client-side limiting. See
            :data:`~botticelli_gemini.FREE_TIER_LIMITS` for the free tier's values.

    The other transport options (``connect_timeout``, ``max_retries``, ``max_retry_after``,
    ``backoff_initial``, ``backoff_max``, ``max_connections``) are those of
    :class:`~botticelli_transport.TransportOptions`, with its defaults.

    Example:
        >>> cfg = GeminiConfig(api_key="AIza-example")
        >>> cfg.model, cfg.base_url
        ('gemini-2.5-flash', 'https://generativelanguage.googleapis.com')
        >>> "AIza" in repr(cfg)
        False
    """

    error_provider: ClassVar[str] = PROVIDER

    api_key: SecretStr
    model: str = Field(default=DEFAULT_MODEL, min_length=1)
    base_url: BaseUrl = DEFAULT_BASE_URL
    read_timeout: Timeout = DEFAULT_READ_TIMEOUT
    total_timeout: Timeout = DEFAULT_TOTAL_TIMEOUT
    stream_idle_timeout: Timeout = DEFAULT_STREAM_IDLE_TIMEOUT
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, gt=0)
    rate_limits: Mapping[str, RateLimits] = Field(default_factory=dict)
    embedding_model: str = Field(default=DEFAULT_EMBEDDING_MODEL, min_length=1)

    @field_validator("api_key")
    @classmethod
    def _key_not_blank(cls, key: SecretStr) -> SecretStr:
        if not key.get_secret_value().strip():
            raise ValueError("the Gemini API key is empty")
        return key

    @field_validator("model", "embedding_model")
    @classmethod
    def _bare_model_name(cls, model: str) -> str:
        # The API names models "models/gemini-2.5-flash"; accept that spelling too.
        return model.removeprefix("models/")

    @field_validator("base_url")
    @classmethod
    def _without_api_version(cls, url: str) -> str:
        if url.endswith("/v1beta"):
            raise ValueError("base_url must not include /v1beta; the client appends it")
        return url

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Settings from ``GEMINI_API_KEY`` (required) and ``GEMINI_MODEL`` (optional).

        Args:
            env: Where to read variables from; ``os.environ`` when omitted.
            **overrides: Other fields of :class:`GeminiConfig`, which win over the environment.

        Raises:
            ConfigurationError: ``GEMINI_API_KEY`` is missing or empty, or a setting is invalid.

        Example:
            >>> GeminiConfig.from_env({"GEMINI_API_KEY": "k", "GEMINI_MODEL": "gemini-2.5-pro"}).model
            'gemini-2.5-pro'
            >>> GeminiConfig.from_env({})
            Traceback (most recent call last):
            ...
            botticelli_error.errors.ConfigurationError: [gemini] GEMINI_API_KEY is not set: export it with your key...
        """
        return cls(**SECTION.values_from_env(env, overrides))

    @classmethod
    def build(cls, **values: Any) -> Self:
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

    def http_settings(self) -> HttpSettings:
        """The transport settings this configuration implies; the key goes in ``x-goog-api-key``."""
        return HttpSettings.from_config(self, provider=PROVIDER, secret_headers={"x-goog-api-key": self.api_key})


SECTION = ConfigSection(
    name=PROVIDER,
    config_class=GeminiConfig,
    env={ENV_API_KEY: "api_key", ENV_MODEL: "model"},
    required=(Requirement(("api_key",), "your key from Google AI Studio"),),
    client="botticelli_gemini.client:GeminiClient",
)
"""The ``[model.gemini]`` section: :class:`GeminiConfig`, its environment variables and required keys."""
