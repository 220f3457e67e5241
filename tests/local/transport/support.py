"""Real servers on 127.0.0.1 for the connection tests, in threads so that any event loop can talk to them.

A server runs one plain blocking function per connection (``Script``), which reads and
writes the socket as a misbehaving server would. It counts the connections it accepted
and the most it had open at once.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from botticelli_error import BotticelliError
from tests.local.error.chains import exception_chain

Script = Callable[[socket.socket], None]
_current = threading.local()


def idle(seconds: float) -> None:
    """Wait ``seconds`` in a script, or less if its server is stopping."""
    _current.stop.wait(seconds)


@dataclass
class Served:
    """What a scripted server saw, and where it listens."""

    url: str
    port: int
    accepted: int = 0
    open_now: int = 0
    most_open: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    notes: list[object] = field(default_factory=list)


@contextlib.contextmanager
def serving(
    script: Script, *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1", url_host: str = "localhost"
) -> Iterator[Served]:
    """Serve ``script`` per connection for the duration of the block."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    listener.listen(128)
    listener.settimeout(0.05)
    port = listener.getsockname()[1]
    scheme = "https" if tls else "http"
    served = Served(url=f"{scheme}://{url_host}:{port}", port=port)
    threads: list[threading.Thread] = []

    conns: list[socket.socket] = []

    def run(conn: socket.socket) -> None:
        _current.stop = served.stop
        with served.lock:
            served.open_now += 1
            served.most_open = max(served.most_open, served.open_now)
        try:
            if tls is not None:
                conn = tls.wrap_socket(conn, server_side=True)
            script(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with served.lock:
                served.open_now -= 1
            with contextlib.suppress(OSError):
                conn.close()

    def accept() -> None:
        while not served.stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(10)
            conns.append(conn)
            served.accepted += 1
            thread = threading.Thread(target=run, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield served
    finally:
        served.stop.set()
        acceptor.join()
        listener.close()
        for conn in conns:  # wakes the scripts still blocked reading
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=5)


def read_head(conn: socket.socket) -> bytes:
    """The request's head (through the blank line), read a byte at a time so nothing after it is taken."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = conn.recv(1)
        if not byte:
            raise ConnectionError("the client closed the connection")
        head += byte
    return head


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def read_request(conn: socket.socket) -> bytes:
    """A whole request: its head, and its body by ``content-length``; returns the head."""
    head = read_head(conn)
    left = content_length(head)
    while left:
        got = conn.recv(min(left, 1 << 16))
        if not got:
            raise ConnectionError("the client closed the connection")
        left -= len(got)
    return head


def reply(body: bytes, status: str = "200 OK", headers: bytes = b"") -> bytes:
    return b"HTTP/1.1 %s\r\ncontent-length: %d\r\n%s\r\n%s" % (status.encode(), len(body), headers, body)


def reset(conn: socket.socket) -> None:
    """Close with an RST rather than a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def assert_typed_alone(error: BaseException) -> None:
    """``error`` is botticelli's, and nothing of aiohttp, httpx, httpcore or ssl hangs behind it."""
    assert isinstance(error, BotticelliError), f"{type(error).__module__}.{type(error).__name__}: {error}"
    foreign = [e for e in exception_chain(error) if not isinstance(e, BotticelliError)]
    assert [f"{type(e).__module__}.{type(e).__name__}" for e in foreign] == []
