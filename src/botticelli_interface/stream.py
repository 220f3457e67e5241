"""The one implementation of :class:`ChunkStream` every backend returns."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import Generic, Self, TypeVar

__all__ = ["ManagedStream"]

T = TypeVar("T")


class ManagedStream(Generic[T]):
    """An async generator made into a stream that always releases what it holds.

    The generator does its clean-up (closing the HTTP response, stopping an engine
    thread) in ``finally``; this wrapper makes sure that ``finally`` runs when the
    caller leaves ``async with``, calls :meth:`aclose`, or the task is cancelled.
    Nothing is sent until the first chunk is asked for.

    Examples:
        >>> import asyncio
        >>> async def numbers():
        ...     yield 1
        ...     yield 2
        >>> async def main():
        ...     async with ManagedStream(numbers()) as stream:
        ...         return [n async for n in stream]
        >>> asyncio.run(main())
        [1, 2]
    """

    __slots__ = ("_agen", "_closed")

    def __init__(self, agen: AsyncGenerator[T, None]) -> None:
        self._agen = agen
        self._closed = False

    def __aiter__(self) -> AsyncIterator[T]:
        # ``async for`` then drives the generator itself: a wrapper's ``__anext__`` would be
        # one more coroutine to create and resume per chunk. Closing stays this object's job.
        return self._agen

    async def __anext__(self) -> T:
        """The next item; for callers that step the stream by hand rather than with ``async for``."""
        return await self._agen.__anext__()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the stream and release its resources; safe to call more than once."""
        if not self._closed:
            self._closed = True
            await self._agen.aclose()
