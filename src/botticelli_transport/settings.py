"""What a transport needs to know: where to connect, what to send, how long to wait.

The transport options are declared once, in :class:`TransportOptions`; every HTTP
backend's configuration includes it, and :class:`HttpSettings` adds what the backend
computes (its provider name and headers).
"""

import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import SplitResult, urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from botticelli_error import redact_url, register_secret, register_url_credentials

__all__ = [
    "DEFAULT_BACKOFF_INITIAL",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_MAX_SSE_EVENT_CHARS",
    "DEFAULT_MAX_SSE_LINE_CHARS",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_STREAM_IDLE_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "BaseUrl",
    "HttpSettings",
    "Timeout",
    "TransportOptions",
    "check_base_url",
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
# A whole answer is kilobytes; the cap is on the decoded size, so a small compressed
# body cannot inflate into gigabytes.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_SSE_LINE_CHARS = 4 * 1024 * 1024
DEFAULT_MAX_SSE_EVENT_CHARS = 16 * 1024 * 1024

_HOST_LABEL = re.compile(r"(?!-)[\w-]{1,63}(?<!-)")


def check_base_url(value: str) -> str:
    """A base URL, checked in full and without its trailing ``/``; ``ValueError`` says what is wrong.

    The scheme must be ``http`` or ``https``, the host a name or an IP address, the port
    (if any) within 1-65535, and there must be no query string or fragment.

    Examples:
        >>> check_base_url(" http://127.0.0.1:8080/ ")
        'http://127.0.0.1:8080'
        >>> check_base_url("http://127.0.0.1:99999")
        Traceback (most recent call last):
        ...
        ValueError: the port must be a number from 1 to 65535, like http://localhost:8080
    """
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL with a host, like http://localhost:8080")
    _check_host(parts)
    try:
        port = parts.port
    except ValueError:
        port = 0  # not a number, or beyond 65535: urllib refuses it either way
    if port == 0 or (port is None and parts.netloc.rpartition("@")[2].endswith(":")):
        raise ValueError("the port must be a number from 1 to 65535, like http://localhost:8080")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query string or fragment")
    return url


def _check_host(parts: SplitResult) -> None:
    host = parts.hostname or ""
    if not host:
        raise ValueError("must be an http:// or https:// URL with a host, like http://localhost:8080")
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"the host {host!r} is not a valid host name or IP address")


def _existing_path(value: str) -> str:
    path = os.path.expanduser(value.strip())
    if not os.path.exists(path):
        raise ValueError(f"no file or folder at {path!r}")
    return path


BaseUrl = Annotated[str, AfterValidator(check_base_url)]
"""A base URL checked by :func:`check_base_url`; backends add their own path rules."""
Timeout = Annotated[float | None, Field(gt=0)]
"""Seconds, or ``None`` for no limit."""
TlsPath = Annotated[str, AfterValidator(_existing_path)]
"""A file or folder that must exist; ``~`` is expanded."""


class TransportOptions(BaseModel):
    """The connection, timeout and retry options every HTTP backend's configuration includes.

    A backend's configuration subclasses this, so its keywords stay flat
    (``ServerConfig(max_retries=5)``); a backend whose defaults differ (a cloud API
    answers sooner than a CPU) restates only those defaults, with the same types.
    Every timeout is in seconds; ``None`` turns that limit off. A password in
    ``base_url`` is shown as ``***`` by ``repr`` and ``str``.

    Examples:
        >>> opts = TransportOptions(base_url="http://user:pw@127.0.0.1:8080/", max_retries=5)
        >>> opts.base_url, opts.max_retries
        ('http://user:pw@127.0.0.1:8080', 5)
        >>> "pw@" in repr(opts)
        False
    """

    # Deferred: the mixin itself is rarely validated, and each subclass builds its own schema.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    base_url: BaseUrl
    connect_timeout: Timeout = DEFAULT_CONNECT_TIMEOUT
    read_timeout: Timeout = DEFAULT_READ_TIMEOUT
    """Longest wait for any single read (for a non-streamed call: for the whole answer to start)."""
    total_timeout: Timeout = DEFAULT_TOTAL_TIMEOUT
    """Deadline for the whole call, retries and backoff included."""
    stream_idle_timeout: Timeout = DEFAULT_STREAM_IDLE_TIMEOUT
    """Longest gap between two data events of a stream; keep-alive comments do not count."""
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, le=20)
    """Retries after the first attempt, for retryable errors."""
    max_retry_after: float = Field(default=DEFAULT_MAX_RETRY_AFTER, ge=0)
    """A server asking for a longer wait than this gets an immediate error instead."""
    backoff_initial: float = Field(default=DEFAULT_BACKOFF_INITIAL, ge=0)
    """First wait between retries when the server names none; it doubles each time, with jitter."""
    backoff_max: float = Field(default=DEFAULT_BACKOFF_MAX, ge=0)
    max_connections: int = Field(default=DEFAULT_MAX_CONNECTIONS, gt=0)
    """Size of the connection pool."""
    retry_read_timeouts: bool = False
    """Retry a generation whose reply did not come within ``read_timeout``. Off by default: the
    server received the request and may still be generating it, so a retry can bill it twice."""
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    """The largest decoded body of a whole (non-streamed) reply; a larger one is a ``ResponseDecodeError``."""
    max_sse_line_chars: int = Field(default=DEFAULT_MAX_SSE_LINE_CHARS, gt=0)
    """The longest line an event stream may send."""
    max_sse_event_chars: int = Field(default=DEFAULT_MAX_SSE_EVENT_CHARS, gt=0)
    """The most data one stream event may carry."""
    ca_bundle: TlsPath | None = None
    """The certificate authorities to trust for an ``https`` server, as a PEM file or a folder
    of hashed certificates, instead of ``SSL_CERT_FILE``/``SSL_CERT_DIR`` or certifi's
    roots (a server behind a private CA)."""
    client_cert: TlsPath | None = None
    """A PEM certificate to show a server that asks for one (mutual TLS); it may hold the key too."""
    client_key: TlsPath | None = None
    """The private key of ``client_cert``, when it is in a file of its own."""

    @model_validator(mode="after")
    def _key_needs_certificate(self) -> "TransportOptions":
        if self.client_key is not None and self.client_cert is None:
            raise ValueError("client_key is set without client_cert: give the certificate the key belongs to")
        return self

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "base_url" and isinstance(value, str) else value


class HttpSettings(TransportOptions):
    """Connection, timeout and retry settings of one :class:`HttpTransport`.

    Examples:
        >>> s = HttpSettings(provider="local", base_url="http://127.0.0.1:8080",
        ...                  secret_headers={"Authorization": "Bearer sk-secret"})
        >>> "sk-secret" in repr(s)
        False
    """

    provider: str
    headers: dict[str, str] = {}
    secret_headers: dict[str, SecretStr] = {}
    """Headers carrying credentials; their values are scrubbed from every error and log."""

    @classmethod
    def from_config(
        cls, config: BaseModel, *, provider: str, secret_headers: Mapping[str, SecretStr] | None = None
    ) -> "HttpSettings":
        """Transport settings from a backend's configuration.

        Every :class:`TransportOptions` field the configuration has is copied, so a
        setting added there reaches every backend without a second list to update.

        Examples:
            >>> class Backend(BaseModel):
            ...     base_url: str = "http://127.0.0.1:8080"
            ...     max_retries: int = 5
            ...     model: str = "tiny"
            >>> settings = HttpSettings.from_config(Backend(), provider="local")
            >>> settings.base_url, settings.max_retries, settings.read_timeout
            ('http://127.0.0.1:8080', 5, 300.0)
        """
        shared = {name: getattr(config, name) for name in TransportOptions.model_fields if hasattr(config, name)}
        return cls(provider=provider, secret_headers=dict(secret_headers or {}), **shared)

    def secrets(self) -> tuple[str, ...]:
        """The secret values to scrub: header values, their bare forms (without ``Bearer``), a URL password.

        Examples:
            >>> HttpSettings(provider="local", base_url="http://me:pa55word@host:8080").secrets()
            ('pa55word',)
        """
        values: list[str] = []
        for secret in self.secret_headers.values():
            raw = secret.get_secret_value()
            values.append(raw)
            _, _, bare = raw.partition(" ")
            if bare:
                values.append(bare)
        password = urlsplit(self.base_url).password
        if password:
            values.append(password)
        return tuple(v for v in values if v)

    def register_secrets(self, owner: object) -> None:
        """Scrub :meth:`secrets` and the base URL's credentials from every error while ``owner`` lives.

        Whatever holds these settings registers them before anything is sent, so no error
        built from a reply, or raised before the first call, can show them.
        """
        for secret in self.secrets():
            register_secret(secret, setting=f"the {self.provider} api_key", owner=owner)
        register_url_credentials(self.base_url, setting="base_url", owner=owner)
