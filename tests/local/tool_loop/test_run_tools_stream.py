"""run_tools_stream: chunks and call events as they happen, errors from the loop, and everything released."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import anyio
import pytest

from botticelli_core import GenerateRequest, StreamChunk, Usage
from botticelli_error import ConfigurationError, RateLimitError, StreamInterruptedError, UnsupportedInputError
from botticelli_interface import (
    ChunkStream,
    ManagedStream,
    ToolCallError,
    ToolCallFinished,
    ToolCallStarted,
    ToolLoopEvent,
    ToolLoopStream,
    ToolRoundsExceededError,
    run_tools_stream,
)

from .support import Scripted, ScriptedWithoutTools, asks, call, hanging, says

pytestmark = pytest.mark.anyio

ASK = GenerateRequest.from_prompt("Weather in Oslo and Lyon?")


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


async def drain(stream: ToolLoopStream, into: list[Any] | None = None) -> list[ToolLoopEvent]:
    """Read a loop's stream to its end (or its error), keeping the events in ``into`` as they come."""
    events: list[ToolLoopEvent] = [] if into is None else into
    async with stream:
        async for event in stream:
            events.append(event)
    return events


def describe(event: ToolLoopEvent) -> Any:
    """An event in a few words, for comparing whole sequences."""
    if isinstance(event, ToolCallStarted):
        return ("started", event.round, event.call.id)
    if isinstance(event, ToolCallFinished):
        return ("finished", event.run.round, event.run.call.id, event.run.content)
    return ("chunk", event.text, event.is_final, event.finish_reason)


async def test_chunks_then_the_calls_started_and_finished_then_the_next_answers_chunks() -> None:
    model = Scripted(
        asks(call("get_weather", "c1", city="Oslo"), call("get_weather", "c2", city="Lyon"), text="Checking."),
        says("Sunny in both.", usage=Usage(input_tokens=40, output_tokens=4)),
    )
    async with run_tools_stream(model, ASK, [get_weather]) as stream:
        assert stream.result is None
        events = [describe(event) async for event in stream]
    assert events[:3] == [("chunk", "Checking.", False, None), ("chunk", "", True, "tool_use"), ("started", 1, "c1")]
    assert events[3] == ("started", 1, "c2")
    assert sorted(events[4:6]) == [("finished", 1, "c1", "sunny in Oslo"), ("finished", 1, "c2", "sunny in Lyon")]
    assert events[6:] == [
        ("chunk", "Sunny ", False, None),
        ("chunk", "in ", False, None),
        ("chunk", "both.", False, None),
        ("chunk", "", True, "stop"),
    ]
    result = stream.result
    assert result is not None
    assert (result.text, result.rounds, len(result.runs)) == ("Sunny in both.", 2, 2)
    assert result.usage == Usage(input_tokens=40, output_tokens=4)
    assert result.responses[0].text == "Checking."
    assert [m.role.value for m in result.messages] == ["user", "assistant", "tool", "tool", "assistant"]


async def test_a_result_is_yielded_as_soon_as_its_call_finishes_while_the_others_still_run() -> None:
    # The slow call finishes only once the caller has seen the fast call's result.
    seen_fast = anyio.Event()

    async def fast() -> str:
        return "fast"

    async def slow() -> str:
        with anyio.fail_after(5):
            await seen_fast.wait()
        return "slow"

    model = Scripted(asks(call("slow", "c1"), call("fast", "c2")), says("ok"))
    order: list[str] = []
    async with run_tools_stream(model, ASK, [fast, slow]) as stream:
        async for event in stream:
            if isinstance(event, ToolCallFinished):
                order.append(event.run.content)
                if event.run.content == "fast":
                    seen_fast.set()
    assert order == ["fast", "slow"]


async def test_nothing_is_sent_until_the_first_event_is_asked_for() -> None:
    model = Scripted(says("Hi."))
    async with run_tools_stream(model, ASK, [get_weather]):
        await anyio.sleep(0.01)
    assert model.requests == []


async def test_a_backend_that_takes_no_tools_is_refused_when_the_stream_is_made() -> None:
    model = ScriptedWithoutTools(says("never"))
    with pytest.raises(UnsupportedInputError) as caught:
        run_tools_stream(model, ASK, [get_weather])
    assert caught.value.input_type == "tools"


async def test_iterating_without_async_with_says_how_to_use_it() -> None:
    stream = run_tools_stream(Scripted(says("Hi.")), ASK, [get_weather])
    with pytest.raises(ConfigurationError, match=r"use `async with run_tools_stream\(\.\.\.\) as stream"):
        await stream.__anext__()


async def test_a_stream_is_entered_once() -> None:
    stream = run_tools_stream(Scripted(says("Hi.")), ASK, [get_weather])
    async with stream:
        with pytest.raises(ConfigurationError, match="entered already"):
            await stream.__aenter__()


# -- errors of the loop come out of the async for, as themselves ------------------------------------


async def test_reaching_max_rounds_is_raised_by_the_async_for_after_the_last_answers_chunks() -> None:
    model = Scripted(asks(call("get_weather", city="Oslo")))
    events: list[ToolLoopEvent] = []
    stream = run_tools_stream(model, ASK, [get_weather], max_rounds=2)
    with pytest.raises(ToolRoundsExceededError) as caught:
        await drain(stream, events)
    assert caught.value.result.rounds == 2
    assert describe(events[-1]) == ("chunk", "", True, "tool_use")
    assert stream.result is None


async def test_an_error_of_the_model_is_raised_as_it_is_not_in_an_exception_group() -> None:
    def fail(request: GenerateRequest) -> Any:
        raise RateLimitError("slow down", provider="scripted")

    model = Scripted(asks(call("get_weather", city="Oslo")), fail)
    with pytest.raises(RateLimitError):
        await drain(run_tools_stream(model, ASK, [get_weather]))
    assert model.streams_opened == model.streams_closed == 2


async def test_raise_tool_errors_raises_the_call_error_from_the_async_for() -> None:
    def get_weather(city: str) -> str:
        raise LookupError("no station")

    stream = run_tools_stream(
        Scripted(asks(call("get_weather", city="Oslo"))), ASK, [get_weather], raise_tool_errors=True
    )
    with pytest.raises(ToolCallError) as caught:
        await drain(stream)
    assert isinstance(caught.value.__cause__, LookupError)


async def test_the_callers_own_exception_leaves_the_block_as_itself() -> None:
    async def fail_on_first_event() -> None:
        async with run_tools_stream(Scripted(says("Hi there.")), ASK, [get_weather]) as stream:
            async for _event in stream:
                raise KeyError("caller bug")

    with pytest.raises(KeyError):
        await fail_on_first_event()


async def test_a_stream_that_ends_without_its_final_chunk_is_an_interrupted_stream() -> None:
    class Cut(Scripted):
        def generate_stream(self, request: GenerateRequest) -> ChunkStream:
            async def chunks() -> AsyncGenerator[StreamChunk, None]:
                yield StreamChunk.delta("Sun")

            return ManagedStream(chunks())

    with pytest.raises(StreamInterruptedError) as caught:
        await drain(run_tools_stream(Cut(), ASK, [get_weather]))
    assert (caught.value.partial_text, caught.value.provider) == ("Sun", "scripted")


# -- leaving early releases everything ------------------------------------------------------------


async def test_breaking_out_while_a_call_runs_cancels_it_and_closes_the_models_stream() -> None:
    hang, cancelled = hanging("hang")

    model = Scripted(asks(call("hang", city="Oslo")), says("never"))
    async with run_tools_stream(model, ASK, [hang]) as stream:
        async for event in stream:
            if isinstance(event, ToolCallStarted):
                await anyio.sleep(0.01)  # the call is running now
                break
    assert cancelled.is_set()
    assert model.streams_opened == model.streams_closed == 1
    assert len(model.requests) == 1


async def test_aclose_stops_the_loop_and_ends_the_iteration() -> None:
    model = Scripted(asks(call("get_weather", city="Oslo")), says("never"))
    async with run_tools_stream(model, ASK, [get_weather]) as stream:
        first = await stream.__anext__()
        await stream.aclose()
        await stream.aclose()  # twice is fine
        rest = [event async for event in stream]
    assert isinstance(first, StreamChunk)
    assert rest == []
    assert model.streams_opened == model.streams_closed
    assert stream.result is None


async def test_cancelling_the_consumer_cancels_the_loop() -> None:
    hang, cancelled = hanging("hang")

    model = Scripted(asks(call("hang", city="Oslo")))
    with anyio.move_on_after(0.1) as scope:
        async with run_tools_stream(model, ASK, [hang]) as stream:
            async for _event in stream:
                pass
    assert scope.cancelled_caught
    assert cancelled.is_set()
    assert model.streams_opened == model.streams_closed == 1


async def test_the_streamed_answer_keeps_its_reasoning_apart_from_its_text() -> None:
    class Thinking(Scripted):
        def generate_stream(self, request: GenerateRequest) -> ChunkStream:
            async def chunks() -> AsyncGenerator[StreamChunk, None]:
                yield StreamChunk.delta("", "Oslo is in Norway. ")
                yield StreamChunk.delta("Sunny.")
                yield StreamChunk(is_final=True, finish_reason="stop")

            return ManagedStream(chunks())

    stream = run_tools_stream(Thinking(), ASK, [get_weather])
    await drain(stream)
    assert stream.result is not None
    assert (stream.result.response.reasoning, stream.result.text) == ("Oslo is in Norway. ", "Sunny.")
