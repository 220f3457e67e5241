"""The pool's network layer on asyncio's protocols: what a connection does at each fault.

Every test talks to a real server on 127.0.0.1 through :class:`PoolTransport`, the
transport every direct client sends through, and holds one behaviour: bodies arrive
whole whatever the pace, an idle connection the server closed is not reused, each
timeout and network failure is httpx's exception of that name, a cancelled read gives
its connection back, TLS verifies, and other event loops (trio) still work.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import trustme

from botticelli_error import RequestTimeoutError
from botticelli_transport import HttpSettings, HttpTransport, _network
from botticelli_transport._network import AsyncioBackend
from botticelli_transport._pool import PoolTransport

pytestmark = pytest.mark.anyio

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
PLAIN = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
LIMITS = httpx.Limits(max_connections=4, max_keepalive_connections=4)


@contextlib.asynccontextmanager
async def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback server running ``handler`` per connection; yields its URL and a count of connections."""
    connections = [0]

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections[0] += 1
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0, ssl=tls)
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://localhost:{server.sockets[0].getsockname()[1]}", connections
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))


def reply(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


def client(url: str, pool: PoolTransport, **timeouts: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, transport=pool, timeout=httpx.Timeout(5.0, **timeouts))


def in_use(pool: PoolTransport) -> int:
    return sum(1 for c in pool._pool.connections if not c.is_idle())


async def test_a_large_body_sent_faster_than_it_is_read_arrives_whole() -> None:
    body = bytes(range(256)) * 16384  # 4 MiB: reading pauses and resumes many times

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(reply(body))
            await writer.drain()

    async with serving(handler) as (url, connections):
        pool = PoolTransport(verify=PLAIN, limits=LIMITS)
        async with client(url, pool) as http:
            for _ in range(2):
                received = bytearray()
                async with http.stream("GET", "/") as response:
                    async for part in response.aiter_raw():
                        received += part
                        await asyncio.sleep(0)  # a consumer slower than loopback
                assert bytes(received) == body
        assert connections[0] == 1  # kept alive and reused


async def test_a_slow_reader_holds_a_bounded_amount_of_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    # Reading pauses while the consumer is behind, so the server waits instead of the
    # client buffering the whole body.
    seen = [0]
    received = _network._Connection.data_received

    def spy(self: _network._Connection, data: bytes) -> None:
        received(self, data)
        seen[0] = max(seen[0], self._buffered)

    monkeypatch.setattr(_network._Connection, "data_received", spy)
    body = b"y" * (8 << 20)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply(body))
        await writer.drain()

    async with serving(handler) as (url, _):
        pool = PoolTransport(verify=PLAIN, limits=LIMITS)
        async with client(url, pool) as http, http.stream("GET", "/") as response:
            size = 0
            async for part in response.aiter_raw():
                size += len(part)
                await asyncio.sleep(0.001)
    assert size == len(body)
    # One read of the loop's (256 KiB at most) can land after the pause was asked for.
    assert seen[0] <= 2 * _network._HIGH_WATER


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply(b"{}"))  # keep-alive by HTTP/1.1's rules, but closed right after
        await writer.drain()

    async with serving(handler) as (url, connections):
        pool = PoolTransport(verify=PLAIN, limits=LIMITS)
        async with client(url, pool) as http:
            assert (await http.get("/")).content == b"{}"
            await asyncio.sleep(0.05)  # the server's FIN reaches the client's loop
            assert (await http.get("/")).content == b"{}"
        assert connections[0] == 2


async def test_a_server_that_never_answers_is_a_read_timeout_and_the_connection_is_dropped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(10)

    async with serving(handler) as (url, _):
        pool = PoolTransport(verify=PLAIN, limits=LIMITS)
        async with client(url, pool, read=0.1) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get("/")
            assert pool._pool.connections == []


async def test_the_typed_error_of_a_read_timeout_names_the_limit() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(10)

    async with serving(handler) as (url, _):
        transport = HttpTransport(HttpSettings(provider="local", base_url=url, read_timeout=0.1, max_retries=0))
        with pytest.raises(RequestTimeoutError):
            await transport.request("GET", "/")
        await transport.aclose()


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket is closed
    pool = PoolTransport(verify=PLAIN, limits=LIMITS)
    async with client(f"http://127.0.0.1:{port}", pool) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/")


async def test_a_connection_that_is_never_accepted_is_a_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    async def never(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(10)

    monkeypatch.setattr(asyncio.get_running_loop(), "create_connection", never)
    pool = PoolTransport(verify=PLAIN, limits=LIMITS)
    async with client("http://127.0.0.1:9", pool, connect=0.05) as http:
        with pytest.raises(httpx.ConnectTimeout):
            await http.get("/")


async def test_a_server_that_does_not_read_the_request_is_a_write_timeout() -> None:
    stop = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await stop.wait()

    async with serving(handler) as (url, _):
        pool = PoolTransport(verify=PLAIN, limits=LIMITS)
        async with client(url, pool, write=0.2) as http:
            with pytest.raises(httpx.WriteTimeout):
                await http.post("/", content=b"x" * (64 << 20))  # far over the socket buffers
        stop.set()


async def test_a_large_request_body_to_a_slow_reader_arrives_whole() -> None:
    # Writing waits while the socket's buffers are full, and goes on when the server reads.
    body = bytes(range(256)) * 65536  # 16 MiB
    got = bytearray()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"content-length: %d" % len(body) in head.lower()
        while len(got) < len(body):
            got.extend(await reader.read(1 << 16))
            await asyncio.sleep(0)
        writer.write(reply(b"ok"))
        await writer.drain()

    async with serving(handler) as (url, _):
        pool = PoolTransport(verify=PLAIN, limits=LIMITS)
        async with client(url, pool) as http:
            assert (await http.post("/", content=body)).content == b"ok"
    assert bytes(got) == body


async def test_a_server_that_hangs_up_on_a_request_is_a_network_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()

    async with serving(handler) as (url, _):
        pool = PoolTransport(verify=PLAIN, limits=LIMITS)
        async with client(url, pool) as http:
            with pytest.raises((httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError)):
                await http.post("/", content=b"z" * (16 << 20))
            assert pool._pool.connections == []


async def test_a_reset_while_reading_is_a_read_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()  # RST, not FIN

    async with serving(handler) as (url, _):
        pool = PoolTransport(verify=PLAIN, limits=LIMITS)
        async with client(url, pool) as http:
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                await http.get("/")


async def test_a_cancelled_read_gives_its_connection_back() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
            await writer.drain()  # and the rest never comes

    async with serving(handler) as (url, _):
        pool = PoolTransport(verify=PLAIN, limits=LIMITS)
        async with client(url, pool) as http:

            async def read_all() -> None:
                async with http.stream("GET", "/") as response:
                    async for _ in response.aiter_raw():
                        pass

            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await read_all()
            assert in_use(pool) == 0


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def tls_contexts(authority: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    return server, trusting


async def test_https_verifies_the_server_and_reports_the_tls_session(authority: trustme.CA) -> None:
    server_context, trusting = tls_contexts(authority)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply(b"secure"))
        await writer.drain()

    async with serving(handler, tls=server_context) as (url, _):
        pool = PoolTransport(verify=trusting, limits=LIMITS)
        async with client(url, pool) as http:
            response = await http.get("/")
            assert response.content == b"secure"
            stream = response.extensions["network_stream"]
            assert stream.get_extra_info("ssl_object").version().startswith("TLS")
            assert stream.get_extra_info("server_addr")[0] == "127.0.0.1"


async def test_a_large_body_over_tls_arrives_whole(authority: trustme.CA) -> None:
    server_context, trusting = tls_contexts(authority)
    body = bytes(range(256)) * 16384  # 4 MiB: reading pauses and resumes through the TLS transport

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply(body))
        await writer.drain()

    async with serving(handler, tls=server_context) as (url, _):
        pool = PoolTransport(verify=trusting, limits=LIMITS)
        async with client(url, pool) as http, http.stream("GET", "/") as response:
            received = bytearray()
            async for part in response.aiter_raw():
                received += part
                await asyncio.sleep(0.001)
    assert bytes(received) == body


async def test_a_certificate_nobody_vouches_for_is_a_connect_error(authority: trustme.CA) -> None:
    server_context, _ = tls_contexts(authority)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async with serving(handler, tls=server_context) as (url, _):
        pool = PoolTransport(verify=True, limits=LIMITS)  # the default roots: not this CA
        async with client(url, pool) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get("/")


async def test_a_tls_handshake_that_never_ends_is_a_connect_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes the ClientHello and never answers it

    async with serving(handler) as (url, _):
        pool = PoolTransport(verify=True, limits=LIMITS)
        async with client(url.replace("http:", "https:"), pool, connect=0.1) as http:
            with pytest.raises(httpx.ConnectTimeout):
                await http.get("/")


async def test_socket_options_and_addresses_reach_the_socket() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async with serving(handler) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        stream = await AsyncioBackend().connect_tcp(
            "127.0.0.1", port, timeout=1.0, socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
        )
        try:
            assert stream.get_extra_info("socket").getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
            assert stream.get_extra_info("ssl_object") is None
            assert stream.get_extra_info("no such thing") is None
        finally:
            await stream.aclose()


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def threaded_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_under_trio_the_pool_uses_httpcores_own_backend(threaded_server: str) -> None:
    pool = PoolTransport(verify=PLAIN, limits=LIMITS)
    async with client(threaded_server, pool) as http:
        assert (await http.get("/")).content == b"hello"
