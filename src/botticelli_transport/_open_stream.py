"""Opening an event stream: what ``HttpTransport.stream`` returns.

:class:`OpeningStream` sends the request, checks that the reply is an event stream,
sets up the per-attempt reader (SSE decoder, decode state, watchdog) and retries until
the first item arrives; then it holds the open :class:`StreamResponse` until the
``async with`` block ends. It is a plain object with slots rather than an
``asynccontextmanager`` generator: with a thousand streams held open, the generator's
frame, its closure cells and the arguments contextlib keeps for re-entry were each
stream's largest cost of botticelli's own (see docs/performance.md).

Like the rest of the transport, it raises typed errors outside the ``except`` block
that caught httpx's exception (see :mod:`botticelli_transport._http`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

import httpx

from botticelli_error import BotticelliError, request_id
from botticelli_transport._deadline import call_limits, deadline_after, or_limit
from botticelli_transport._retry import retry_after
from botticelli_transport._stream import StreamResponse, read_items
from botticelli_transport._watchdog import Watchdog
from botticelli_transport.sse import ServerSentEvent, SSEDecoder

if TYPE_CHECKING:
    from botticelli_transport._http import HttpTransport

__all__ = ["OpeningStream"]

R = TypeVar("R")
T = TypeVar("T")

_SSE_START = (b"data:", b":", b"event:", b"id:")
_STREAM_HEADERS = {"accept": "text/event-stream"}
# How long reading an error body may take when the call has no deadline of its own.
_ERROR_READ_LIMIT = 30.0


class OpeningStream(Generic[R, T]):
    """An event stream to open on entering ``async with``, and to close on leaving it.

    See :meth:`botticelli_transport.HttpTransport.stream`, which makes it, for what
    entering does; leaving the block, an error or a cancellation closes the response.
    """

    __slots__ = (
        "_content",
        "_deadline",
        "_decode",
        "_limit",
        "_opened",
        "_params",
        "_path",
        "_reader",
        "_request",
        "_transport",
        "_unanswered",
    )

    def __init__(
        self,
        transport: HttpTransport,
        path: str,
        *,
        content: bytes,
        reader: Callable[[], R],
        decode: Callable[[R, ServerSentEvent], T | None],
        params: Mapping[str, str] | None,
        unanswered: Callable[[R, bytes], None] | None = None,
    ) -> None:
        self._transport = transport
        self._path = path
        self._content = content
        self._reader = reader
        self._decode = decode
        self._params = params
        self._unanswered = unanswered
        self._request: httpx.Request | None = None
        self._deadline: float | None = None
        self._limit: float | None = None
        self._opened: StreamResponse[R, T] | None = None

    async def __aenter__(self) -> StreamResponse[R, T]:
        transport = self._transport
        settings = transport.settings
        # The per-call options in force now, when the block is entered, are the ones that count.
        limit, max_retries = call_limits(settings)
        self._limit, self._deadline = limit, deadline_after(limit)
        self._request = transport._sender.build(
            "POST",
            self._path,
            self._content,
            self._params,
            headers=_STREAM_HEADERS,
            timeout=transport._stream_timeout,
        )
        failure: BotticelliError | None = None
        try:
            opened, retries = await self._attempt(), 0
        except BotticelliError as exc:
            failure = exc
        if failure is not None:
            opened, retries = await retry_after(
                failure, self._attempt, settings, self._deadline, max_retries=max_retries
            )
        opened.retries = retries
        self._opened = opened
        return opened

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        opened, self._opened = self._opened, None
        if opened is not None:
            await opened.aclose()

    async def _attempt(self) -> StreamResponse[R, T]:
        """One attempt: send, check the reply, read up to the first item."""
        transport, deadline, limit = self._transport, self._deadline, self._limit
        settings = transport.settings
        assert self._request is not None  # built by __aenter__ before any attempt
        response = await transport._guard(
            transport._sender.send(self._request),
            deadline,
            retry_read_timeout=settings.retry_read_timeouts,
            limit=limit,
        )
        try:
            chunks = await _event_stream_body(transport, response, deadline, limit)
            sse = SSEDecoder(
                provider=settings.provider,
                max_line_chars=settings.max_sse_line_chars,
                max_event_chars=settings.max_sse_event_chars,
            )
            # Each attempt gets a fresh state: nothing a failed attempt decoded leaks into the next.
            state = self._reader()
            watchdog = Watchdog(
                provider=settings.provider, idle_timeout=settings.stream_idle_timeout, deadline=deadline
            )
            items = read_items(
                chunks,
                sse,
                state,
                self._decode,
                watchdog,
                provider=settings.provider,
                read_timeout=transport._stream_read_timeout,
                describe=transport._errors.describe,
                release=response.aclose,
            )
        except BaseException:
            await response.aclose()
            raise
        opened = StreamResponse(response, items, state, sse, request_id=request_id(response.headers))
        try:
            if not await opened._open() and self._unanswered is not None:
                # Ended before its first item: the backend says whether that is a failure, which
                # is then retried like any other failure before the first item.
                self._unanswered(state, sse.unframed)
        except BaseException:
            await opened.aclose()
            raise
        return opened


async def _event_stream_body(
    transport: HttpTransport, response: httpx.Response, deadline: float | None, limit: float | None
) -> AsyncIterator[bytes]:
    """The body as byte chunks, after checking that it is an event stream at all.

    A 2xx or 3xx that is not an event stream is not what was asked for: it is raised
    as a non-retryable error, so it is sent once (a redirect, an HTML login page).
    """
    status = response.status_code
    content_type = response.headers.get("content-type", "")
    if status < 300 and "event-stream" in content_type:
        return transport._body(response)
    errors = transport._errors
    guarded, shown = or_limit(deadline, limit, _ERROR_READ_LIMIT)
    if status >= 400:
        raise errors.from_reply(response, await transport._guard(transport._read_head(response), guarded, limit=shown))
    if status < 300:
        chunks = transport._body(response)
        first = await transport._guard(_first_chunk(chunks), guarded, limit=shown)
        if first.lstrip().startswith(_SSE_START):
            # An event stream under the wrong content type (some proxies): decode it anyway.
            return _prepend(first, chunks)
        body = first
    else:
        body = b""
    raise errors.not_an_event_stream(response, body)


async def _first_chunk(chunks: AsyncIterator[bytes]) -> bytes:
    async for part in chunks:
        if part.strip():
            return part
    return b""


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    yield first
    async for chunk in rest:
        yield chunk
