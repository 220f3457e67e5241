"""Many requests through one model at bounded concurrency: :func:`generate_many`.

Each request goes through the model's own ``generate``, so its retries, rate limiter
and circuit breakers apply exactly as for a single call; nothing here retries or
throttles on its own. A request that fails becomes a :class:`BatchResult` holding the
typed error, so one bad prompt does not lose the others.

Two shapes, one function::

    results = await generate_many(model, requests, concurrency=8)   # a list, in input order

    async with generate_many(model, requests, concurrency=8, ordered=False) as results:
        async for result in results:                               # each as it completes
            ...

Leaving the ``async with`` block (a ``break``, an error) or cancelling the task cancels
the calls still in flight and starts no more; the block does not return before they have
unwound, so nothing is left running.

The requests of a JSON Lines file, in the format of ``botticelli generate --batch``, come
from :func:`read_batch` (a file) or :func:`parse_batch` (text)::

    batch = read_batch("in.jsonl")
    results = await generate_many(model, batch.requests, concurrency=8)
    for item, result in zip(batch.items, results):
        print(item.id, result.response.text if result.ok else result.error)
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from botticelli_core import GenerateRequest, GenerateResponse
from botticelli_error import BotticelliError, ConfigurationError
from botticelli_interface import GenerativeModel

__all__ = [
    "BadBatchLine",
    "Batch",
    "BatchInput",
    "BatchItem",
    "BatchResult",
    "generate_many",
    "parse_batch",
    "read_batch",
]

OnResult = Callable[["BatchResult"], Awaitable[None] | None]
"""A callback run with each result as it completes; it may be a coroutine function."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The outcome of one request of a batch: its response, or the typed error it failed with.

    Examples:
        >>> from botticelli_core import FinishReason, TextOutput
        >>> request = GenerateRequest.from_prompt("hi")
        >>> done = BatchResult(0, request, GenerateResponse(outputs=[TextOutput(text="hello")], finish_reason="stop"))
        >>> done.ok, done.unwrap().text
        (True, 'hello')
        >>> failed = BatchResult(1, request, error=BotticelliError("boom", retryable=True))
        >>> failed.ok, failed.error.retryable
        (False, True)
    """

    index: int
    """The request's position in the input, from 0."""
    request: GenerateRequest
    response: GenerateResponse | None = None
    """The answer, when the call succeeded."""
    error: BotticelliError | None = None
    """The typed error the call failed with (after the model's own retries), otherwise ``None``."""

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.error is None

    def unwrap(self) -> GenerateResponse:
        """The response, or the error raised.

        Raises:
            BotticelliError: The error this request failed with.
        """
        if self.error is not None:
            raise self.error
        assert self.response is not None  # one of the two is always set
        return self.response


class Batch:
    """What :func:`generate_many` returns: await it for every result, or enter it to stream them.

    ``await batch`` gives a list of :class:`BatchResult` in input order once all are done.
    ``async with batch as results`` gives an async iterator of results, in input order or
    as completed (``ordered``); leaving the block cancels what is still in flight.
    A batch runs once.
    """

    def __init__(
        self,
        model: GenerativeModel,
        requests: Iterable[GenerateRequest],
        *,
        concurrency: int,
        on_result: OnResult | None,
        ordered: bool,
    ) -> None:
        self._model = model
        self._requests = requests
        self._concurrency = concurrency
        self._on_result = on_result
        self._ordered = ordered
        self._started = False
        self._running: AbstractAsyncContextManager[AsyncIterator[BatchResult]] | None = None

    def __await__(self) -> Generator[object, None, list[BatchResult]]:
        return self._collect().__await__()

    async def _collect(self) -> list[BatchResult]:
        # No stream to a reader here: the workers append to the list directly, which halves
        # what the batch itself costs per request (measured with an instant model).
        self._start()
        collected: list[BatchResult] = []
        fatal: list[BaseException] = []

        async def keep(result: BatchResult) -> None:
            collected.append(result)

        items = enumerate(self._requests)
        async with anyio.create_task_group() as tg:
            for _ in range(self._concurrency):
                tg.start_soon(self._worker, items, keep, tg, fatal)
        if fatal:
            raise fatal[0]
        collected.sort(key=lambda result: result.index)
        return collected

    def _start(self) -> None:
        if self._started:
            raise ConfigurationError("this batch has already run; call generate_many again")
        self._started = True

    async def __aenter__(self) -> AsyncIterator[BatchResult]:
        self._running = self._run(ordered=self._ordered)
        return await self._running.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._running is not None
        return await self._running.__aexit__(exc_type, exc, tb)

    @asynccontextmanager
    async def _run(self, *, ordered: bool) -> AsyncIterator[AsyncIterator[BatchResult]]:
        self._start()
        fatal: list[BaseException] = []
        caller_error: Exception | None = None
        # One item at a time from a shared iterator: a lazy input is never read ahead.
        items = enumerate(self._requests)
        send, receive = anyio.create_memory_object_stream[BatchResult](max_buffer_size=self._concurrency)
        async with anyio.create_task_group() as tg:
            async with send:
                for _ in range(self._concurrency):
                    tg.start_soon(self._stream_worker, items, send.clone(), tg, fatal)
            try:
                yield _Results(receive, ordered=ordered)
            except Exception as exc:  # noqa: BLE001 - re-raised below, outside the task group
                # Raised after the task group, so the caller gets their own error back rather
                # than an ExceptionGroup wrapping it.
                caller_error = exc
            finally:
                # Whatever the block did not wait for is cancelled, not left running.
                tg.cancel_scope.cancel()
                receive.close()
        if caller_error is not None:
            raise caller_error
        if fatal:
            raise fatal[0]

    async def _stream_worker(
        self,
        items: Iterator[tuple[int, GenerateRequest]],
        send: MemoryObjectSendStream[BatchResult],
        tg: TaskGroup,
        fatal: list[BaseException],
    ) -> None:
        async with send:
            try:
                await self._worker(items, send.send, tg, fatal)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return  # the reader left: the batch is being torn down

    async def _worker(
        self,
        items: Iterator[tuple[int, GenerateRequest]],
        deliver: Callable[[BatchResult], Awaitable[None]],
        tg: TaskGroup,
        fatal: list[BaseException],
    ) -> None:
        try:
            for index, request in items:
                result = await _one(self._model, index, request)
                if self._on_result is not None:
                    done = self._on_result(result)
                    if inspect.isawaitable(done):
                        await done
                await deliver(result)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug, not a failed call: re-raised by the batch
            # Not a per-item error: it ends the batch, and is raised bare rather than
            # inside the task group's ExceptionGroup.
            fatal.append(exc)
            tg.cancel_scope.cancel()


async def _one(model: GenerativeModel, index: int, request: GenerateRequest) -> BatchResult:
    try:
        response = await model.generate(request)
    except BotticelliError as exc:
        return BatchResult(index, request, error=exc)
    return BatchResult(index, request, response=response)


class _Results:
    """The results as they arrive, or reordered into input order."""

    def __init__(self, receive: MemoryObjectReceiveStream[BatchResult], *, ordered: bool) -> None:
        self._receive = receive
        self._ordered = ordered
        self._pending: dict[int, BatchResult] = {}
        self._next = 0

    def __aiter__(self) -> AsyncIterator[BatchResult]:
        return self

    async def __anext__(self) -> BatchResult:
        if not self._ordered:
            return await self._receive_one()
        # Results that finish ahead of a slower earlier one wait here, in memory.
        while self._next not in self._pending:
            result = await self._receive_one()
            self._pending[result.index] = result
        self._next += 1
        return self._pending.pop(self._next - 1)

    async def _receive_one(self) -> BatchResult:
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None


def generate_many(
    model: GenerativeModel,
    requests: Iterable[GenerateRequest],
    *,
    concurrency: int,
    on_result: OnResult | None = None,
    ordered: bool = True,
) -> Batch:
    """Generate an answer to each request, at most ``concurrency`` at a time.

    Args:
        model: Any :class:`~botticelli_interface.GenerativeModel`; each request goes
            through its ``generate``, retries, rate limits and breakers included.
        requests: The requests; read lazily, one as each call starts, so a generator of
            thousands costs memory only for the calls in flight.
        concurrency: The most calls in flight at once (at least 1).
        on_result: Called with each result as it completes (in completion order), before
            it is handed on; a coroutine function is awaited. An exception it raises ends
            the batch.
        ordered: For ``async with``: results in input order (``True``) or as they
            complete. ``await`` always returns input order.

    Returns:
        A :class:`Batch`: ``await`` it, or ``async with`` it (see the module).

    Raises:
        ConfigurationError: ``concurrency`` is below 1.

    Examples:
        >>> import anyio
        >>> from botticelli_core import FinishReason, TextOutput
        >>> class Echo:
        ...     provider_name, model_name = "echo", "echo"
        ...     async def generate(self, request):
        ...         text = request.messages[-1].text
        ...         if not text:
        ...             raise BotticelliError("empty prompt")
        ...         return GenerateResponse(outputs=[TextOutput(text=text.upper())], finish_reason=FinishReason.STOP)
        >>> prompts = ["a", "", "c"]
        >>> results = anyio.run(lambda: generate_many(Echo(), map(GenerateRequest.from_prompt, prompts),
        ...                                           concurrency=2))
        >>> [(r.index, r.response.text if r.ok else type(r.error).__name__) for r in results]
        [(0, 'A'), (1, 'BotticelliError'), (2, 'C')]
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be a whole number of at least 1, got {concurrency!r}")
    if isinstance(requests, str | bytes | GenerateRequest | Mapping) or not isinstance(requests, Iterable):
        # A str is an iterable of one-letter "requests"; one request is not a batch of them.
        raise ConfigurationError(
            f"generate_many takes an iterable of GenerateRequest, not a {type(requests).__name__}; "
            "for one prompt, use model.generate(GenerateRequest.from_prompt(text))"
        )
    return Batch(model, requests, concurrency=concurrency, on_result=on_result, ordered=ordered)


ItemId = str | int
"""A batch line's id: its own ``"id"`` (a string or an integer), or else its line number."""


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One request of a batch file: its id, the line it is on (from 1) and the request it makes."""

    id: ItemId
    line: int
    request: GenerateRequest


@dataclass(frozen=True, slots=True)
class BadBatchLine:
    """A line of a batch file that makes no request, and why (``"invalid JSON: ..."``)."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class BatchInput:
    """What :func:`read_batch` and :func:`parse_batch` found: the requests, and the lines that are none.

    ``requests[i]`` is ``items[i].request``, so the ``index`` of each :class:`BatchResult`
    of ``generate_many(model, batch.requests, ...)`` is the position of its item.
    """

    items: tuple[BatchItem, ...]
    bad: tuple[BadBatchLine, ...]

    @property
    def requests(self) -> list[GenerateRequest]:
        """The items' requests, in file order."""
        return [item.request for item in self.items]


def read_batch(path: str | os.PathLike[str], *, defaults: Mapping[str, Any] | None = None) -> BatchInput:
    r"""The requests of a JSON Lines file in the format of ``botticelli generate --batch``.

    Each line is a JSON object with a ``prompt`` (a string) or ``messages`` (OpenAI-style
    ``{"role": ..., "content": ...}`` objects, the content a string or a list of inputs),
    an optional ``id`` (a string or an integer; the line number if absent or null) and any
    :class:`~botticelli_core.GenerateRequest` parameter (``max_tokens``, ``temperature``,
    ``stop``..., and ``system`` with a ``prompt``). Blank lines are skipped. A line that makes
    no request (not JSON, an invalid parameter, a repeated id) is a :class:`BadBatchLine`, not an
    error: the others are still read. The file is UTF-8; a byte order mark is ignored.

    Args:
        path: The file.
        defaults: Request parameters for every line; a line's own values win. ``system``
            applies to ``prompt`` lines only (a conversation brings its own).

    Raises:
        OSError: The file cannot be read (``FileNotFoundError`` if it does not exist).
        UnicodeDecodeError: The file is not UTF-8.

    Examples:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder) / "in.jsonl"
        ...     _ = path.write_text(
        ...         '{"id": "q1", "prompt": "What is 2 + 2?", "max_tokens": 8}\n'
        ...         '{"messages": [{"role": "user", "content": "Name a colour."}]}\n'
        ...         '{"id": "q1", "prompt": "again"}\n'
        ...     )
        ...     batch = read_batch(path, defaults={"max_tokens": 64})
        >>> [(item.id, item.line, item.request.max_tokens) for item in batch.items]
        [('q1', 1, 8), (2, 2, 64)]
        >>> batch.requests[1].messages[0].text
        'Name a colour.'
        >>> batch.bad
        (BadBatchLine(line=3, reason="id 'q1' repeats line 1"),)
    """
    return parse_batch(Path(path).read_text(encoding="utf-8"), defaults=defaults)


def parse_batch(text: str, *, defaults: Mapping[str, Any] | None = None) -> BatchInput:
    r"""The requests of batch lines already in memory: :func:`read_batch` without the file.

    Lines end at ``\n`` (a ``\r`` before it is dropped) and nowhere else: a prompt holding
    a line or paragraph separator that JSON leaves unescaped (U+2028, U+0085...) stays one
    line, and line numbers are those an editor shows.

    Examples:
        >>> batch = parse_batch('{"prompt": "hi"}\n\nnot json\n')
        >>> [(item.id, item.line) for item in batch.items], [(bad.line, bad.reason[:12]) for bad in batch.bad]
        ([(1, 1)], [(3, 'invalid JSON')])
    """
    shared = dict(defaults or {})
    items: list[BatchItem] = []
    bad: list[BadBatchLine] = []
    # Which line holds each id, and whether it was the line's own or its line number.
    seen: dict[ItemId, tuple[int, bool]] = {}
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            item, own_id = _batch_item(raw.removesuffix("\r"), number, shared)
        except _BadLineError as exc:
            bad.append(BadBatchLine(number, str(exc)))
            continue
        if item.id in seen:
            bad.append(BadBatchLine(number, _clash(item.id, own_id, *seen[item.id])))
            continue
        seen[item.id] = (number, own_id)
        items.append(item)
    return BatchInput(tuple(items), tuple(bad))


def _clash(item_id: ItemId, own_id: bool, first_line: int, first_own: bool) -> str:
    """Why a line's id cannot be used: it is already the id of ``first_line``.

    A line without an id is known by its line number, so its id can only clash with an
    integer id another line gave itself; that is said as such, never as a repeat.
    """
    if not own_id:
        return f"has no id, and its line number {item_id} is already the id of line {first_line}; give this line an id"
    if not first_own:
        return (
            f"id {item_id!r} is already line {first_line}'s, which has no id and is known by its line number; "
            "choose another id"
        )
    return f"id {item_id!r} repeats line {first_line}"


class _BadLineError(Exception):
    pass


def _batch_item(raw: str, number: int, defaults: dict[str, Any]) -> tuple[BatchItem, bool]:
    """The item of one line, and whether its id is its own (not its line number)."""
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise _BadLineError(f"invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _BadLineError(f"must be a JSON object, got {type(value).__name__}")
    fields = dict(value)
    item_id = fields.pop("id", None)
    own_id = item_id is not None
    if not own_id:
        item_id = number
    elif isinstance(item_id, bool) or not isinstance(item_id, str | int):
        raise _BadLineError(f"id must be a string or an integer, got {item_id!r}")
    has_prompt, has_messages = "prompt" in fields, "messages" in fields
    if has_prompt == has_messages:
        raise _BadLineError('needs exactly one of "prompt" and "messages"')
    try:
        if has_prompt:
            params = {**defaults, **fields}
            prompt = params.pop("prompt")
            system = params.pop("system", None)
            request = GenerateRequest.from_prompt(prompt, system=system, **params)
        else:
            # A conversation brings its own system message: a default system applies to prompts only.
            shared = {key: v for key, v in defaults.items() if key != "system"}
            request = GenerateRequest.model_validate({**shared, **fields})
    except ConfigurationError as exc:
        raise _BadLineError(exc.message) from None
    return BatchItem(item_id, number, request), own_id
