"""The connection layer at each fault a real server can commit, on asyncio (aiohttp) and on trio (httpcore).

Every test talks to a real server on 127.0.0.1 through :class:`HttpTransport`, as every
backend does, and holds one behaviour on both event loops: what arrives arrives whole,
each failure is one typed botticelli error with nothing of the libraries underneath on
its chain, each limit holds, and a connection the server closed is never sent on.
"""

from __future__ import annotations

import functools
import gzip
import socket
import ssl
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import trustme

from botticelli_error import (
    APIStatusError,
    ConfigurationError,
    RequestTimeoutError,
    ResponseDecodeError,
    TransportError,
)
from botticelli_transport import HttpSettings, HttpTransport, ServerSentEvent

from .support import assert_typed_alone, idle, read_head, read_request, reply, reset, serving

pytestmark = [
    pytest.mark.anyio,
    # Under trio, a body httpx left part-read (an error, a limit) leaves httpx's and httpcore's
    # own iterator generators to the garbage collector, which trio reports; the connection
    # itself is closed by the response's aclose. Not botticelli's generators: only theirs.
    pytest.mark.filterwarnings(r"ignore:Async generator 'http(x|core)\._:ResourceWarning"),
]
both_loops = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])


def transport(url: str, **options: Any) -> HttpTransport:
    return HttpTransport(HttpSettings(provider="local", base_url=url, **{"max_retries": 0, **options}))


async def failure(url: str, method: str = "GET", content: bytes | None = None, **options: Any) -> BaseException:
    """The error one request to ``url`` ends in (the test fails if it succeeds)."""
    client = transport(url, **options)
    try:
        await client.request(method, "/v1/x", content=content)
    except BaseException as exc:
        return exc
    finally:
        await client.aclose()
    raise AssertionError("the request succeeded")


def answering(body: bytes, *, times: int = 1_000) -> Any:
    def script(conn: socket.socket) -> None:
        for _ in range(times):
            read_request(conn)
            conn.sendall(reply(body))

    return script


# --- bodies arrive whole ---------------------------------------------------------------


@both_loops
async def test_a_large_reply_arrives_whole_and_the_connection_is_kept_alive() -> None:
    body = bytes(range(256)) * 16384  # 4 MiB
    with serving(answering(body)) as server:
        client = transport(server.url)
        for _ in range(2):
            assert (await client.request("GET", "/")).content == body
        await client.aclose()
    assert server.accepted == 1


@both_loops
async def test_a_large_request_body_to_a_slow_reader_arrives_whole_with_its_length() -> None:
    body = bytes(range(256)) * 65536  # 16 MiB, written in pieces
    got: dict[str, bytes] = {}

    def script(conn: socket.socket) -> None:
        head = read_head(conn)
        received = bytearray()
        while len(received) < len(body):
            received += conn.recv(1 << 16)
            time.sleep(0.0002)
        got["head"], got["body"] = head.lower(), bytes(received)
        conn.sendall(reply(b"ok"))

    with serving(script) as server:
        client = transport(server.url)
        assert (await client.request("POST", "/", content=body)).content == b"ok"
        await client.aclose()
    assert got["body"] == body
    assert b"content-length: %d" % len(body) in got["head"]
    assert b"transfer-encoding" not in got["head"]


@both_loops
async def test_a_close_delimited_http_1_0_reply_is_read_to_the_end() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n" + b"{}" * 50_000)

    with serving(script) as server:
        client = transport(server.url)
        assert (await client.request("GET", "/")).content == b"{}" * 50_000
        await client.aclose()


@both_loops
async def test_an_interim_100_continue_is_passed_over_for_the_real_reply() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" + reply(b"done"))

    with serving(script) as server:
        client = transport(server.url)
        result = await client.request("POST", "/", content=b"{}")
        await client.aclose()
    assert (result.status_code, result.content) == (200, b"done")


@both_loops
async def test_an_ipv6_literal_base_url_works() -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    with serving(answering(b"six"), host="::1", url_host="[::1]") as server:
        client = transport(server.url)
        assert (await client.request("GET", "/")).content == b"six"
        await client.aclose()


@both_loops
async def test_a_compressed_reply_is_inflated_and_a_bomb_stops_at_the_limit() -> None:
    small, bomb = gzip.compress(b'{"a": 1}'), gzip.compress(b"0" * (8 << 20))

    def script(conn: socket.socket) -> None:
        for body in (small, bomb):
            read_request(conn)
            conn.sendall(reply(body, headers=b"content-encoding: gzip\r\n"))

    with serving(script) as server:
        client = transport(server.url, max_response_bytes=1 << 20)
        assert (await client.request("GET", "/")).content == b'{"a": 1}'
        with pytest.raises(ResponseDecodeError, match="max_response_bytes") as caught:
            await client.request("GET", "/")
        await client.aclose()
    assert_typed_alone(caught.value)
    assert len(bomb) < 64 * 1024  # it was the inflating that was stopped, not the download


# --- a connection the server closed is never sent on ----------------------------------


@both_loops
@pytest.mark.parametrize("close", ["fin", "rst"])
async def test_an_idle_connection_the_server_closed_is_not_used_again(close: str) -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(reply(b"{}"))  # kept alive by HTTP/1.1's rules, closed right after
        time.sleep(0.02)
        if close == "rst":
            reset(conn)

    with serving(script) as server:
        client = transport(server.url)  # max_retries = 0: a stale connection would fail the call
        assert (await client.request("POST", "/", content=b"{}")).content == b"{}"
        await anyio.sleep(0.1)  # the close reaches the client
        assert (await client.request("POST", "/", content=b"{}")).content == b"{}"
        await client.aclose()
    assert server.accepted == 2


# --- limits ---------------------------------------------------------------------------


@both_loops
async def test_max_connections_caps_the_sockets_open_at_once() -> None:
    def script(conn: socket.socket) -> None:
        while True:
            read_request(conn)
            time.sleep(0.02)
            conn.sendall(reply(b"{}"))

    with serving(script) as server:
        client = transport(server.url, max_connections=3)
        async with anyio.create_task_group() as group:
            for _ in range(24):
                group.start_soon(functools.partial(client.request, "POST", "/", content=b"{}"))
        await client.aclose()
    assert server.most_open <= 3
    assert server.accepted <= 3


@both_loops
async def test_a_server_that_never_reads_a_large_body_times_out_within_the_bound() -> None:
    def script(conn: socket.socket) -> None:
        read_head(conn)
        idle(5)  # reads nothing more, answers nothing

    with serving(script) as server:
        started = time.monotonic()
        error = await failure(server.url, "POST", b"x" * (64 << 20), read_timeout=0.3)
        elapsed = time.monotonic() - started
    assert isinstance(error, RequestTimeoutError)
    assert_typed_alone(error)
    assert elapsed < 3


@both_loops
async def test_a_server_that_never_answers_is_a_read_timeout_naming_the_limit() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        idle(5)

    with serving(script) as server:
        error = await failure(server.url, read_timeout=0.2)
    assert isinstance(error, RequestTimeoutError)
    assert "0.2 s" in str(error)
    assert_typed_alone(error)


@both_loops
async def test_the_total_deadline_holds_over_a_slow_trickle() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.05)

    with serving(script) as server:
        started = time.monotonic()
        error = await failure(server.url, total_timeout=0.5)
    assert isinstance(error, RequestTimeoutError)
    assert time.monotonic() - started < 3
    assert_typed_alone(error)


@both_loops
async def test_an_oversize_header_line_is_a_typed_error_read_only_in_part() -> None:
    sent = [0]

    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nx-huge: ")
        for _ in range(1024):  # 64 MiB in all, if the client would take it
            conn.sendall(b"h" * 65536)
            sent[0] += 65536

    with serving(script) as server:
        error = await failure(server.url)
    assert isinstance(error, TransportError)
    assert_typed_alone(error)
    assert sent[0] < 32 << 20


@both_loops
async def test_a_reply_cut_short_is_a_typed_error() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")

    with serving(script) as server:
        error = await failure(server.url)
    assert isinstance(error, TransportError)
    assert_typed_alone(error)


@both_loops
async def test_a_reset_in_the_middle_of_a_reply_is_a_typed_error() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        time.sleep(0.02)
        reset(conn)

    with serving(script) as server:
        error = await failure(server.url)
    assert isinstance(error, TransportError)
    assert_typed_alone(error)


@both_loops
async def test_a_refused_connection_is_a_typed_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket is closed
    error = await failure(f"http://127.0.0.1:{port}")
    assert type(error) is TransportError
    assert "cannot connect" in str(error)
    assert_typed_alone(error)


@both_loops
async def test_a_reply_sent_before_the_body_was_read_reaches_the_caller() -> None:
    def script(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(reply(b'{"error": {"message": "too large"}}', "413 Payload Too Large", b"connection: close\r\n"))
        conn.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and conn.recv(1 << 16):  # drains, as servers do before closing
            pass

    with serving(script) as server:
        error = await failure(server.url, "POST", b"x" * (16 << 20))
    assert isinstance(error, APIStatusError)
    assert error.status_code == 413
    assert_typed_alone(error)


@both_loops
async def test_a_redirect_is_not_followed() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(reply(b"", "302 Found", b"location: http://127.0.0.1:9/elsewhere\r\n"))

    with serving(script) as server:
        error = await failure(server.url)
    assert isinstance(error, APIStatusError)
    assert error.status_code == 302


# --- TLS --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(authority: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(authority: trustme.CA, *, client_ca: trustme.CA | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    if client_ca is not None:
        client_ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


@both_loops
async def test_a_server_behind_a_private_ca_works_with_ca_bundle(authority: trustme.CA, ca_file: str) -> None:
    with serving(answering(b"secure"), tls=server_context(authority)) as server:
        client = transport(server.url, ca_bundle=ca_file)
        assert (await client.request("GET", "/")).content == b"secure"
        await client.aclose()


@both_loops
async def test_ssl_cert_file_from_the_environment_is_trusted(
    authority: trustme.CA, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    with serving(answering(b"secure"), tls=server_context(authority)) as server:
        client = transport(server.url)
        assert (await client.request("GET", "/")).content == b"secure"
        await client.aclose()


@both_loops
async def test_a_refused_certificate_says_so_and_why_and_is_not_retried(authority: trustme.CA) -> None:
    with serving(answering(b"secure"), tls=server_context(authority)) as server:
        error = await failure(server.url, max_retries=2)  # certifi's roots: not this CA
    assert type(error) is TransportError
    assert "certificate of https://localhost" in str(error)
    assert "was refused" in str(error)
    assert "unable to get local issuer certificate" in str(error)
    assert "ca_bundle" in str(error)
    assert not error.retryable
    assert_typed_alone(error)


@both_loops
async def test_mutual_tls_shows_the_client_certificate(authority: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    clients = trustme.CA()
    mine = clients.issue_cert("me@example.test")
    cert, key = tmp_path / "me.pem", tmp_path / "me.key"
    mine.cert_chain_pems[0].write_to_path(str(cert))
    mine.private_key_pem.write_to_path(str(key))
    context = server_context(authority, client_ca=clients)
    with serving(answering(b"you again"), tls=context) as server:
        client = transport(server.url, ca_bundle=ca_file, client_cert=str(cert), client_key=str(key))
        assert (await client.request("GET", "/")).content == b"you again"
        await client.aclose()
        error = await failure(server.url, ca_bundle=ca_file)  # no certificate to show
    assert isinstance(error, TransportError)
    assert_typed_alone(error)


@both_loops
async def test_a_tls_handshake_that_never_ends_is_a_connect_timeout() -> None:
    def script(conn: socket.socket) -> None:
        conn.recv(1 << 16)  # the ClientHello, never answered
        idle(3)

    with serving(script) as server:
        error = await failure(server.url.replace("http:", "https:"), connect_timeout=0.2)
    assert isinstance(error, RequestTimeoutError)
    assert "connect" in str(error)
    assert_typed_alone(error)


async def test_a_ca_bundle_that_is_not_a_certificate_is_a_configuration_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    error = await failure("https://localhost:9", ca_bundle=str(junk))
    assert isinstance(error, ConfigurationError)
    assert "ca_bundle" in str(error)
    assert_typed_alone(error)


# --- loops and lifetimes ------------------------------------------------------------------


def test_a_client_used_by_two_event_loops_in_turn_works() -> None:
    import asyncio  # noqa: PLC0415

    with serving(answering(b"again")) as server:
        client = transport(server.url)
        for _ in range(2):  # what a notebook does: asyncio.run once per cell
            assert asyncio.run(client.request("GET", "/")).content == b"again"
        asyncio.run(client.aclose())
    assert server.accepted == 2


@both_loops
async def test_a_cancelled_stream_read_closes_its_socket_and_frees_its_slot() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        conn.sendall(b'13\r\ndata: {"tick": 1}\n\n\r\n')
        while conn.recv(1024):  # the rest never comes; returns when the client closes
            pass

    with serving(script) as server:
        client = transport(server.url, max_connections=1)
        for _ in range(2):  # the second stream needs the one slot of the pool back
            with anyio.move_on_after(0.3) as scope:
                async with client.stream("/", content=b"{}", reader=object, decode=event_data) as stream:
                    async for _ in stream:
                        pass
            assert scope.cancelled_caught
            with anyio.fail_after(2):
                while server.open_now:  # noqa: ASYNC110 - a count kept by the server's threads
                    await anyio.sleep(0.01)
        await client.aclose()
    assert server.accepted == 2


def compressed_stream(events: int) -> Iterator[bytes]:
    packer = zlib.compressobj(wbits=31)
    for i in range(events):
        yield packer.compress(b'data: {"n": %d}\n\n' % i)
    yield packer.flush()


def event_data(_: object, event: ServerSentEvent) -> bytes:
    return event.data


async def read_stream(client: HttpTransport) -> list[bytes]:
    async with client.stream("/", content=b"{}", reader=object, decode=event_data) as stream:
        return [item async for item in stream]


@both_loops
async def test_a_compressed_event_stream_is_inflated_as_it_arrives() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip\r\n"
            b"connection: close\r\n\r\n" + b"".join(compressed_stream(50))
        )

    with serving(script) as server:
        client = transport(server.url)
        items = await read_stream(client)
        await client.aclose()
    assert items == [b'{"n": %d}' % i for i in range(50)]


FIRST_REQUEST = """
import asyncio, sys
from botticelli_transport import HttpSettings, HttpTransport, ServerSentEvent

async def main(url):
    client = HttpTransport(HttpSettings(provider="local", base_url=url, max_retries=0))
    before = "aiohttp" in sys.modules
    try:
        await client.request("GET", "/")
    finally:
        await client.aclose()
    print(before, "aiohttp" in sys.modules)

asyncio.run(main(sys.argv[1]))
"""


def test_aiohttp_is_imported_by_the_first_request_not_before() -> None:
    with serving(answering(b"{}")) as server:
        done = subprocess.run(
            [sys.executable, "-c", FIRST_REQUEST, server.url], capture_output=True, text=True, check=True, timeout=30
        )
    assert done.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("anyio_backend", [pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop")])
async def test_under_uvloop_requests_and_streams_go_through_aiohttp() -> None:
    def script(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(reply(b"whole"))
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 26\r\n\r\n")
        conn.sendall(b"data: one\n\ndata: two\n\n\n\n\n\n")

    with serving(script) as server:
        client = transport(server.url)
        assert (await client.request("GET", "/")).content == b"whole"
        assert await read_stream(client) == [b"one", b"two"]
        assert "uvloop" in type(client._sender.client._transport._loop).__module__  # type: ignore[attr-defined]
        await client.aclose()
