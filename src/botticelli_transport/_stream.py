"""An open event stream: :class:`StreamResponse`, what ``HttpTransport.stream`` yields.

The hot loop of every streamed call lives here: body bytes -> SSE events -> the
backend's items, under the stream's :class:`~botticelli_transport._watchdog.Watchdog`.
It is one async generator with everything inlined, because each extra generator
layer costs about as much per chunk as the JSON parse does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Generic, TypeVar

import httpx

from botticelli_error import StreamInterruptedError, StreamStalledError
from botticelli_transport._watchdog import Watchdog
from botticelli_transport.sse import ServerSentEvent, SSEDecoder

__all__ = ["StreamResponse"]

R = TypeVar("R")
T = TypeVar("T")


class StreamResponse(Generic[R, T]):
    """A streamed reply that is open and has produced its first item (or ended).

    Iterate it for the items the backend's decode function made of the events; read
    :attr:`status_code`, :attr:`request_id`, :attr:`retries` and :attr:`reader` (the
    per-attempt state the decode function kept: finish reason, usage...) at any time.
    It is closed by the ``async with transport.stream(...)`` block that made it.
    """

    __slots__ = ("_items", "_response", "reader", "request_id", "retries", "sse", "status_code")

    def __init__(
        self,
        response: httpx.Response,
        items: AsyncGenerator[T, None],
        reader: R,
        sse: SSEDecoder,
        *,
        request_id: str | None,
    ) -> None:
        self._response = response
        self._items = items
        self.reader = reader
        """The state of the attempt that succeeded, as the decode function left it."""
        self.sse = sse
        """The SSE decoder; its ``unframed`` holds a line the server wrote outside SSE framing."""
        self.status_code = response.status_code
        self.request_id = request_id
        self.retries = 0
        """How many failed attempts came before this one."""

    @property
    def unframed(self) -> bytes:
        """The last line the server wrote outside SSE framing (a bare JSON error, say), if any."""
        return self.sse.unframed

    def __aiter__(self) -> AsyncIterator[T]:
        # The loop generator itself, which hands its first item out again after _open has
        # seen it: a wrapper that kept that item would be one more coroutine per chunk.
        return self._items

    async def __anext__(self) -> T:
        """The next item; for callers that step the stream by hand rather than with ``async for``."""
        return await self._items.__anext__()

    async def _open(self) -> bool:
        """Read until the first item (which iteration then yields); ``False`` if the stream ended without one."""
        try:
            await self._items.__anext__()
        except StopAsyncIteration:
            return False
        return True

    async def aclose(self) -> None:
        """Close the body and release the connection; safe to call twice."""
        try:
            await self._items.aclose()
        finally:
            await self._response.aclose()


async def read_items(
    chunks: AsyncIterator[bytes],
    sse: SSEDecoder,
    reader: R,
    decode: Callable[[R, ServerSentEvent], T | None],
    watchdog: Watchdog,
    *,
    provider: str,
    read_timeout: float | None,
    describe: Callable[[httpx.HTTPError], str],
    release: Callable[[], Awaitable[None]] | None = None,
) -> AsyncGenerator[T, None]:
    """The items ``decode`` makes of the stream's events, under the watchdog's limits.

    ``release`` (the response's ``aclose``) is awaited once the body is done with, so that
    a connection read to its end goes back to the pool before the consumer's final chunk.
    The first item is yielded twice: once to :meth:`StreamResponse._open`, which only
    learns that the stream is open, and again to the consumer.

    Raises:
        StreamStalledError: No data event within the idle timeout.
        RequestTimeoutError: The call's deadline passed.
        StreamInterruptedError: The connection broke off.
    """
    read = watchdog.timed_read if watchdog.per_read else None
    loop = watchdog.loop
    # Given its loop, current_task is one dictionary lookup. Without one, Python 3.11 looks up
    # the running loop, which checks the process id with a getpid system call: about 0.5 µs
    # per chunk on a virtual machine, and invisible to callgrind's instruction counts.
    current_task = _no_task if loop is None else partial(asyncio.current_task, loop)
    clock = time.monotonic
    opened = False
    try:
        while True:
            if watchdog.cause is not None:
                watchdog.before_read()
            failure: BaseException | None = None
            chunk: bytes | None = None
            try:
                watchdog.reading = current_task()
                chunk = await (chunks.__anext__() if read is None else read(chunks))
            except StopAsyncIteration:
                pass
            except BaseException as exc:  # noqa: BLE001 - translated, or re-raised as it is
                failure = _read_failure(exc, watchdog, provider, read_timeout, describe)
            finally:
                watchdog.reading = None
            if failure is not None:
                # Raised outside the except block, so httpx's exception is not its __context__.
                raise failure
            events = sse.feed(chunk) if chunk is not None else sse.flush()
            if events:
                watchdog.idle_since = clock()  # a data event: the idle clock starts again
                for event in events:
                    item = decode(reader, event)
                    if item is not None:
                        if not opened:
                            opened = True
                            yield item  # to _open: the stream is open
                        yield item
            if chunk is None:
                return
    finally:
        watchdog.close()
        await _close(chunks, release)


async def _close(chunks: AsyncIterator[bytes], release: Callable[[], Awaitable[None]] | None) -> None:
    # Closing the body's generators and the response at once releases the connection.
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
    if release is not None:
        await release()


def _no_task() -> None:
    return None


def _read_failure(
    exc: BaseException,
    watchdog: Watchdog,
    provider: str,
    read_timeout: float | None,
    describe: Callable[[httpx.HTTPError], str],
) -> BaseException:
    """The typed error for a failed read, or ``exc`` itself when it is not the stream's to translate."""
    if isinstance(exc, asyncio.CancelledError):
        return watchdog.expired() or exc
    if isinstance(exc, httpx.ReadTimeout):
        return StreamStalledError(
            f"no data for {read_timeout:g} s" if read_timeout is not None else "the stream stalled",
            provider=provider,
            idle_timeout=read_timeout,
        )
    if isinstance(exc, httpx.HTTPError):
        return StreamInterruptedError(f"the stream broke off: {describe(exc)}", provider=provider)
    return exc
