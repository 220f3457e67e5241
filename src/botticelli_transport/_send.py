"""The connection pool, and sending a whole request to it past the client layers that would do nothing.

``httpx.AsyncClient.build_request`` merges the URL, headers, cookies and query of every
request, and ``send`` wraps the pool's ``handle_async_request`` in auth, redirect, cookie,
event-hook and logging steps. For a botticelli request all of those are no-ops: no auth
object, no hooks, redirects not followed, and (almost always) no cookies and nobody
listening to httpx's log. Measured under callgrind, the two took about a quarter of a
non-streamed request's instructions, more than parsing the reply.

So a request whose URL the client has already built once goes to the pool
directly, as the same ``httpx.Request`` the client would build (same URL, same headers in
the same order, same body and timeouts), and only while nothing the skipped steps do could
show: without proxies from the environment (the client would route through them), without
credentials in the URL (httpx would turn them into basic auth), while the cookie jar is
empty (a cookie a reply sets is still stored, and from then on every request goes through
the client, which sends it back), and while httpx's ``INFO`` log is off (that step writes
one line per request there). A stream is opened the same way: its request is the one the
client would build, and the pool's reply is read as the client's would be.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.request import getproxies

import httpx

if TYPE_CHECKING:
    from botticelli_transport._pool import PoolTransport

__all__ = ["Sender", "open_pool"]

_HTTPX_LOG = logging.getLogger("httpx")
# Every path a program asks for is one of a few: the chat, embeddings and models routes, a
# Gemini model's. The bound only keeps a program inventing paths from growing it for ever.
_MAX_URLS = 256


class Sender:
    """Builds the requests of one pool, and says which of them may skip the client's layers.

    Args:
        client: The client every request could go through.
        pool: The client's own connection pool, or ``None`` when requests must always go
            through the client (proxies from the environment).
        timeout: The client's timeouts, sent with every request.
    """

    __slots__ = ("_timeouts", "_urls", "client", "pool")

    def __init__(self, client: httpx.AsyncClient, pool: PoolTransport | None, timeout: httpx.Timeout) -> None:
        self.client = client
        self.pool = pool
        self._timeouts = timeout.as_dict()
        self._urls: dict[str, httpx.URL] = {}

    def build(
        self,
        method: str,
        path: str,
        content: bytes | None,
        params: Mapping[str, str] | None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> tuple[httpx.Request, PoolTransport | None]:
        """The request, and the pool to hand it to directly (``None``: send it through the client).

        ``headers`` are added to the client's (a stream's ``accept``), and ``timeout``
        replaces the client's, as they would be by ``build_request``.
        """
        client = self.client
        pool = self.pool
        if pool is not None and params is None and not client.cookies and not _HTTPX_LOG.isEnabledFor(logging.INFO):
            url = self._urls.get(path)
            if url is not None:
                # What build_request makes of a request without cookies or query: the client's
                # headers, then the request's own over them, and the request's timeouts.
                merged: httpx.Headers | None = None
                if headers:
                    merged = client.headers.copy()
                    merged.update(headers)
                request = httpx.Request(
                    method,
                    url,
                    headers=client.headers if merged is None else merged,
                    content=content,
                    extensions={"timeout": self._timeouts if timeout is None else timeout.as_dict()},
                )
                return request, pool
        request = client.build_request(
            method,
            path,
            content=content,
            params=params,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )
        if pool is not None and params is None and not request.url.userinfo and len(self._urls) < _MAX_URLS:
            # The client's own join of base URL and path, kept for the next request to the same path.
            self._urls[path] = request.url
        return request, None

    async def send(self, request: httpx.Request, pool: PoolTransport | None) -> httpx.Response:
        """Send what :meth:`build` made, where it said, leaving the body to be read (``stream=True``).

        A reply from the pool directly gets what the client's ``send`` would give it: its
        request, and its cookies kept in the client's jar.
        """
        if pool is None:
            return await self.client.send(request, stream=True)
        response = await pool.handle_async_request(request)
        response.request = request
        for name, _ in response.headers.raw:
            if name.lower() == b"set-cookie":
                self.client.cookies.extract_cookies(response)
                break
        return response


def open_pool(
    *,
    base_url: str,
    headers: dict[str, str],
    timeout: httpx.Timeout,
    verify: ssl.SSLContext | bool,
    limits: httpx.Limits,
) -> Sender:
    """A client on a pool of its own making, so that whole requests can be handed to the pool directly.

    With proxies in the environment the client makes its pools itself (one per proxy), as
    it always did, and every request goes through it.
    """
    if _environment_proxies():
        client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=timeout,
            verify=verify,
            limits=limits,
        )
        return Sender(client, None, timeout)
    # Imported here: a program that never sends never loads httpcore.
    from botticelli_transport._pool import PoolTransport  # noqa: PLC0415

    # What AsyncClient would make for these arguments but for its network backend (see
    # _pool); given explicitly, it is the same object the client sends through.
    pool = PoolTransport(verify=verify, limits=limits)
    client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, transport=pool)
    return Sender(client, pool, timeout)


def _environment_proxies() -> bool:
    # httpx routes through the proxies the standard library finds (HTTP(S)_PROXY, ALL_PROXY);
    # NO_PROXY alone only exempts hosts, which leaves the client's own pool.
    found = getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))
