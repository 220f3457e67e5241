"""A whole request handed to the pool directly is, on the wire, the request the client sends.

The pool is used directly only where the client's skipped steps would do nothing; these tests
hold each condition: the bytes sent, a cookie a reply sets, proxies from the environment,
credentials in the URL and httpx's own log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from botticelli_transport import HttpSettings, HttpTransport
from botticelli_transport._pool import PoolTransport
from botticelli_transport._send import Sender
from botticelli_transport.sse import ServerSentEvent

pytestmark = pytest.mark.anyio

BODY = b'{"model":"m","messages":[]}'


class _Recorder:
    """A loopback HTTP/1.1 server that keeps each request's bytes and answers with ``extra`` headers once."""

    def __init__(self, first_reply_headers: bytes = b"") -> None:
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []
        self._first = first_reply_headers
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                self.bodies.append(await reader.readexactly(length))
                self.heads.append(head)
                extra, self._first = self._first, b""
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n" + extra + b"\r\n{}"
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def recorder(first_reply_headers: bytes = b"") -> AsyncIterator[_Recorder]:
    state = _Recorder(first_reply_headers)
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


def sender_of(transport: HttpTransport) -> Sender:
    return transport._sender  # built on first use


async def test_the_direct_request_sends_the_bytes_the_client_sends() -> None:
    async with recorder() as server:
        transport = HttpTransport(HttpSettings(provider="local", base_url=server.url, headers={"x-extra": "1"}))
        try:
            first = await transport.request("POST", "/v1/chat/completions", content=BODY)
            _, pool = sender_of(transport).build("POST", "/v1/chat/completions", BODY, None)
            second = await transport.request("POST", "/v1/chat/completions", content=BODY)
        finally:
            await transport.aclose()
    assert pool is not None  # the second request went to the pool directly
    assert server.heads[0] == server.heads[1]
    assert server.bodies == [BODY, BODY]
    assert (first.content, first.status_code) == (second.content, second.status_code) == (b"{}", 200)


async def test_the_direct_request_is_the_request_build_request_makes() -> None:
    transport = HttpTransport(HttpSettings(provider="local", base_url="http://127.0.0.1:9/v1"))
    sender = sender_of(transport)
    built, through = sender.build("POST", "/chat/completions", BODY, None)
    direct, pool = sender.build("POST", "/chat/completions", BODY, None)
    assert through is None
    assert pool is sender.pool
    assert pool is not None
    assert (direct.method, direct.url, direct.headers.raw) == (built.method, built.url, built.headers.raw)
    assert (direct.content, direct.extensions) == (built.content, built.extensions)
    await transport.aclose()


async def test_a_cookie_a_direct_reply_sets_is_sent_back() -> None:
    async with recorder() as server:
        transport = HttpTransport(HttpSettings(provider="local", base_url=server.url))
        try:
            await transport.request("POST", "/v1/x", content=BODY)  # through the client: the URL is now known
            server._first = b"set-cookie: route=a; Path=/\r\n"
            await transport.request("POST", "/v1/x", content=BODY)  # direct: sets the cookie
            await transport.request("POST", "/v1/x", content=BODY)
            _, pool = sender_of(transport).build("POST", "/v1/x", BODY, None)
        finally:
            await transport.aclose()
    assert b"cookie: route=a" not in server.heads[1].lower()
    assert b"cookie: route=a" in server.heads[2].lower()
    assert pool is None  # with a cookie in the jar, the client adds it to every request


async def test_proxies_from_the_environment_keep_every_request_on_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    transport = HttpTransport(HttpSettings(provider="local", base_url="http://127.0.0.1:9"))
    sender = sender_of(transport)
    assert sender.pool is None
    sender.build("POST", "/v1/x", BODY, None)
    assert sender.build("POST", "/v1/x", BODY, None)[1] is None
    await transport.aclose()


async def test_credentials_in_the_url_keep_every_request_on_the_client() -> None:
    # httpx makes basic auth of them, in a step the pool does not run.
    transport = HttpTransport(HttpSettings(provider="local", base_url="http://user:pw@127.0.0.1:9"))
    sender = sender_of(transport)
    sender.build("POST", "/v1/x", BODY, None)
    assert sender.build("POST", "/v1/x", BODY, None)[1] is None
    await transport.aclose()


async def test_query_parameters_and_httpx_logging_keep_the_request_on_the_client() -> None:
    transport = HttpTransport(HttpSettings(provider="local", base_url="http://127.0.0.1:9"))
    sender = sender_of(transport)
    sender.build("GET", "/v1/x", None, None)
    assert sender.build("GET", "/v1/x", None, {"page": "2"})[1] is None
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.INFO)
    try:
        assert sender.build("GET", "/v1/x", None, None)[1] is None
    finally:
        httpx_log.setLevel(level)
    assert sender.build("GET", "/v1/x", None, None)[1] is sender.pool
    assert isinstance(sender.pool, PoolTransport)
    await transport.aclose()


async def test_a_direct_stream_request_is_the_request_build_request_makes() -> None:
    # A stream adds its accept header to the client's and has timeouts of its own.
    transport = HttpTransport(HttpSettings(provider="local", base_url="http://127.0.0.1:9/v1", headers={"x-a": "1"}))
    sender = sender_of(transport)
    extra = {"accept": "text/event-stream"}
    built, through = sender.build(
        "POST", "/chat/completions", BODY, None, headers=extra, timeout=transport._stream_timeout
    )
    direct, pool = sender.build(
        "POST", "/chat/completions", BODY, None, headers=extra, timeout=transport._stream_timeout
    )
    assert through is None
    assert pool is sender.pool
    assert (direct.method, direct.url, direct.headers.raw) == (built.method, built.url, built.headers.raw)
    assert (direct.content, direct.extensions) == (built.content, built.extensions)
    assert direct.headers["accept"] == "text/event-stream"
    assert (
        direct.extensions["timeout"]
        != sender_of(transport).build("POST", "/chat/completions", BODY, None)[0].extensions["timeout"]
    )
    await transport.aclose()


async def test_a_stream_opened_on_the_pool_directly_reads_and_sends_like_the_first() -> None:
    heads: list[bytes] = []
    reply = b"data: one\n\ndata: two\n\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(v)
                    for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                    if k.lower() == b"content-length"
                )
                await reader.readexactly(length)
                heads.append(head)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(reply), reply)
                )
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    transport = HttpTransport(HttpSettings(provider="local", base_url=url))
    got: list[list[bytes]] = []
    try:
        for attempt in range(2):
            if attempt:
                # From the second stream on, the client's send is not used at all.
                sender_of(transport).client.send = _must_not_send  # type: ignore[method-assign]
            async with transport.stream("/v1/s", content=BODY, reader=object, decode=_data) as items:
                got.append([item async for item in items])
        _, pool = sender_of(transport).build("POST", "/v1/s", BODY, None)
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()
    assert pool is not None  # the second stream went to the pool directly
    assert got == [[b"one", b"two"], [b"one", b"two"]]
    assert heads[0] == heads[1]


async def _must_not_send(*args: object, **kwargs: object) -> httpx.Response:
    raise AssertionError("sent through the client, not the pool")


def _data(_: object, event: ServerSentEvent) -> bytes:
    return event.data
