"""httpcore's network layer written on asyncio's protocols, for programs that run on asyncio.

httpcore reaches the network through a backend; under asyncio its default is the anyio
one, which puts a cancel scope around every read and write and answers the pool's
"is this idle connection still open?" (asked of every idle connection each time a
request is queued or a reply is closed) with a ``getpeername`` and a ``poll`` system
call behind several layers of attribute lookups. Profiled on ``just bench``'s streams,
about a seventh of the client's time went through anyio (docs/performance.md).

:class:`AsyncioBackend` does the same job with one :class:`asyncio.Protocol` per
connection: the event loop hands it the bytes it reads, a read returns what is buffered
(or waits for the next ``data_received``), and whether an idle connection was closed by
the server is a flag that ``eof_received``/``connection_lost`` set. A read's timeout
is one timer handle. Under any other event loop (trio through anyio, or uvloop) every
call goes to httpcore's own anyio backend, unchanged.

Errors are httpcore's own classes (``ConnectError``, ``ReadTimeout``...), as from any
backend, so httpx maps them to its exceptions as it always did.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore

__all__ = ["AsyncioBackend"]

_SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
# Reading stops while this much is buffered and unread (a consumer slower than the
# server), as asyncio's own streams do, so a connection never holds more than about this.
_HIGH_WATER = 256 * 1024
# anyio's connect_tcp waits this long for one address family before trying the next.
_HAPPY_EYEBALLS_DELAY = 0.25


class _Connection(asyncio.Protocol):
    """What the event loop reports of one connection: bytes read, end of stream, write flow control."""

    transport: asyncio.Transport
    """Set by ``connection_made``, before the first byte; the TLS transport after ``start_tls``."""

    __slots__ = (
        "_buffered",
        "_chunks",
        "_drained",
        "_loop",
        "_paused_reading",
        "_reader",
        "error",
        "finished",
        "transport",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._reader: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._paused_reading = False
        self.finished = False
        """The server ended the stream, or the connection is gone."""
        self.error: Exception | None = None
        """Why the connection was lost, if it was lost to an error."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER and not self._paused_reading:
            self._paused_reading = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.finished = True
        self._wake_reader()
        return False  # let the transport close itself: an HTTP client has nothing left to say

    def connection_lost(self, exc: Exception | None) -> None:
        self.finished = True
        self.error = exc
        self._wake_reader()
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = self._loop.create_future()

    def resume_writing(self) -> None:
        drained = self._drained
        self._drained = None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _wake_reader(self) -> None:
        reader = self._reader
        if reader is not None and not reader.done():
            reader.set_result(None)

    @property
    def readable(self) -> bool:
        """Whether a read would return at once: bytes are buffered, or the stream has ended."""
        return self._buffered > 0 or self.finished

    def take(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` of what is buffered (``b""`` when nothing is)."""
        chunks = self._chunks
        if not chunks:
            return b""
        data = chunks.popleft()
        if len(data) > max_bytes:
            chunks.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        self._buffered -= len(data)
        if self._paused_reading and self._buffered <= _HIGH_WATER // 4:
            self._paused_reading = False
            self.transport.resume_reading()
        return data

    async def wait_readable(self, seconds: float | None) -> None:
        """Until :attr:`readable`, or raise ``httpcore.ReadTimeout`` after ``seconds``."""
        reader = self._reader = self._loop.create_future()
        timer = None if seconds is None else self._loop.call_later(seconds, _time_out, reader)
        try:
            await reader
        finally:
            self._reader = None
            if timer is not None:
                timer.cancel()

    async def wait_drained(self, seconds: float | None) -> None:
        """Until the transport takes writes again, or raise ``httpcore.WriteTimeout`` after ``seconds``."""
        drained = self._drained
        if drained is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(drained), seconds)
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out writing the request") from None


def _time_out(reader: asyncio.Future[None]) -> None:
    if not reader.done():
        reader.set_exception(httpcore.ReadTimeout("timed out waiting for the server"))


class _Stream(httpcore.AsyncNetworkStream):
    """One connection, as httpcore's connections read and write it."""

    __slots__ = ("_connection",)

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 - httpcore's interface
        connection = self._connection
        if not connection.readable:
            await connection.wait_readable(timeout)
        data = connection.take(max_bytes)
        if not data and connection.error is not None:
            raise httpcore.ReadError(str(connection.error) or type(connection.error).__name__)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109 - httpcore's interface
        if not buffer:
            return
        transport = self._connection.transport
        if transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        try:
            transport.write(buffer)
        except (OSError, RuntimeError) as exc:
            raise httpcore.WriteError(str(exc)) from exc
        await self._connection.wait_drained(timeout)
        error = self._connection.error
        if error is not None:
            raise httpcore.WriteError(str(error) or type(error).__name__)

    async def aclose(self) -> None:
        transport = self._connection.transport
        if not transport.is_closing():
            transport.close()
            try:
                # The loop closes the socket in a callback it schedules now: let it run, so
                # that a program that ends right after closing its client leaves no socket open.
                await asyncio.sleep(0)
            finally:
                # A TLS connection would otherwise wait for the server's close_notify; HTTP
                # needs none (anyio's stream, httpcore's default, does not wait either).
                transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        connection = self._connection
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    connection.transport, connection, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            connection.transport.abort()
            raise httpcore.ConnectTimeout("timed out during the TLS handshake") from None
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            connection.transport.abort()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # pragma: no cover - only when the connection closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(transport, asyncio.Transport)
        # Reads, writes and flow control go through the TLS transport from now on.
        connection.transport = transport
        return _Stream(connection)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Asked of idle connections only: readable there means the server closed it.
            return self._connection.readable
        transport = self._connection.transport
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on asyncio's protocols; other event loops get httpcore's anyio backend.

    Only TCP: the pool it serves is given no Unix socket and no connection retries, the
    two things the rest of httpcore's backend interface (``connect_unix_socket``,
    ``sleep``) is for.
    """

    __slots__ = ("_other",)

    def __init__(self) -> None:
        self._other: httpcore.AsyncNetworkBackend | None = None

    def _fallback(self) -> httpcore.AsyncNetworkBackend | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on asyncio: trio, through anyio
            pass
        else:
            # The standard library's loops only: another implementation (uvloop) may lack
            # what connect_tcp asks of create_connection, and keeps the backend it had.
            if isinstance(loop, asyncio.BaseEventLoop):
                return None
        if self._other is None:
            self._other = httpcore.AnyIOBackend()
        return self._other

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        other = self._fallback()
        if other is not None:
            return await other.connect_tcp(host, port, timeout, local_address, socket_options)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_connection(
                    lambda: _Connection(loop),
                    host,
                    port,
                    local_addr=None if local_address is None else (local_address, 0),
                    happy_eyeballs_delay=_HAPPY_EYEBALLS_DELAY,
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        # asyncio turns on TCP_NODELAY for every TCP connection it makes, as anyio does.
        _apply(transport, socket_options)
        return _Stream(connection)


def _apply(transport: asyncio.Transport, options: Iterable[_SocketOption] | None) -> None:
    if not options:
        return
    sock: socket.socket = transport.get_extra_info("socket")
    for option in options:
        sock.setsockopt(*option)
