"""The one module that speaks httpx. Swapping the HTTP library touches only this file.

Every httpx exception is translated here, at this single boundary, into the
botticelli error hierarchy; nothing from httpx reaches a caller.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from botticelli_error import (
    BotticelliError,
    RequestTimeoutError,
    StreamInterruptedError,
    StreamStalledError,
    TransportError,
)
from botticelli_transport._deadline import deadline_after, remaining, timeout_scope
from botticelli_transport.errors import ErrorResponse, error_from_response, parse_retry_after, scrub
from botticelli_transport.events import iter_events
from botticelli_transport.retry import call_with_retries
from botticelli_transport.settings import HttpSettings
from botticelli_transport.sse import ServerSentEvent, SSEDecoder

__all__ = ["ErrorMapper", "HttpResult", "HttpTransport", "StreamInfo"]

T = TypeVar("T")

ErrorMapper = Callable[[ErrorResponse], BotticelliError]
"""Turns an error reply into the backend's typed error."""

_MAX_ERROR_BODY = 64 * 1024
_SSE_START = (b"data:", b":", b"event:", b"id:")


@dataclass(frozen=True, slots=True)
class HttpResult:
    """A successful (2xx) reply to a non-streamed request."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    retries: int
    request_id: str | None


@dataclass(slots=True)
class StreamInfo:
    """Facts about a stream, filled in as it opens; read them for logging."""

    status_code: int | None = None
    request_id: str | None = None
    retries: int = 0
    started: float = field(default_factory=time.monotonic)
    unframed: bytes = b""
    """A line the server wrote outside SSE framing (a bare JSON error, say), if any."""


class HttpTransport:
    """A pooled HTTP connection to one provider, with retries, deadlines and SSE streaming.

    Args:
        settings: Where to connect, credentials, timeouts and retry policy.
        error_mapper: Turns error replies into typed errors; defaults to the
            OpenAI-compatible shapes.
    """

    def __init__(
        self,
        settings: HttpSettings,
        *,
        error_mapper: ErrorMapper = error_from_response,
    ) -> None:
        self.settings = settings
        self._map_error = error_mapper
        self._secrets = settings.secrets()
        headers = dict(settings.headers)
        headers.update({k: v.get_secret_value() for k, v in settings.secret_headers.items()})
        self._timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=None,  # waiting for a free connection is bounded by the call's deadline
        )
        self._client = httpx.AsyncClient(
            base_url=settings.base_url,
            headers=headers,
            timeout=self._timeout,
            limits=httpx.Limits(
                max_connections=settings.max_connections,
                max_keepalive_connections=min(settings.max_connections, 100),
            ),
        )
        stream_read = _min(settings.read_timeout, settings.stream_idle_timeout)
        self._stream_read_timeout = stream_read
        self._stream_timeout = httpx.Timeout(
            connect=settings.connect_timeout, read=stream_read, write=settings.read_timeout, pool=None
        )

    def __repr__(self) -> str:
        return f"HttpTransport(provider={self.settings.provider!r}, base_url={self.settings.base_url!r})"

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` has run."""
        return self._client.is_closed

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        retry: bool = True,
        total_timeout: float | None = None,
    ) -> HttpResult:
        """Send a request and read the whole reply, retrying per the settings.

        Args:
            method: HTTP method.
            path: Path relative to the base URL.
            content: JSON body, already encoded.
            params: Query parameters.
            retry: Whether retryable failures are retried.
            total_timeout: A total deadline for this call instead of the settings' one.

        Raises:
            BotticelliError: A typed error for anything but a 2xx reply.
        """
        deadline = deadline_after(total_timeout if total_timeout is not None else self.settings.total_timeout)
        headers = {"content-type": "application/json"} if content is not None else None

        async def attempt() -> httpx.Response:
            left = remaining(deadline)
            try:
                if left is None:
                    response = await self._client.request(method, path, content=content, params=params, headers=headers)
                else:
                    async with timeout_scope(left):
                        response = await self._client.request(
                            method, path, content=content, params=params, headers=headers
                        )
            except TimeoutError:
                raise self._deadline_error(deadline) from None
            except httpx.HTTPError as exc:
                raise self._transport_error(exc) from exc
            if response.status_code >= 300:
                raise self._error_from(response, response.content)
            return response

        if retry:
            response, retries = await call_with_retries(attempt, self.settings, deadline)
        else:
            response, retries = await attempt(), 0
        return HttpResult(
            status_code=response.status_code,
            headers=response.headers,
            content=response.content,
            retries=retries,
            request_id=_request_id(response.headers),
        )

    async def stream(
        self,
        path: str,
        *,
        content: bytes,
        decode: Callable[[ServerSentEvent], T | None],
        info: StreamInfo,
        params: Mapping[str, str] | None = None,
    ) -> AsyncGenerator[T, None]:
        """POST ``content`` and yield ``decode(event)`` for each SSE event (``None`` results are skipped).

        Failures before the first item is produced are retried per the settings,
        including error events the server sends first (``decode`` raises them); after
        that, errors propagate. The response is closed when the generator is closed,
        exhausted, or its task is cancelled.

        Raises:
            BotticelliError: Typed errors: a bad status or body, a stall, an interruption.
        """
        deadline = deadline_after(self.settings.total_timeout)
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        request = self._client.build_request(
            "POST", path, content=content, params=params, headers=headers, timeout=self._stream_timeout
        )
        decoder_box: list[SSEDecoder] = []

        async def open_first() -> tuple[httpx.Response, AsyncGenerator[ServerSentEvent, None], Any]:
            response = await self._send_stream(request, deadline)
            events: AsyncGenerator[ServerSentEvent, None] | None = None
            try:
                info.status_code = response.status_code
                info.request_id = _request_id(response.headers)
                body_chunks = await self._stream_body(response, deadline)
                decoder = SSEDecoder()
                decoder_box[:] = [decoder]
                events = iter_events(
                    body_chunks,
                    decoder,
                    provider=self.settings.provider,
                    idle_timeout=self.settings.stream_idle_timeout,
                    deadline=deadline,
                    read_timeout=self._stream_read_timeout,
                )
                async for event in events:
                    item = decode(event)
                    if item is not None:
                        return response, events, item
                return response, events, _END
            except BaseException:
                if events is not None:
                    await events.aclose()
                await response.aclose()
                raise

        (response, events, first), info.retries = await call_with_retries(open_first, self.settings, deadline)
        try:
            if first is not _END:
                yield first
            async for event in events:
                item = decode(event)
                if item is not None:
                    yield item
        finally:
            if decoder_box:
                info.unframed = decoder_box[0].unframed
            await events.aclose()
            await response.aclose()

    async def _send_stream(self, request: httpx.Request, deadline: float | None) -> httpx.Response:
        left = remaining(deadline)
        try:
            if left is None:
                return await self._client.send(request, stream=True)
            async with timeout_scope(left):
                return await self._client.send(request, stream=True)
        except TimeoutError:
            raise self._deadline_error(deadline) from None
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, read_timeout=self._stream_read_timeout) from exc

    async def _stream_body(self, response: httpx.Response, deadline: float | None) -> AsyncIterator[bytes]:
        """The body as byte chunks, after checking that it is an event stream at all."""
        content_type = response.headers.get("content-type", "")
        if response.status_code < 300 and "event-stream" in content_type:
            return self._body_chunks(response)
        body = await self._read_capped(response, deadline)
        if response.status_code < 300 and body.lstrip().startswith(_SSE_START):
            # An event stream under the wrong content type (some proxies): decode it anyway.
            return _once(body)
        raise self._error_from(response, body)

    async def _read_capped(self, response: httpx.Response, deadline: float | None) -> bytes:
        parts: list[bytes] = []
        size = 0
        try:
            async with timeout_scope(remaining(deadline) or 30.0):
                async for part in response.aiter_bytes():
                    parts.append(part)
                    size += len(part)
                    if size >= _MAX_ERROR_BODY:
                        break
        except TimeoutError:
            raise self._deadline_error(deadline) from None
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        return b"".join(parts)

    async def _body_chunks(self, response: httpx.Response) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except httpx.ReadTimeout as exc:
            raise StreamStalledError(
                f"no data for {self._stream_read_timeout:g} s",
                provider=self.settings.provider,
                idle_timeout=self._stream_read_timeout,
            ) from exc
        except httpx.HTTPError as exc:
            raise StreamInterruptedError(
                f"the stream broke off: {self._describe(exc)}", provider=self.settings.provider
            ) from exc

    def _error_from(self, response: httpx.Response, body: bytes) -> BotticelliError:
        text = scrub(body.decode("utf-8", "replace"), self._secrets)
        reply = ErrorResponse(
            provider=self.settings.provider,
            status_code=response.status_code,
            headers=response.headers,
            body=text,
            retry_after=parse_retry_after(response.headers),
        )
        return self._map_error(reply)

    def _deadline_error(self, deadline: float | None) -> RequestTimeoutError:
        return RequestTimeoutError(
            f"the call's total deadline of {self.settings.total_timeout:g} s passed",
            provider=self.settings.provider,
            retryable=False,
            timeout=self.settings.total_timeout,
        )

    def _describe(self, exc: httpx.HTTPError) -> str:
        return scrub(f"{type(exc).__name__}: {exc}", self._secrets)

    def _transport_error(self, exc: httpx.HTTPError, *, read_timeout: float | None = None) -> TransportError:
        provider = self.settings.provider
        read_limit = self.settings.read_timeout if read_timeout is None else read_timeout
        if isinstance(exc, httpx.ConnectTimeout):
            return RequestTimeoutError(
                f"could not connect within {self.settings.connect_timeout:g} s",
                provider=provider,
                timeout=self.settings.connect_timeout,
            )
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeoutError(
                f"no reply within {read_limit:g} s" if read_limit is not None else "the server stopped replying",
                provider=provider,
                timeout=read_limit,
            )
        if isinstance(exc, httpx.ConnectError):
            return TransportError(
                f"cannot connect to {self.settings.base_url}: {self._describe(exc)}", provider=provider
            )
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return TransportError(self._describe(exc), provider=provider, retryable=False)
        return TransportError(self._describe(exc), provider=provider)


class _End:
    """Marks a stream that ended before producing anything."""


_END = _End()


def _min(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in ("x-request-id", "request-id"):
        if value := headers.get(name):
            return value
    return None


async def _once(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body
