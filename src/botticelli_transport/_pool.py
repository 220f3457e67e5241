"""The httpx transport every direct client uses: httpcore's connection pool on :mod:`._network`.

It is what ``httpx.AsyncHTTPTransport`` is for a client without proxies (the only kind
that gets one; see :func:`botticelli_transport._send.open_pool`): the request handed to
httpcore's pool as it is, httpcore's exceptions raised as httpx's classes of the same
names, the reply's body read through the pool. The one difference is the network
backend under the pool, :class:`~botticelli_transport._network.AsyncioBackend`, which
httpx's own transport has no way to choose.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from botticelli_transport._network import AsyncioBackend

__all__ = ["PoolTransport"]

# httpx names its exceptions after httpcore's; each of httpcore's maps to its namesake.
_EXCEPTIONS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
}


@contextmanager
def _as_httpx() -> Iterator[None]:
    """Raise httpcore's exceptions as httpx's (the most specific class that matches), others as they are."""
    try:
        yield
    except Exception as exc:
        for cls in type(exc).__mro__:
            mapped = _EXCEPTIONS.get(cls)
            if mapped is not None:
                raise mapped(str(exc)) from exc
        raise


class _Body(httpx.AsyncByteStream):
    """A reply's body, read from the pool, with httpcore's errors raised as httpx's."""

    __slots__ = ("_stream",)

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class PoolTransport(httpx.AsyncBaseTransport):
    """httpcore's connection pool on asyncio's protocols, as an httpx transport.

    Args:
        verify: The TLS context, or ``True`` for httpx's default one (certifi's roots,
            or ``SSL_CERT_FILE``/``SSL_CERT_DIR``).
        limits: The pool's size and keep-alive limits.
    """

    __slots__ = ("_pool",)

    def __init__(self, *, verify: ssl.SSLContext | bool, limits: httpx.Limits) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool; the reply's body is left to be read."""
        url = request.url
        outgoing = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx():
            reply = await self._pool.handle_async_request(outgoing)
        assert isinstance(reply.stream, AsyncIterable)
        return httpx.Response(
            status_code=reply.status,
            headers=reply.headers,
            stream=_Body(reply.stream),
            extensions=reply.extensions,
        )

    async def aclose(self) -> None:
        """Close every connection of the pool."""
        await self._pool.aclose()
