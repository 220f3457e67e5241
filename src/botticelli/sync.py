"""Blocking use of any model, from ordinary synchronous code: :class:`SyncModel`.

The model runs on an event loop of its own, in a daemon thread serving an anyio
:class:`~anyio.from_thread.BlockingPortal`; each method sends its coroutine there and
waits for the result. Close the facade (``with`` or :meth:`SyncModel.close`) to close
the model's connections; one left open does not keep the process from exiting.

Any number of threads may call one ``SyncModel`` at once: their calls run concurrently
on that loop and share the model's connection pool::

    with SyncModel.from_config() as model:
        print(model.generate(GenerateRequest.from_prompt("Say hi")).text)
        with model.generate_stream(request) as stream:
            for chunk in stream:
                print(chunk.text, end="")

Calling it from a thread that is running an event loop is refused with
:class:`BlockingCallInEventLoopError`: the call would block that loop (and every task
on it) until the answer came, so async code should ``await`` the model itself, or push
the blocking call to a worker thread (``anyio.to_thread.run_sync``).

Per-call options (:func:`~botticelli_interface.options.call_options`) set in the
calling thread apply to the calls it makes, though they run on the portal's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Self, TypeVar

import anyio
from anyio.abc import TaskStatus
from anyio.from_thread import BlockingPortal
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from botticelli._portal import DaemonPortal
from botticelli.batch import BatchResult, OnResult, generate_many
from botticelli_core import EmbedResponse, GenerateRequest, GenerateResponse, HealthStatus, StreamChunk, TokenCount
from botticelli_core._arguments import checked_texts, embed_options, prompt_request, request_argument
from botticelli_error import ConfigurationError, UnsupportedInputError
from botticelli_interface import (
    CallOptions,
    ChunkStream,
    GenerativeModel,
    SupportsAclose,
    SupportsCountTokens,
    SupportsEmbed,
    SupportsHealth,
    call_options,
    current_call_options,
)

__all__ = ["BlockingCallInEventLoopError", "SyncModel", "SyncStream"]

T = TypeVar("T")


class BlockingCallInEventLoopError(ConfigurationError):
    """A blocking :class:`SyncModel` call was made from a thread running an event loop.

    Nothing was sent. Await the async model there instead, or run the blocking call in a
    worker thread.
    """


def _not_in_event_loop(what: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise BlockingCallInEventLoopError(
        f"SyncModel.{what} blocks, and this thread is running an event loop; "
        "await the model itself here, or call it through anyio.to_thread.run_sync"
    )


async def _with_options(options: CallOptions, work: Callable[[], Awaitable[T]]) -> T:
    """``work()`` under the calling thread's per-call options (context variables stay in their thread)."""
    if options.is_empty:
        return await work()
    with call_options(timeout=options.timeout, max_retries=options.max_retries):
        return await work()


class SyncModel:
    """A blocking facade over any :class:`~botticelli_interface.GenerativeModel`.

    Args:
        model: The async model; it must not have been used on another event loop (a
            freshly made client never has). ``SyncModel`` owns it from now on and closes it.
        backend: The event loop the portal runs, ``"asyncio"`` or ``"trio"``.

    Examples:
        >>> from botticelli_server import ServerClient, ServerConfig
        >>> with SyncModel(ServerClient(ServerConfig(base_url="http://127.0.0.1:8080", model="phi"))) as model:
        ...     model.provider_name, model.model_name
        ('local', 'phi')
    """

    def __init__(self, model: GenerativeModel, *, backend: str = "asyncio") -> None:
        self._model = model
        self._loop = DaemonPortal(backend)
        self._portal: BlockingPortal = self._loop.portal
        self._lock = threading.Lock()
        self._streams: set[SyncStream] = set()
        self._closed = False

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        provider: str | None = None,
        model: str | None = None,
    ) -> SyncModel:
        """A blocking client of the provider ``botticelli.toml`` and the environment describe.

        Arguments are those of :meth:`botticelli.ModelProvider.from_config`.

        Raises:
            ConfigurationError: The configuration is invalid or names a missing extra.
        """
        from botticelli.provider import ModelProvider  # noqa: PLC0415 - the factory pulls in every backend's config

        return cls(ModelProvider.from_config(path, provider=provider, model=model).create_client())

    @property
    def model(self) -> GenerativeModel:
        """The async model underneath (use it only on the portal's loop)."""
        return self._model

    @property
    def provider_name(self) -> str:
        """The model's backend name."""
        return self._model.provider_name

    @property
    def model_name(self) -> str:
        """The model used when a request names none."""
        return self._model.model_name

    def _call(self, what: str, work: Callable[[], Awaitable[T]]) -> T:
        _not_in_event_loop(what)
        if self._closed:
            raise ConfigurationError("this SyncModel is closed; make a new one")
        return self._portal.call(_with_options, current_call_options(), work)

    def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate a complete answer, blocking until it is there.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            BotticelliError: What the model's ``generate`` raises.
            BlockingCallInEventLoopError: Called from a thread running an event loop.
        """
        # Checked here as well as by the model: a model of the caller's own may not check.
        request = request_argument(request, "SyncModel.generate", provider=self.provider_name)
        return self._call("generate", lambda: self._model.generate(request))

    def generate_many(
        self, requests: Iterable[GenerateRequest], *, concurrency: int, on_result: OnResult | None = None
    ) -> list[BatchResult]:
        """Every request's result, in input order: :func:`botticelli.generate_many`, blocking.

        ``on_result`` is called with each result as it completes (in completion order),
        before the batch goes on, exactly as :func:`botticelli.generate_many` calls it: a
        coroutine function is awaited, and an exception it raises ends the batch and is
        raised here. It runs in the thread of this model's event loop, not the caller's:
        keep it quick and thread-safe (a counter or a progress bar is), and make no call to
        this ``SyncModel`` from it (refused, as from any thread running an event loop).

        Examples:
            >>> from botticelli_core import FinishReason, GenerateResponse, TextOutput
            >>> class Echo:
            ...     provider_name, model_name = "echo", "echo"
            ...     async def generate(self, request):
            ...         text = request.messages[-1].text
            ...         return GenerateResponse(outputs=[TextOutput(text=text)], finish_reason=FinishReason.STOP)
            >>> done = []
            >>> with SyncModel(Echo()) as model:
            ...     requests = [GenerateRequest.from_prompt(p, max_tokens=8) for p in "abc"]
            ...     results = model.generate_many(requests, concurrency=2, on_result=lambda r: done.append(r.index))
            >>> sorted(done), [result.unwrap().text for result in results]
            ([0, 1, 2], ['a', 'b', 'c'])
        """
        return self._call(
            "generate_many",
            lambda: generate_many(self._model, requests, concurrency=concurrency, on_result=on_result),
        )

    def generate_stream(self, request: GenerateRequest) -> SyncStream:
        """Stream an answer: an iterator of chunks, to use as a context manager.

        The request is sent at once; the chunks come as they are iterated (one at a time:
        a reader that stops reading holds the stream where it is). Leaving the ``with``
        block or calling :meth:`SyncStream.close` releases the connection.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            BlockingCallInEventLoopError: Called from a thread running an event loop.
        """
        request = request_argument(request, "SyncModel.generate_stream", provider=self.provider_name)
        _not_in_event_loop("generate_stream")
        if self._closed:
            raise ConfigurationError("this SyncModel is closed; make a new one")
        stream = SyncStream(self._portal, self._model.generate_stream(request), current_call_options(), self)
        with self._lock:
            self._streams.add(stream)
        return stream

    def embed(
        self,
        texts: str | Sequence[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        task: str | None = None,
        truncate: bool = False,
    ) -> EmbedResponse:
        """One vector per text (see :class:`~botticelli_interface.SupportsEmbed`); a single ``str`` is one text.

        Raises:
            ConfigurationError: ``texts`` is not a ``str`` or a sequence of them, or another
                argument has the wrong type; nothing was sent.
            UnsupportedInputError: The model has no embeddings.
        """
        target = self._model
        if not isinstance(target, SupportsEmbed):
            raise UnsupportedInputError(f"{self.provider_name} has no embeddings", input_type="embed")
        # The model gets a list: one of the caller's own may take a str as a sequence of letters.
        method, provider = "SyncModel.embed", self.provider_name
        inputs = checked_texts(texts, method, provider=provider)
        embed_options(method, model=model, dimensions=dimensions, task=task, truncate=truncate, provider=provider)
        return self._call(
            "embed", lambda: target.embed(inputs, model=model, dimensions=dimensions, task=task, truncate=truncate)
        )

    def count_tokens(self, request: GenerateRequest | str) -> TokenCount:
        """The prompt's token count (see :class:`~botticelli_interface.SupportsCountTokens`); a ``str`` is a prompt.

        Raises:
            ConfigurationError: ``request`` is neither a :class:`~botticelli_core.GenerateRequest` nor a ``str``.
            UnsupportedInputError: The model cannot count tokens.
        """
        target = self._model
        if not isinstance(target, SupportsCountTokens):
            raise UnsupportedInputError(f"{self.provider_name} cannot count tokens", input_type="count_tokens")
        checked = prompt_request(request, "SyncModel.count_tokens", provider=self.provider_name)
        return self._call("count_tokens", lambda: target.count_tokens(checked))

    def health(self) -> HealthStatus:
        """Readiness now (see :class:`~botticelli_interface.SupportsHealth`).

        Raises:
            UnsupportedInputError: The model has no health check.
        """
        target = self._model
        if not isinstance(target, SupportsHealth):
            raise UnsupportedInputError(f"{self.provider_name} has no health check", input_type="health")
        return self._call("health", target.health)

    def close(self) -> None:
        """Close open streams and the model, then stop the portal's thread. Safe to call twice."""
        _not_in_event_loop("close")
        with self._lock:
            if self._closed:
                return
            self._closed = True
            streams = list(self._streams)
        try:
            for stream in streams:
                stream.close()
            if isinstance(self._model, SupportsAclose):
                self._portal.call(self._model.aclose)
        finally:
            self._loop.stop()

    def _forget(self, stream: SyncStream) -> None:
        with self._lock:
            self._streams.discard(stream)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SyncStream:
    """A streamed answer read from synchronous code: an iterator that is also a context manager.

    One task on the portal's loop reads the async stream and hands each chunk over when
    :meth:`__next__` asks for it; an error the stream raises is raised by ``__next__``.
    """

    def __init__(self, portal: BlockingPortal, stream: ChunkStream, options: CallOptions, owner: SyncModel) -> None:
        self._portal = portal
        self._owner = owner
        # No buffer: the reading task waits for each hand-over, so an abandoned reader
        # leaves at most one chunk read ahead.
        send, receive = portal.call(_channel)
        self._receive = receive
        self._future: Future[None]
        self._future, self._scope = portal.start_task(_pump, stream, send, options)
        self._finished = False

    def __iter__(self) -> Iterator[StreamChunk]:
        return self

    def __next__(self) -> StreamChunk:
        if self._finished:
            raise StopIteration
        _not_in_event_loop("generate_stream")
        try:
            return self._portal.call(self._receive.receive)
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            pass
        self._finish()
        self._future.result()  # the stream's own error, if it ended with one
        raise StopIteration

    def close(self) -> None:
        """Stop reading and release the connection; safe to call twice."""
        if self._finished:
            return
        self._portal.call(self._scope.cancel)
        self._finish()
        # An error of a stream its reader abandoned is nobody's to see.
        with contextlib.suppress(Exception):
            self._future.result()

    def _finish(self) -> None:
        self._finished = True
        self._portal.call(self._receive.aclose)
        self._owner._forget(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def _channel() -> tuple[MemoryObjectSendStream[StreamChunk], MemoryObjectReceiveStream[StreamChunk]]:
    return anyio.create_memory_object_stream[StreamChunk](0)


async def _pump(
    stream: ChunkStream,
    send: MemoryObjectSendStream[StreamChunk],
    options: CallOptions,
    *,
    task_status: TaskStatus[anyio.CancelScope] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Read ``stream`` into ``send`` until it ends, the reader leaves or the scope is cancelled."""
    with anyio.CancelScope() as scope:
        task_status.started(scope)

        async def read() -> None:
            async with send, stream:
                async for chunk in stream:
                    await send.send(chunk)

        # The reader closed its end: the stream is closed on the way out.
        with contextlib.suppress(anyio.BrokenResourceError):
            await _with_options(options, read)
