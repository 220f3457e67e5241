"""The connection layer: aiohttp's client under httpx on asyncio, httpcore's own pool elsewhere.

:class:`AiohttpTransport` is the ``httpx.AsyncBaseTransport`` every client botticelli
makes sends through. On an asyncio loop (the standard one or uvloop) a request goes to an
``aiohttp.ClientSession`` of the transport's own: aiohttp parses HTTP in C and pools
connections without a pass over the pool per request, which is where httpx's default
transport (httpcore and h11, in pure Python) spends most of a request's CPU. On any other
loop (trio) the request goes to ``httpx.AsyncHTTPTransport``, as httpx would send it.

Why not httpx-aiohttp's transport (docs/design.md, "The connection layer"): it maps a
refused certificate to a connect timeout, lets other aiohttp errors (an oversize header)
out untyped, and, like aiohttp itself, has no write timeout, so a large request body to a
server that never reads it waits for ever. This module adds what is missing:

- every aiohttp and socket error comes out as httpx's exception of the matching kind;
- a body larger than one socket buffer is written in pieces under a write timeout;
- the session is made on the first request (aiohttp is imported then, not before), and
  one per event loop, so a client used by two ``asyncio.run`` calls in turn still works.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AiohttpTransport"]

# A body this large may not fit the socket's send buffer, so writing it can wait on the
# server: it is written in pieces of this size, each under the write timeout. A smaller one
# is handed to the kernel in one write that never waits.
_PIECE = 64 * 1024
# aiohttp's own defaults for a response's status line and each header line: a server that
# sends a longer one gets a protocol error, and at most this much of it is held.
_MAX_LINE = 8190
_HTTP11 = {"http_version": b"HTTP/1.1"}
# The most of a body handed on per read. A burst of events (a whole answer written at
# once) is then decoded a few kilobytes at a time, not all at once: a stream held open at
# its first event keeps the rest as aiohttp's raw bytes, about a third less memory than
# holding every decoded event (1,000 open streams, docs/performance.md).
_READ = 16 * 1024


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over aiohttp on asyncio, and over httpcore on other event loops.

    Args:
        verify: The TLS context every https connection uses.
        limits: ``max_connections`` caps the sockets open at once (``None``: no cap);
            ``keepalive_expiry`` is how long an idle one is kept.
    """

    __slots__ = ("_fallback", "_keeper", "_limits", "_loop", "_session", "_timeouts", "_verify")

    def __init__(self, *, verify: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._verify = verify
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._keeper: AsyncGenerator[None, None] | None = None
        self._fallback: httpx.AsyncHTTPTransport | None = None
        # aiohttp's timeout object for each (connect, read) pair seen: a client sends with two.
        self._timeouts: dict[tuple[float | None, float | None], Any] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; the reply's body is left to be read from its stream.

        Raises:
            httpx.TransportError: The subclass that names what failed (connect, read,
                write, protocol), whatever the library underneath raised.
        """
        loop = asyncio._get_running_loop()
        if loop is None:
            return await self._other_loop(request)
        session = self._session if self._loop is loop else None
        if session is None:
            session = await self._open(loop)
        timeouts = request.extensions.get("timeout", {})
        connect, read, write = timeouts.get("connect"), timeouts.get("read"), timeouts.get("write")
        timeout = self._timeouts.get((connect, read))
        if timeout is None:
            timeout = self._timeouts[connect, read] = _names().timeout(connect, read)
        upload = _upload_of(request, write)
        error: httpx.TransportError
        try:
            if upload is None:
                reply = await _request(session, request, request.content or None, timeout)
            else:
                async with asyncio.timeout(None) as clock:
                    upload.clock = clock
                    try:
                        reply = await _request(session, request, upload, timeout)
                    finally:
                        upload.clock = None
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is None and isinstance(exc, TimeoutError) and upload is not None and upload.armed:
                mapped = httpx.WriteTimeout(f"the request body could not be sent within {write:g} s")
            if mapped is None:
                raise  # not the connection's: the call's own deadline, a cancellation's cause
            error = mapped
        else:
            extensions = _HTTP11 if not reply.reason else {**_HTTP11, "reason_phrase": reply.reason.encode()}
            return httpx.Response(
                status_code=reply.status, headers=reply.raw_headers, stream=_Body(reply), extensions=extensions
            )
        # Raised outside the except block: what aiohttp raised is this error's cause, for a
        # reader of the traceback, and not also its context.
        raise error

    async def aclose(self) -> None:
        """Close every connection; safe to call twice."""
        session, keeper, loop = self._session, self._keeper, self._loop
        self._session = self._keeper = self._loop = None
        if session is not None and keeper is not None:
            if loop is asyncio._get_running_loop():
                await keeper.aclose()  # its finally closes the session, on this loop
            else:
                await _close_elsewhere(session, loop)
        fallback, self._fallback = self._fallback, None
        if fallback is not None:
            await fallback.aclose()

    async def _open(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        """This loop's session (aiohttp imported here, on the first request)."""
        aio = _names().aiohttp
        if self._session is not None:
            # Made on a loop that has since stopped (asyncio.run called again). If that was
            # asyncio.run, the session was closed as the loop shut down (see _closed_with_loop).
            await _close_elsewhere(self._session, self._loop)
        limits = self._limits
        connector = aio.TCPConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            ssl=self._verify,
            keepalive_timeout=limits.keepalive_expiry,
        )
        session: aiohttp.ClientSession = aio.ClientSession(
            connector=connector,
            # httpx keeps cookies, decides about proxies and sends its own headers; aiohttp
            # hands the body over as it came, for botticelli's bounded inflater.
            cookie_jar=aio.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            max_line_size=_MAX_LINE,
            max_field_size=_MAX_LINE,
        )
        keeper = _closed_with_loop(session)
        await keeper.asend(None)
        self._session, self._loop, self._keeper = session, loop, keeper
        return session

    async def _other_loop(self, request: httpx.Request) -> httpx.Response:
        """``request`` sent as httpx's own transport would send it (trio)."""
        fallback = self._fallback
        if fallback is None:
            fallback = self._fallback = httpx.AsyncHTTPTransport(verify=self._verify, limits=self._limits)
        if isinstance(request.stream, httpx.ByteStream):
            # httpx's ByteStream iterates with an async generator, which trio reports as
            # leaked when a failed write leaves it unfinished; this iterator is no generator.
            request.stream = _Whole(request.content)
        return await fallback.handle_async_request(request)


class _Body(httpx.AsyncByteStream):
    """A reply's body as aiohttp receives it, with its errors raised as httpx's."""

    __slots__ = ("_reply",)

    def __init__(self, reply: aiohttp.ClientResponse) -> None:
        self._reply = reply

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._reply.content
        error: httpx.TransportError | None = None
        try:
            while chunk := await content.read(_READ):
                yield chunk
        except Exception as exc:
            error = _as_httpx(exc)
            if error is None:
                raise
        if error is not None:
            raise error

    async def aclose(self) -> None:
        # A body read to its end gives the connection back to the pool; one left part-read
        # (an error, a cancellation) closes it, and the pool's slot is free either way.
        self._reply.release()


class _Whole(httpx.AsyncByteStream):
    """A request body handed over in one piece."""

    __slots__ = ("_content",)

    def __init__(self, content: bytes) -> None:
        self._content: bytes | None = content

    def __aiter__(self) -> _Whole:
        return self

    async def __anext__(self) -> bytes:
        content, self._content = self._content, None
        if content is None:
            raise StopAsyncIteration
        return content


class _Upload:
    """A large request body in pieces, each of which must be taken within the write timeout.

    aiohttp asks for the next piece only once the last one is in the socket's buffer, so
    the time between two asks is how long a write waited. ``clock`` is the timeout scope
    around the request; it is moved on with every piece, and off once the body is sent.
    """

    __slots__ = ("_pieces", "_seconds", "armed", "clock")

    def __init__(self, pieces: AsyncIterator[bytes], seconds: float | None) -> None:
        self._pieces = pieces
        self._seconds = seconds
        self.clock: asyncio.Timeout | None = None
        self.armed = False
        """Whether the clock is running for a write: if it fires then, the write took too long."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        async for piece in self._pieces:
            self._move(None if self._seconds is None else loop.time() + self._seconds)
            yield piece
        self._move(None)

    def _move(self, when: float | None) -> None:
        clock = self.clock
        if clock is not None:  # None once the reply came (a 413 before the body was read)
            clock.reschedule(when)
            self.armed = when is not None


def _upload_of(request: httpx.Request, write_timeout: float | None) -> _Upload | None:
    """The body in timed pieces, or ``None`` for one that fits a socket's buffer (nearly all)."""
    if isinstance(request.stream, httpx.ByteStream):  # its content was read when it was built
        body = request.content
        return _Upload(_slices(body), write_timeout) if len(body) > _PIECE else None
    return _Upload(_pieces_of(request.stream), write_timeout)


def _request(session: aiohttp.ClientSession, request: httpx.Request, data: object, timeout: Any) -> Any:
    """What sends ``request`` on ``session``, to be awaited (a plain call: no coroutine of its own)."""
    return session.request(
        request.method,
        _names().URL(str(request.url), encoded=True),  # httpx's URL is encoded already: not again
        headers=request.headers.multi_items(),
        data=data,
        timeout=timeout,
        allow_redirects=False,
    )


async def _slices(body: bytes) -> AsyncIterator[bytes]:
    view = memoryview(body)
    for start in range(0, len(body), _PIECE):
        yield bytes(view[start : start + _PIECE])


async def _pieces_of(stream: object) -> AsyncIterator[bytes]:
    async for piece in stream:  # type: ignore[attr-defined]  # an async client's request streams are async
        yield piece


class _Names:
    """What this module uses of aiohttp, looked up once, when the first session is made."""

    def __init__(self) -> None:
        import aiohttp  # noqa: PLC0415
        import yarl  # noqa: PLC0415 - aiohttp's own dependency

        self.aiohttp = aiohttp
        self.URL = yarl.URL
        # Most specific first: a certificate error is a connector error is an OS error.
        self.kinds: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
            (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
            (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
            (aiohttp.ClientConnectorError, httpx.ConnectError),
            (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
            (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
            (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
            (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
            (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
            (aiohttp.ClientError, httpx.NetworkError),
        )

    def timeout(self, connect: float | None, read: float | None) -> Any:
        # sock_connect covers the TCP connect and the TLS handshake; waiting for a free
        # connection is bounded by the call's own deadline, as with httpx's pool=None.
        return self.aiohttp.ClientTimeout(total=None, connect=None, sock_connect=connect, sock_read=read)


@functools.cache
def _names() -> _Names:
    return _Names()


async def _closed_with_loop(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Closes ``session`` when its loop shuts down, if nobody closed it before.

    The loop keeps every started async generator and finalizes those still open when it
    shuts down (``asyncio.run`` does, before closing the loop): this one's ``finally``
    then closes the session's sockets on the loop they belong to. So does the loop's
    garbage-collection hook if the transport is dropped without being closed.
    """
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


async def _close_elsewhere(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop | None) -> None:
    """Close a session made on another loop than the one running now.

    If that loop still runs (in another thread), the session is closed there. If it has
    stopped, its sockets went with it (``asyncio.run`` closed them, see
    :func:`_closed_with_loop`): aiohttp then only marks the session closed, which it does
    without touching the old loop.
    """
    if loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(session.close(), loop)
    else:
        await session.close()


def _as_httpx(exc: BaseException) -> httpx.TransportError | None:
    """Httpx's exception for what aiohttp or the socket raised; ``None`` for anything else."""
    kinds = _names().kinds
    mapped: type[httpx.TransportError] | None = None
    for kind, httpx_kind in kinds:
        if isinstance(exc, kind):
            mapped = httpx_kind
            break
    else:
        if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):  # ssl.SSLError among them
            mapped = httpx.NetworkError
    if mapped is None:
        return None
    error = mapped(str(exc) or type(exc).__name__)
    error.__cause__ = exc
    return error
