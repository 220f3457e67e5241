"""Helpers of the server-client tests: a client on the mock URL, a sleep recorder, a loopback server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import psutil
import pytest

from botticelli_core import GenerateRequest, StreamChunk
from botticelli_server import ServerClient, ServerConfig

from . import wire

REQUEST = GenerateRequest.from_prompt("Say hello.", max_tokens=16)


def established_to(url: str) -> int:
    """How many of this process's TCP connections to ``url``'s port are open (the client's pool, seen from the OS)."""
    port = int(url.rsplit(":", 1)[1])
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


async def socket_released(server: Loopback) -> None:
    """Waits (2 s at most) for the client to close its socket, then checks the pool holds none to the server."""
    with anyio.fail_after(2):
        await server.client_closed.wait()
    assert established_to(server.url) == 0


def make_client(base_url: str = wire.BASE_URL, **overrides: Any) -> ServerClient:
    """A client of a server at ``base_url`` serving ``"default"``; overrides go to :class:`ServerConfig`."""
    return ServerClient(ServerConfig(base_url=base_url, model="default", **overrides))


class SleepLog:
    """Stands in for ``anyio.sleep``: records each wait and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepLog:
    """Make retry backoff instant and observable."""
    log = SleepLog()
    monkeypatch.setattr(anyio, "sleep", log)
    return log


async def collect_text(client: ServerClient, request: GenerateRequest = REQUEST) -> tuple[str, list[StreamChunk]]:
    """Stream ``request`` to the end: the joined text and every chunk."""
    async with client.generate_stream(request) as stream:
        chunks = [chunk async for chunk in stream]
    return "".join(c.text for c in chunks), chunks


# -- a loopback HTTP/1.1 server ------------------------------------------------------------------


class Exchange:
    """One request on the loopback server; the script answers through it."""

    def __init__(self, writer: asyncio.StreamWriter, body: bytes) -> None:
        self._writer = writer
        self.body = body

    async def start(self, status: str = "200 OK", content_type: str = "text/event-stream") -> None:
        """Send the status line and headers of a chunked reply."""
        head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
        self._writer.write(head.encode())
        await self._writer.drain()

    async def send(self, data: bytes) -> None:
        """Send one piece of the body as one HTTP chunk."""
        self._writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        await self._writer.drain()

    async def end(self) -> None:
        """Finish the body properly."""
        self._writer.write(b"0\r\n\r\n")
        await self._writer.drain()


Script = Callable[[Exchange], Awaitable[None]]


class Loopback:
    """What the loopback server saw: its URL, the requests, and whether the client hung up."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.url = ""
        self.requests = 0
        self.client_closed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:  # one request after another on a kept-alive connection
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    self.client_closed.set()  # the client hung up between requests
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                self.requests += 1
                await self.script(Exchange(writer, body))
        except ConnectionError:
            self.client_closed.set()  # the client hung up while we were still writing
        finally:
            writer.close()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def loopback(script: Script) -> AsyncIterator[Loopback]:
    """Serve ``script`` on 127.0.0.1 (a free port) for the duration of the block."""
    state = Loopback(script)
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.close()
        await state.stop()
        await server.wait_closed()
