"""What went wrong, as a typed error: a reply that is not the answer asked for, or an httpx exception.

Kept apart from the transport's request and stream logic so that each reads on its own; like
``_http.py``, this module knows httpx, and it is the only place its exceptions are translated.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import httpx

from botticelli_error import (
    APIStatusError,
    BotticelliError,
    ErrorResponse,
    RequestTimeoutError,
    ResponseDecodeError,
    TransportError,
    parse_retry_after,
    redact_url,
    request_id,
)
from botticelli_transport.settings import HttpSettings

__all__ = ["ErrorMapper", "ReplyErrors"]

ErrorMapper = Callable[[ErrorResponse], BotticelliError]
"""Turns an error reply into the backend's typed error."""


class ReplyErrors:
    """Builds the typed errors of one transport, with its settings and its backend's error mapper.

    Args:
        settings: The transport's settings (limits named in messages, the provider).
        mapper: Reads the backend's error body shapes.
    """

    __slots__ = ("_map", "settings")

    def __init__(self, settings: HttpSettings, mapper: ErrorMapper) -> None:
        self.settings = settings
        self._map = mapper

    def not_an_event_stream(self, response: httpx.Response, body: bytes) -> BotticelliError:
        status = response.status_code
        text = body.decode("utf-8", "replace")
        if 300 <= status < 400:
            location = response.headers.get("location", "nowhere")
            return APIStatusError(
                f"asked for an event stream, the server answered HTTP {status} (a redirect to "
                f"{redact_url(location)}); redirects are not followed: set base_url to the final address",
                provider=self.settings.provider,
                retryable=False,
                status_code=status,
                request_id=request_id(response.headers),
                body=text,
            )
        if text.lstrip().startswith("{"):
            # A JSON object under a success status: an error object (some servers) or a whole
            # answer (a Gemini block sent whole): the backend's mapper knows its shapes.
            error = self.from_reply(response, body)
            error.retryable = False
            return error
        content_type = response.headers.get("content-type") or "no content type"
        return ResponseDecodeError(
            f"asked for an event stream, the server answered HTTP {status} with {content_type}",
            provider=self.settings.provider,
            retryable=False,
            status_code=status,
            request_id=request_id(response.headers),
            body=text,
        )

    def too_large(self, response: httpx.Response) -> ResponseDecodeError:
        return ResponseDecodeError(
            f"the server's reply is larger than max_response_bytes ({self.settings.max_response_bytes:,} "
            "bytes once decoded); raise it if such replies are expected",
            provider=self.settings.provider,
            status_code=response.status_code,
            request_id=request_id(response.headers),
        )

    def from_reply(self, response: httpx.Response, body: bytes) -> BotticelliError:
        text = body.decode("utf-8", "replace")
        reply = ErrorResponse(
            provider=self.settings.provider,
            status_code=response.status_code,
            headers=response.headers,
            body=text,
            retry_after=parse_retry_after(response.headers),
        )
        return self._map(reply)

    def deadline(self, limit: float | None) -> RequestTimeoutError:
        shown = f" of {limit:g} s" if limit is not None else ""
        return RequestTimeoutError(
            f"the call's total deadline{shown} passed",
            provider=self.settings.provider,
            retryable=False,
            timeout=limit,
        )

    def describe(self, exc: httpx.HTTPError) -> str:
        return f"{type(exc).__name__}: {exc}"

    def _not_connected(self, exc: httpx.ConnectError) -> TransportError:
        provider, where = self.settings.provider, redact_url(self.settings.base_url)
        refused = _certificate_problem(exc)
        if refused is None:
            return TransportError(f"cannot connect to {where}: {self.describe(exc)}", provider=provider)
        # Not retried: the same certificate will be refused again.
        return TransportError(
            f"the TLS certificate of {where} was refused: {refused}; if the server's certificate comes "
            "from a private CA, set ca_bundle (or SSL_CERT_FILE) to that CA's certificate",
            provider=provider,
            retryable=False,
        )

    def from_httpx(
        self, exc: httpx.HTTPError, *, read_timeout: float | None = None, retry_read_timeout: bool = True
    ) -> TransportError:
        provider = self.settings.provider
        read_limit = self.settings.read_timeout if read_timeout is None else read_timeout
        if isinstance(exc, httpx.ConnectTimeout):
            return RequestTimeoutError(
                f"could not connect within {self.settings.connect_timeout:g} s",
                provider=provider,
                timeout=self.settings.connect_timeout,
            )
        if isinstance(exc, httpx.ReadTimeout):
            return RequestTimeoutError(
                f"no reply within {read_limit:g} s" if read_limit is not None else "the server stopped replying",
                provider=provider,
                retryable=retry_read_timeout,
                timeout=read_limit,
            )
        if isinstance(exc, httpx.TimeoutException):  # write or pool: the request was not (wholly) received
            return RequestTimeoutError(
                f"the request could not be sent within {read_limit:g} s"
                if read_limit is not None
                else "the request could not be sent",
                provider=provider,
                timeout=read_limit,
            )
        if isinstance(exc, httpx.ConnectError):
            return self._not_connected(exc)
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return TransportError(self.describe(exc), provider=provider, retryable=False)
        return TransportError(self.describe(exc), provider=provider)


def _certificate_problem(exc: BaseException) -> str | None:
    """Why the server's certificate was refused, if that is what ended the connection.

    The verification error is on the chain under what httpx raised: aiohttp's connector
    error (itself an ``ssl.CertificateError`` holding the original) on asyncio, or
    httpcore's ``ConnectError`` over the ``ssl`` module's on other loops.
    """
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        original = getattr(current, "certificate_error", current)
        if isinstance(original, ssl.SSLCertVerificationError):
            return original.verify_message or original.reason or str(original)
        current = current.__cause__ or current.__context__
        seen += 1
    return None
