"""The httpx client a transport sends through: one of its own on the aiohttp layer, or the caller's.

Every request goes through the client's public ``build_request`` and ``send``, so cookies,
auth, event hooks, mounts and proxies work as httpx documents them, and nothing here
depends on how httpx builds a request inside.

A client botticelli makes carries the transport's headers and timeouts itself, sends
through :class:`~botticelli_transport._aiohttp.AiohttpTransport`, and is closed with the
transport. A caller's client (``http_client=``) is used as it is, with the transport's
headers and timeouts given on each request, and is never closed by botticelli: its
owner may share it.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from urllib.request import getproxies

import httpx

__all__ = ["Sender", "caller_client", "open_client"]

# Every path a program asks for is one of a few: the chat, embeddings and models routes, a
# Gemini model's. The bound only keeps a program inventing paths from growing it for ever.
_MAX_URLS = 256


class Sender:
    """Builds and sends the requests of one transport through its httpx client.

    Args:
        client: The client every request goes through.
        base_url: What each request's path is appended to.
        headers: Sent with every request (already the client's own when ``owned``).
        timeout: Every request's timeouts (already the client's own when ``owned``).
        owned: Whether botticelli made ``client``, and so closes it.
    """

    __slots__ = ("_base_url", "_per_request", "_timeout", "_urls", "client", "owned")

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
        owned: bool,
    ) -> None:
        self.client = client
        self.owned = owned
        self._base_url = base_url
        # A client of botticelli's own carries the headers and timeouts already; a caller's is
        # given them on each request.
        self._per_request = None if owned else dict(headers)
        self._timeout = timeout
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
    ) -> httpx.Request:
        """The request for ``path``: ``headers`` added to the transport's, ``timeout`` instead of its own."""
        url = self._urls.get(path)
        if url is None:
            # Parsed once per path: the absolute URL, so that a caller's client needs no base_url.
            url = httpx.URL(self._base_url + path)
            if len(self._urls) < _MAX_URLS:
                self._urls[path] = url
        given = self._per_request
        if given is not None:
            headers = given if not headers else {**given, **headers}
            if timeout is None:
                timeout = self._timeout
        return self.client.build_request(
            method,
            url,
            content=content,
            params=params,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )

    async def send(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, leaving the body to be read (``stream=True``)."""
        return await self.client.send(request, stream=True)

    async def aclose(self) -> None:
        """Close the client if botticelli made it; a caller's client stays open."""
        if self.owned:
            await self.client.aclose()


def open_client(
    *,
    base_url: str,
    headers: dict[str, str],
    timeout: httpx.Timeout,
    verify: ssl.SSLContext,
    limits: httpx.Limits,
) -> Sender:
    """A client of botticelli's own, on the aiohttp connection layer.

    With proxies in the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``) the
    client is httpx's own, on its own transport: httpx reads those settings, ``NO_PROXY``
    included, only for a client it builds the transports of, and applying them is its job.
    """
    if _environment_proxies():
        client = httpx.AsyncClient(headers=headers, timeout=timeout, verify=verify, limits=limits)
    else:
        from botticelli_transport._aiohttp import AiohttpTransport  # noqa: PLC0415

        client = httpx.AsyncClient(
            headers=headers, timeout=timeout, transport=AiohttpTransport(verify=verify, limits=limits)
        )
    return Sender(client, base_url=base_url, headers=headers, timeout=timeout, owned=True)


def _environment_proxies() -> bool:
    # The proxies httpx would route through: the standard library's reading of the
    # environment (HTTP(S)_PROXY, ALL_PROXY); NO_PROXY alone only exempts hosts.
    found = getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


def caller_client(
    client: httpx.AsyncClient, *, base_url: str, headers: dict[str, str], timeout: httpx.Timeout
) -> Sender:
    """The caller's ``client``, sent through with the transport's headers and timeouts on each request."""
    return Sender(client, base_url=base_url, headers=headers, timeout=timeout, owned=False)
