"""The tool loop with any backend: ask, run the calls the model asks for, send the results back, repeat.

:func:`run_tools` and :func:`run_tools_stream` use nothing but the
:class:`~botticelli_interface.GenerativeModel` protocol, so they work with every backend
that takes tools (the local servers, Gemini, the hybrid router, fallback chains and replica
pools), and refuse up front, with the backend's ``UnsupportedInputError``, a model whose
:func:`~botticelli_interface.declared_features` leave tools out.

One round is one request to the model and, if it asked for calls, running them. The calls
of one answer run concurrently; each goes back as one tool result. A call that cannot run
(unknown tool, arguments that are not an object or do not validate) or whose function
raises goes back as an error result that says what was wrong, so the model can correct
itself; ``raise_tool_errors=True`` raises :class:`ToolCallError` instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeAlias

import anyio
from pydantic import ValidationError

from botticelli_core import (
    FinishReason,
    GenerateRequest,
    GenerateResponse,
    Message,
    StreamChunk,
    ToolCallOutput,
    ToolDefinition,
    Usage,
)
from botticelli_core.output import Output, ReasoningOutput, TextOutput
from botticelli_error import ConfigurationError, StreamInterruptedError
from botticelli_interface._tool_calls import Tool, content_of, definitions_of, problems, quote, result_message
from botticelli_interface.capabilities import declared_features, require_features
from botticelli_interface.protocols import GenerativeModel
from botticelli_interface.request_log import log_event
from botticelli_interface.tool_runs import (
    ToolCallError,
    ToolCallFinished,
    ToolCallStarted,
    ToolFailure,
    ToolLoopEvent,
    ToolLoopResult,
    ToolRoundsExceededError,
    ToolRun,
)

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["DEFAULT_MAX_ROUNDS", "ToolLoopStream", "run_tools", "run_tools_stream"]

DEFAULT_MAX_ROUNDS = 10
"""How many requests to the model a loop makes at most, unless told otherwise (openai-agents'
``max_turns`` and google-genai's automatic function calling stop at 10 as well)."""


async def run_tools(
    model: GenerativeModel,
    request: GenerateRequest,
    tools: Sequence[Callable[..., Any] | ToolDefinition] = (),
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    raise_tool_errors: bool = False,
) -> ToolLoopResult:
    """Ask ``model``, run the tool calls it asks for, send back their results, until it answers without calls.

    Each round sends the conversation so far with :meth:`model.generate
    <botticelli_interface.GenerativeModel.generate>`. The calls of one answer run
    concurrently: an async function on the event loop, a sync one in a worker thread. Each
    call's arguments are validated against its function's signature by pydantic first
    (``"3"`` becomes ``3`` for an ``int``, ``"three"`` does not run the function). A
    ``str`` result goes back as it is, anything else as JSON.

    A forced ``tool_choice`` (``"required"`` or a tool's name) applies to the first round
    only; later rounds send ``"auto"``, or the model could never stop calling.

    Args:
        model: Any backend or router.
        request: The conversation, sampling parameters and, optionally, ``tools`` whose
            :attr:`~botticelli_core.ToolDefinition.handler` is set
            (:meth:`~botticelli_core.ToolDefinition.from_function` sets it), which a named
            ``tool_choice`` needs.
        tools: More tools: plain functions, sync or async, whose typed signature and
            docstring become the declaration, or definitions with a ``handler``.
            One named like a tool of ``request`` replaces it.
        max_rounds: The most requests sent to the model. An answer to the last one that
            still asks for calls raises :class:`ToolRoundsExceededError`.
        raise_tool_errors: Raise :class:`ToolCallError` when a call cannot run or its
            function raises, instead of telling the model.

    Returns:
        The final answer, the whole conversation, every call and the summed usage.

    Raises:
        ConfigurationError: Before anything is sent: no tools, a tool without a handler,
            a function that cannot become a tool, or ``max_rounds`` below 1.
        UnsupportedInputError: Before anything is sent: ``model`` declares no tools
            (``input_type="tools"``).
        ToolRoundsExceededError: ``max_rounds`` answers all asked for calls.
        ToolCallError: With ``raise_tool_errors=True``, a call failed; the other calls of
            its answer are cancelled.
        BotticelliError: Whatever ``model.generate`` raises.

    Examples:
        >>> import asyncio
        >>> from botticelli_core import TextOutput
        >>> def add(a: int, b: int) -> int:
        ...     '''Add two numbers.'''
        ...     return a + b
        >>> class Scripted:  # any GenerativeModel will do
        ...     provider_name, model_name = "scripted", "scripted"
        ...     async def generate(self, request):
        ...         if request.messages[-1].role.value == "user":  # the first round: ask for a call
        ...             call = ToolCallOutput(id="c1", name="add", arguments={"a": 2, "b": "3"})
        ...             return GenerateResponse(outputs=[call], finish_reason="tool_use")
        ...         result = request.messages[-1].content[0].content
        ...         return GenerateResponse(outputs=[TextOutput(text=f"It is {result}.")], finish_reason="stop")
        ...     def generate_stream(self, request): raise NotImplementedError
        >>> result = asyncio.run(run_tools(Scripted(), GenerateRequest.from_prompt("2 + 3?"), tools=[add]))
        >>> result.text, result.rounds, [run.value for run in result.runs]
        ('It is 5.', 2, [5])
        >>> [m.role.value for m in result.messages]
        ['user', 'assistant', 'tool', 'assistant']
    """
    return await _ToolLoop(
        model, request, tools, max_rounds=max_rounds, raise_tool_errors=raise_tool_errors, method="run_tools"
    ).run(None)


def run_tools_stream(
    model: GenerativeModel,
    request: GenerateRequest,
    tools: Sequence[Callable[..., Any] | ToolDefinition] = (),
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    raise_tool_errors: bool = False,
) -> ToolLoopStream:
    """:func:`run_tools`, streamed: the answers' chunks and the calls' progress as they happen.

    Not a coroutine: use ``async with run_tools_stream(...) as stream: async for event in
    stream``. Each round streams its answer with :meth:`model.generate_stream
    <botticelli_interface.GenerativeModel.generate_stream>`; every chunk is yielded as it
    arrives (an answer with calls ends with a final chunk carrying them). Then a
    :class:`ToolCallStarted` for each call, in order, and a :class:`ToolCallFinished` as
    each call finishes. After the last event, :attr:`ToolLoopStream.result` holds what
    :func:`run_tools` returns. Nothing is sent before the first event is asked for.

    The arguments, the checks made before anything is sent, and the errors are
    :func:`run_tools`'s; an error of the loop is raised by the ``async for``.

    Examples:
        >>> import asyncio
        >>> from botticelli_interface import ManagedStream
        >>> def now() -> str:
        ...     '''The time.'''
        ...     return "12:00"
        >>> class Scripted:
        ...     provider_name, model_name = "scripted", "scripted"
        ...     async def generate(self, request): raise NotImplementedError
        ...     def generate_stream(self, request):
        ...         async def chunks():
        ...             if request.messages[-1].role.value == "user":
        ...                 call = ToolCallOutput(id="c1", name="now", arguments={})
        ...                 yield StreamChunk(is_final=True, finish_reason="tool_use", tool_calls=(call,))
        ...             else:
        ...                 yield StreamChunk(text="It is ")
        ...                 yield StreamChunk(text="noon.", is_final=True, finish_reason="stop")
        ...         return ManagedStream(chunks())
        >>> async def main():
        ...     async with run_tools_stream(Scripted(), GenerateRequest.from_prompt("Time?"), [now]) as stream:
        ...         async for event in stream:
        ...             if isinstance(event, ToolCallFinished):
        ...                 print("ran", event.run.call.name, "->", event.run.content)
        ...             elif isinstance(event, StreamChunk) and event.text:
        ...                 print(repr(event.text))
        ...     return stream.result.text
        >>> asyncio.run(main())
        ran now -> 12:00
        'It is '
        'noon.'
        'It is noon.'
    """
    return ToolLoopStream(
        _ToolLoop(
            model,
            request,
            tools,
            max_rounds=max_rounds,
            raise_tool_errors=raise_tool_errors,
            method="run_tools_stream",
        )
    )


class _Failed:
    """An error of the loop, carried from the task running it to the consumer's ``async for``."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


_Item: TypeAlias = "ToolLoopEvent | _Failed"


class ToolLoopStream:
    """The events of a streamed tool loop (see :func:`run_tools_stream`); use it with ``async with``.

    The loop runs in a task of a task group that ``async with`` opens, so that the calls of
    an answer run while the caller reads; leaving the block, breaking out of the loop,
    :meth:`aclose` or cancelling the caller cancels the loop: the model's stream is closed
    (its connection released) and running async functions are cancelled. A sync function
    already running in a worker thread cannot be stopped; the block waits for it to return,
    so nothing the loop started is still running after it.
    """

    def __init__(self, loop: _ToolLoop) -> None:
        self._loop = loop
        self._group: TaskGroup | None = None
        self._send: MemoryObjectSendStream[_Item] | None = None
        self._receive: MemoryObjectReceiveStream[_Item] | None = None
        self._scope: anyio.CancelScope | None = None
        self._started = False
        self._entered = False
        self._closed = False
        self.result: ToolLoopResult | None = None
        """What :func:`run_tools` would have returned, once the last event has been read; ``None`` until then."""

    async def __aenter__(self) -> Self:
        if self._entered:
            raise ConfigurationError(f"{self._loop.method}'s stream was entered already; call it again for a new loop")
        self._entered = True
        self._scope = anyio.CancelScope()
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        # No buffer: the loop waits for the caller to take each event, as a model's stream does.
        self._send, self._receive = anyio.create_memory_object_stream[_Item](0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        group = self._group
        if group is None:
            return
        self._group = None
        await self.aclose()
        # Only a cancellation is the task group's business. Any other exception leaving the
        # block is the caller's, or one the loop raised through __anext__: handed to the task
        # group it would come out wrapped in an ExceptionGroup.
        if exc is not None and isinstance(exc, anyio.get_cancelled_exc_class()):
            await group.__aexit__(exc_type, exc, tb)
        else:
            await group.__aexit__(None, None, None)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ToolLoopEvent:
        """The next event; ``StopAsyncIteration`` after the last, or the loop's error."""
        if self._group is None or self._receive is None:
            if self._entered:
                raise StopAsyncIteration
            raise ConfigurationError(
                f"{self._loop.method}'s stream runs the tools in a task group that `async with` opens: "
                f"use `async with {self._loop.method}(...) as stream: async for event in stream`"
            )
        if self._closed:
            raise StopAsyncIteration
        if not self._started:
            self._started = True
            self._group.start_soon(self._produce)
        try:
            item = await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None
        if isinstance(item, _Failed):
            raise item.error
        return item

    async def aclose(self) -> None:
        """Stop the loop: the model's stream and the running calls are cancelled. Safe to call twice."""
        self._closed = True
        if self._scope is not None:
            self._scope.cancel()
        if self._receive is not None:
            self._receive.close()
        if self._send is not None and not self._started:
            self._send.close()  # once started, the loop's task closes it

    async def _produce(self) -> None:
        send, scope = self._send, self._scope
        # Both set by __aenter__, before __anext__ starts this task.
        assert send is not None
        assert scope is not None
        with send, scope:
            try:
                self.result = await self._loop.run(send.send)
            except Exception as exc:  # noqa: BLE001 - handed to the consumer, who raises it
                # Nobody may be reading any more: the consumer has left.
                with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await send.send(_Failed(exc))


Emit: TypeAlias = Callable[[ToolLoopEvent], Awaitable[None]]


class _ToolLoop:
    """One loop's checked inputs and its rounds; :func:`run_tools` and the stream share it."""

    def __init__(
        self,
        model: GenerativeModel,
        request: GenerateRequest,
        tools: Sequence[Callable[..., Any] | ToolDefinition],
        *,
        max_rounds: int,
        raise_tool_errors: bool,
        method: str,
    ) -> None:
        self.method = method
        if not isinstance(model, GenerativeModel):
            raise ConfigurationError(
                f"{method} takes a GenerativeModel (a client, router or pool), not {type(model).__name__}"
            )
        if not isinstance(request, GenerateRequest):
            hint = "; wrap a prompt with GenerateRequest.from_prompt(text)" if isinstance(request, str) else ""
            raise ConfigurationError(f"{method} takes a GenerateRequest, not {type(request).__name__}{hint}")
        if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
            raise ConfigurationError(f"{method}'s max_rounds must be a positive int (got {max_rounds!r})")
        self._model = model
        self._max_rounds = max_rounds
        self._raise = raise_tool_errors
        definitions = definitions_of(request, tools, method)
        self._tools = {d.name: Tool(d) for d in definitions}
        self._request = request.model_copy(update={"tools": tuple(definitions)})
        # The backend would refuse too, but only once the loop runs; a router would route.
        require_features(self._request, declared_features(model), provider=model.provider_name)
        choice = request.tool_choice
        forced = choice is not None and choice not in ("auto", "none")
        # A forced choice holds for the first round only: forced every round, no answer could end the loop.
        self._later_choice = "auto" if forced else choice

    def _request_for(self, round_: int, history: list[Message]) -> GenerateRequest:
        update: dict[str, Any] = {"messages": tuple(history)}
        if round_ > 1:
            update["tool_choice"] = self._later_choice
        return self._request.model_copy(update=update)

    async def run(self, emit: Emit | None) -> ToolLoopResult:
        history = list(self._request.messages)
        responses: list[GenerateResponse] = []
        runs: list[ToolRun] = []
        usage: Usage | None = None
        for round_ in range(1, self._max_rounds + 1):
            request = self._request_for(round_, history)
            response = await (self._model.generate(request) if emit is None else self._streamed(request, emit))
            responses.append(response)
            usage = Usage.summed((usage, response.usage))
            calls = response.tool_calls
            if not calls:
                history.append(Message.from_response(response))
                return ToolLoopResult(
                    responses=tuple(responses), messages=tuple(history), runs=tuple(runs), usage=usage
                )
            if round_ == self._max_rounds:
                break
            history.append(Message.from_response(response))
            for run, message in await self._run_calls(calls, round_, emit):
                runs.append(run)
                history.append(message)
        result = ToolLoopResult(responses=tuple(responses), messages=tuple(history), runs=tuple(runs), usage=usage)
        names = ", ".join(dict.fromkeys(call.name for call in result.response.tool_calls))
        raise ToolRoundsExceededError(
            f"{self.method} stopped after max_rounds={self._max_rounds}: the last answer still asks for "
            f"tool calls ({names}), which did not run; the loop so far is on .result",
            max_rounds=self._max_rounds,
            result=result,
        )

    async def _streamed(self, request: GenerateRequest, emit: Emit) -> GenerateResponse:
        """One answer, streamed: each chunk handed on as it arrives, the whole response returned."""
        text: list[str] = []
        reasoning: list[str] = []
        final: StreamChunk | None = None
        usage: Usage | None = None
        async with self._model.generate_stream(request) as stream:
            async for chunk in stream:
                text.append(chunk.text)
                reasoning.append(chunk.reasoning)
                if chunk.usage is not None:
                    usage = chunk.usage
                if chunk.is_final:
                    final = chunk
                await emit(chunk)
        if final is None:
            # Backends raise their own error for a stream cut short; this is for one that does not.
            raise StreamInterruptedError(
                "the answer's stream ended without its final chunk",
                provider=self._model.provider_name,
                partial_text="".join(text),
            )
        outputs: list[Output] = []
        if any(reasoning):
            outputs.append(ReasoningOutput(text="".join(reasoning)))
        if any(text):
            outputs.append(TextOutput(text="".join(text)))
        outputs.extend(final.tool_calls)
        return GenerateResponse(outputs=outputs, finish_reason=final.finish_reason or FinishReason.OTHER, usage=usage)

    async def _run_calls(
        self, calls: Sequence[ToolCallOutput], round_: int, emit: Emit | None
    ) -> list[tuple[ToolRun, Message]]:
        """Run one answer's calls concurrently; their runs and result messages, in the calls' order."""
        if emit is not None:
            for call in calls:
                await emit(ToolCallStarted(round=round_, call=call))
        done: list[tuple[ToolRun, Message] | None] = [None] * len(calls)
        failed: list[ToolCallError] = []

        async def run_one(index: int, call: ToolCallOutput, group: TaskGroup) -> None:
            run, message, cause = await self._run_call(call, round_)
            if run.is_error and self._raise:
                error = ToolCallError(f"{self.method}: {run.content}", run=run)
                error.__cause__ = cause
                failed.append(error)
                group.cancel_scope.cancel()  # the rest of the answer's calls: the caller wants out
                return
            done[index] = (run, message)
            if emit is not None:
                await emit(ToolCallFinished(run=run))

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(run_one, index, call, group)
        if failed:
            raise failed[0]
        return [entry for entry in done if entry is not None]

    async def _run_call(self, call: ToolCallOutput, round_: int) -> tuple[ToolRun, Message, BaseException | None]:
        """Run one call, never raising for what went wrong with it: the run, its result message, the cause."""
        started = time.perf_counter()
        cause: BaseException | None = None
        value: Any = None
        failure: ToolFailure | None = None
        tool = self._tools.get(call.name)
        # ``arguments`` is typed as a dict today; a backend may mark arguments it could not
        # read as None with the text in raw_arguments, or as {} with the text there.
        arguments: dict[str, Any] | None = call.arguments
        if tool is None:
            failure = "unknown_tool"
            content = f"there is no tool named {call.name!r}; the tools are {', '.join(self._tools)}"
        elif arguments is None or (not arguments and call.raw_arguments is not None):
            failure = "unreadable_arguments"
            content = (
                f"{call.name} was not called: its arguments must be a JSON object of its parameters, "
                f"not {quote(call.raw_arguments or '')}"
            )
        else:
            try:
                args, kwargs = tool.bind(arguments)
            except ValidationError as exc:
                failure = "invalid_arguments"
                content = f"{call.name} was not called: its arguments do not validate: {problems(exc)}"
            else:
                try:
                    value = await tool.call(args, kwargs)
                except Exception as exc:  # noqa: BLE001 - the model is told; raise_tool_errors re-raises
                    failure, cause = "raised", exc
                    detail = str(exc)
                    content = f"{call.name} raised {type(exc).__name__}" + (f": {detail}" if detail else "")
                else:
                    content, failure = content_of(value)
                    if failure is not None:
                        content = f"{call.name} returned a value that cannot be sent as text: {content}"
        message = result_message(call, content, is_error=failure is not None)
        if message is None:
            failure = "unsendable_result"
            content = f"{call.name}'s result cannot be sent: it is not valid Unicode text"
            message = result_message(call, content, is_error=True)
            assert message is not None  # our own text is valid
        run = ToolRun(
            round=round_, call=call, content=content, is_error=failure is not None, failure=failure, value=value
        )
        log_event(
            logging.INFO,
            "botticelli.tool_call",
            tool=call.name,
            call_id=call.id,
            round=round_,
            failure=failure,
            duration_s=round(time.perf_counter() - started, 6),
        )
        return run, message, cause
