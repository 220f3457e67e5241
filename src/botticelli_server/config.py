"""Settings of the local-server backend, from code or from the environment."""

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from botticelli_core import ConfigSection, FrozenModel, LoraAdapter, Requirement
from botticelli_core._text import NotBool
from botticelli_core.adapters import repeated_names
from botticelli_core.request import MAX_TOKENS_LIMIT
from botticelli_transport import BaseUrl, HttpSettings, TransportOptions

__all__ = ["DEFAULT_BASE_URL", "PROVIDER", "SECTION", "DialectName", "ServerConfig"]

PROVIDER = "local"
"""The provider name of the local-server backend, in errors, logs and ``botticelli.toml``."""
DEFAULT_BASE_URL = "http://localhost:8080"

DialectName = Literal["openai", "llama-cpp-python", "llama.cpp", "mistral.rs", "vllm", "ollama", "auto"]
"""Which OpenAI-compatible server is on the other end, for the features they spell differently
(structured output, thinking, adapters). ``"openai"`` is the plain protocol; ``"auto"`` asks
the server once what it is."""


class ServerConfig(FrozenModel, TransportOptions):
    """How to reach an OpenAI-compatible inference server.

    ``base_url`` may be given with or without its ``/v1`` suffix; timeouts are in
    seconds and ``None`` turns one off (the transport options are those of
    :class:`~botticelli_transport.TransportOptions`). The API key is held as a secret:
    it is never shown by ``repr``, logs or errors.

    Examples:
        >>> cfg = ServerConfig(base_url="http://127.0.0.1:1234/v1/", model="default", api_key="sk-1")
        >>> cfg.base_url, cfg.model
        ('http://127.0.0.1:1234', 'default')
        >>> "sk-1" in repr(cfg)
        False
    """

    error_provider: ClassVar[str] = PROVIDER

    base_url: BaseUrl = DEFAULT_BASE_URL
    base_urls: tuple[BaseUrl, ...] = ()
    """Several servers of the same model: botticelli's provider then builds a replica pool
    (``botticelli.routing.ReplicaPool``) over them, and ``base_url`` is not used."""
    health_check_interval: float | None = Field(default=10.0, gt=0)
    """With ``base_urls``: seconds between active health checks of each replica (``None``: none)."""
    eject_after: int = Field(default=3, ge=1)
    """With ``base_urls``: consecutive failures that eject a replica (open its breaker)."""
    eject_cooldown: float = Field(default=30.0, ge=0)
    """With ``base_urls``: seconds an ejected replica waits before one trial request."""
    pool_balance: Literal["affinity", "least_outstanding"] = "affinity"
    """With ``base_urls``: ``"affinity"`` keeps each conversation on the replica that holds its
    cache (bounded by load); ``"least_outstanding"`` sends each request to the least busy one."""
    model: str = Field(min_length=1)
    """The model to request when a request names none (mistral.rs accepts ``"default"``)."""
    max_tokens: Annotated[int, NotBool] | None = Field(default=None, gt=0, le=MAX_TOKENS_LIMIT)
    """The bound on generated tokens of a request that sets no ``max_tokens`` of its own.
    ``None`` sends none: the server's own default, which for most is "until the context is
    full" (see docs/configuration.md for why botticelli sets no number itself)."""
    api_key: SecretStr | None = None
    dialect: DialectName = "openai"
    """The server's dialect of the protocol (see :data:`DialectName`)."""
    adapters: tuple[LoraAdapter, ...] = ()
    """The LoRA adapters the server has loaded, in its order, for ``GenerateRequest.adapter``
    (see :mod:`botticelli_server.adapters`)."""
    include_usage: bool = True
    """Send ``stream_options.include_usage`` so servers report usage on streams (a few reject it)."""
    log_content: bool = False
    """Add prompts and outputs to the request log; off by default, for privacy."""
    embedding_model: str | None = None
    """The model :meth:`~botticelli_server.ServerClient.embed` asks for; ``None`` means ``model``."""
    embed_pooling: Literal["mean"] | None = None
    """Pool token-level embeddings (llama-cpp-python without a pooling type) by their mean;
    ``None`` refuses them with :class:`~botticelli_error.EmbeddingShapeError`."""
    embed_batch_size: int = Field(default=64, ge=1)
    """Inputs per ``/v1/embeddings`` request; larger lists are split."""
    embed_concurrency: int = Field(default=2, ge=1)
    """Embedding batches in flight at once."""
    # --- issue 29: llama.cpp's prompt cache switch (botticelli_server/_body.py sends it) ---
    cache_prompt: bool | None = None
    """llama.cpp's ``cache_prompt``, sent with every chat request: ``True`` lets a prompt reuse
    the KV cache its slot kept of the last one (llama-server's default), ``False`` processes
    every prompt whole (for results that must not depend on what ran before). ``None`` sends
    nothing. Only ``dialect="llama.cpp"`` has it: another concrete dialect is refused here,
    and under ``"auto"`` it is sent only if the server turns out to be llama-server."""

    @field_validator("cache_prompt")
    @classmethod
    def _cache_prompt_on_llama_cpp(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        # A switch no other server reads would change nothing: say so rather than drop it.
        dialect = info.data.get("dialect")
        if value is not None and dialect not in ("llama.cpp", "auto", None):
            raise ValueError(
                f"cache_prompt is a llama.cpp (llama-server) setting; the {dialect!r} dialect has no "
                "such switch: leave it unset, or set dialect to 'llama.cpp' (or 'auto') if that is the server"
            )
        return value

    # --- end issue 29 ---

    @field_validator("adapters")
    @classmethod
    def _unique_adapters(cls, adapters: tuple[LoraAdapter, ...]) -> tuple[LoraAdapter, ...]:
        if repeated_names(adapters):
            raise ValueError(f"adapter names must be unique (repeated: {', '.join(repeated_names(adapters))})")
        return adapters

    @field_validator("base_url")
    @classmethod
    def _without_v1(cls, url: str) -> str:
        # The client appends /v1/...; accept the URL servers print, which often ends in /v1.
        return url.removesuffix("/v1")

    @field_validator("base_urls")
    @classmethod
    def _each_without_v1(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(url.removesuffix("/v1") for url in urls)

    def replica_configs(self) -> tuple[Self, ...]:
        """One configuration per entry of ``base_urls``, each with that URL as its ``base_url``.

        Examples:
            >>> cfg = ServerConfig(model="phi", base_urls=["http://127.0.0.1:8080/v1", "http://127.0.0.1:8081"])
            >>> [c.base_url for c in cfg.replica_configs()]
            ['http://127.0.0.1:8080', 'http://127.0.0.1:8081']
        """
        return tuple(self.model_copy(update={"base_url": url, "base_urls": ()}) for url in self.base_urls)

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
        return cls(**SECTION.values_from_env(env, overrides))

    def http_settings(self) -> HttpSettings:
        """The transport settings this configuration implies."""
        secret = {"Authorization": SecretStr(f"Bearer {self.api_key.get_secret_value()}")} if self.api_key else {}
        return HttpSettings.from_config(self, provider=PROVIDER, secret_headers=secret)


SECTION = ConfigSection(
    name=PROVIDER,
    config_class=ServerConfig,
    env={
        "INFERENCE_SERVER_BASE_URL": "base_url",
        "INFERENCE_SERVER_MODEL": "model",
        "INFERENCE_SERVER_API_KEY": "api_key",
        "INFERENCE_SERVER_DIALECT": "dialect",
    },
    required=(Requirement(("model",), "name the model the server serves (mistral.rs accepts 'default')"),),
    client="botticelli_server.client:ServerClient",
)
"""The ``[model.local]`` section: :class:`ServerConfig`, its environment variables and required keys."""
