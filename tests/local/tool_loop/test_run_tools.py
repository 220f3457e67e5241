"""run_tools: the loop's rules, on a scripted model (the wire is in test_run_tools_wire.py and test_gemini_loop.py)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Awaitable
from typing import Annotated, Any

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel, Field

from botticelli import run_tools as exported_run_tools
from botticelli_core import (
    GenerateRequest,
    GenerateResponse,
    Message,
    Role,
    ToolCallOutput,
    ToolDefinition,
    ToolResultInput,
    Usage,
)
from botticelli_error import BotticelliError, ConfigurationError, RateLimitError, UnsupportedInputError
from botticelli_interface import ToolCallError, ToolRoundsExceededError, ToolRun, run_tools
from botticelli_interface.tool_loop import _ToolLoop

from .support import Scripted, ScriptedWithoutTools, asks, call, hanging, says

pytestmark = pytest.mark.anyio

ASK = GenerateRequest.from_prompt("Weather in Oslo and Lyon?", max_tokens=64)


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


def results_sent(request: GenerateRequest) -> list[ToolResultInput]:
    """The tool results in a request's history, in order."""
    return [part for m in request.messages for part in m.content if isinstance(part, ToolResultInput)]


# -- the loop --------------------------------------------------------------------------------


async def test_the_loop_runs_the_calls_sends_the_results_and_ends_on_an_answer_without_calls() -> None:
    model = Scripted(asks(call("get_weather", city="Oslo")), says("Sunny."))
    result = await run_tools(model, ASK, [get_weather])
    assert result.text == "Sunny."
    assert result.rounds == 2
    assert [(run.call.name, run.content, run.is_error, run.value) for run in result.runs] == [
        ("get_weather", "sunny in Oslo", False, "sunny in Oslo")
    ]
    second = model.requests[1]
    assert [m.role for m in second.messages] == [Role.USER, Role.ASSISTANT, Role.TOOL]
    assert second.messages[1].tool_calls[0].arguments == {"city": "Oslo"}
    (sent,) = results_sent(second)
    assert (sent.tool_call_id, sent.name, sent.content, sent.is_error) == (
        "call_1",
        "get_weather",
        "sunny in Oslo",
        False,
    )


async def test_the_history_is_the_request_then_each_call_turn_and_its_results_then_the_answer() -> None:
    model = Scripted(asks(call("get_weather", city="Oslo")), says("Sunny."))
    result = await run_tools(model, ASK, [get_weather])
    assert result.messages[:3] == model.requests[1].messages
    assert result.messages[3] == Message.from_response(result.response)
    assert [m.role for m in result.messages] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT]


async def test_an_answer_without_calls_ends_the_loop_in_one_round() -> None:
    model = Scripted(says("No tools needed."))
    result = await run_tools(model, ASK, [get_weather])
    assert (result.text, result.rounds, result.runs) == ("No tools needed.", 1, ())


async def test_every_round_sends_the_request_parameters_and_the_tools() -> None:
    model = Scripted(asks(call("get_weather", city="Oslo")), says("Sunny."))
    await run_tools(model, ASK, [get_weather])
    for request in model.requests:
        assert request.max_tokens == 64
        assert [tool.name for tool in request.tools or ()] == ["get_weather"]


async def test_a_forced_tool_choice_applies_to_the_first_round_only() -> None:
    tool = ToolDefinition.from_function(get_weather)
    forced = GenerateRequest.from_prompt("Weather?", tools=[tool], tool_choice="get_weather")
    model = Scripted(asks(call("get_weather", city="Oslo")), says("Sunny."))
    await run_tools(model, forced)
    assert [r.tool_choice for r in model.requests] == ["get_weather", "auto"]


@pytest.mark.parametrize("choice", [None, "auto", "none"])
async def test_a_choice_that_forces_nothing_is_kept_every_round(choice: str | None) -> None:
    request = GenerateRequest.from_prompt("Weather?", tool_choice=choice)
    model = Scripted(asks(call("get_weather", city="Oslo")), says("Sunny."))
    await run_tools(model, request, [get_weather])
    assert [r.tool_choice for r in model.requests] == [choice, choice]


async def test_tools_of_the_request_with_a_handler_run_and_tools_given_replace_those_of_the_same_name() -> None:
    def stale(city: str) -> str:
        return "stale"

    in_request = ToolDefinition.from_function(stale, name="get_weather")
    request = GenerateRequest.from_prompt("Weather?", tools=[in_request])
    result = await run_tools(Scripted(asks(call("get_weather", city="Oslo")), says("ok")), request)
    assert result.runs[0].content == "stale"
    model = Scripted(asks(call("get_weather", city="Oslo")), says("ok"))
    result = await run_tools(model, request, [get_weather])
    assert result.runs[0].content == "sunny in Oslo"
    assert [t.name for t in model.requests[0].tools or ()] == ["get_weather"]


async def test_a_definition_with_a_handler_is_called_with_its_arguments_validated_by_the_handlers_signature() -> None:
    seen: list[Any] = []

    def record(city: str, days: int = 1) -> dict[str, Any]:
        seen.append((city, days))
        return {"city": city, "days": days}

    tool = ToolDefinition(
        name="forecast",
        parameters={"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}},
        handler=record,
    )
    result = await run_tools(Scripted(asks(call("forecast", city="Oslo", days="3")), says("ok")), ASK, [tool])
    assert seen == [("Oslo", 3)]
    assert result.runs[0].content == '{"city":"Oslo","days":3}'


async def test_the_exported_name_is_the_same_function() -> None:
    assert exported_run_tools is run_tools


# -- sync and async functions, one answer's calls concurrently ---------------------------------


async def test_a_sync_function_runs_in_a_worker_thread_and_an_async_one_on_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    threads: dict[str, int] = {}

    def in_thread(city: str) -> str:
        threads["sync"] = threading.get_ident()
        return city

    async def on_loop(city: str) -> str:
        threads["async"] = threading.get_ident()
        await anyio.lowlevel.checkpoint()
        return city

    model = Scripted(asks(call("in_thread", "c1", city="a"), call("on_loop", "c2", city="b")), says("ok"))
    result = await run_tools(model, ASK, [in_thread, on_loop])
    assert [run.value for run in result.runs] == ["a", "b"]
    assert threads["async"] == loop_thread
    assert threads["sync"] != loop_thread


async def test_the_async_calls_of_one_answer_overlap() -> None:
    # Each call waits until the other has started: run one after the other, the first would time out.
    started = {"a": anyio.Event(), "b": anyio.Event()}

    async def meet(me: str, other: str) -> str:
        started[me].set()
        with anyio.fail_after(5):
            await started[other].wait()
        return me

    model = Scripted(asks(call("meet", "c1", me="a", other="b"), call("meet", "c2", me="b", other="a")), says("ok"))
    result = await run_tools(model, ASK, [meet])
    assert [(run.value, run.is_error) for run in result.runs] == [("a", False), ("b", False)]


async def test_the_sync_calls_of_one_answer_run_in_threads_at_the_same_time() -> None:
    barrier = threading.Barrier(2, timeout=5)  # passes only with both threads inside at once

    def meet(me: str) -> str:
        barrier.wait()
        return me

    model = Scripted(asks(call("meet", "c1", me="a"), call("meet", "c2", me="b")), says("ok"))
    result = await run_tools(model, ASK, [meet])
    assert [(run.value, run.is_error) for run in result.runs] == [("a", False), ("b", False)]


async def test_results_go_back_in_the_order_of_the_calls_whatever_order_they_finish_in() -> None:
    async def wait(seconds: float) -> float:
        await anyio.sleep(seconds)
        return seconds

    model = Scripted(asks(call("wait", "slow", seconds=0.05), call("wait", "fast", seconds=0)), says("ok"))
    result = await run_tools(model, ASK, [wait])
    assert [r.tool_call_id for r in results_sent(model.requests[1])] == ["slow", "fast"]
    assert [run.call.id for run in result.runs] == ["slow", "fast"]


# -- arguments ---------------------------------------------------------------------------------


class Place(BaseModel):
    city: str
    country: str = "NO"


async def test_arguments_are_validated_and_converted_to_the_signatures_types_before_the_call() -> None:
    seen: list[tuple[Any, ...]] = []

    def plan(place: Place, days: Annotated[int, Field(ge=1)], when: float = 0.5) -> str:
        seen.append((place, days, when))
        return "planned"

    arguments: dict[str, Any] = {"place": {"city": "Oslo"}, "days": "3", "when": 2}
    await run_tools(Scripted(asks(call("plan", **arguments)), says("ok")), ASK, [plan])
    assert seen == [(Place(city="Oslo"), 3, 2.0)]
    assert type(seen[0][2]) is float


async def test_an_argument_of_the_wrong_type_is_not_passed_the_problem_goes_back_as_the_result() -> None:
    called: list[Any] = []

    def forecast(city: str, days: Annotated[int, Field(ge=1)]) -> str:
        called.append((city, days))
        return "ok"

    model = Scripted(asks(call("forecast", city=42, days=0)), says("Sorry."))
    result = await run_tools(model, ASK, [forecast])
    assert called == []
    (run,) = result.runs
    assert (run.is_error, run.failure, run.value) == (True, "invalid_arguments", None)
    assert run.content == (
        "forecast was not called: its arguments do not validate: city: Input should be a valid string (got 42); "
        "days: Input should be greater than or equal to 1 (got 0)"
    )
    (sent,) = results_sent(model.requests[1])
    assert (sent.content, sent.is_error) == (run.content, True)


async def test_a_missing_or_unexpected_argument_is_a_problem_too() -> None:
    model = Scripted(asks(call("get_weather", town="Oslo")), says("Sorry."))
    result = await run_tools(model, ASK, [get_weather])
    assert result.runs[0].content == (
        "get_weather was not called: its arguments do not validate: city: Field required; "
        "town: Extra inputs are not permitted (got 'Oslo')"
    )


DEFAULT_UNITS = ["celsius"]


async def test_a_parameter_left_out_gets_pythons_own_default_object() -> None:
    # pydantic would hand over a copy of a mutable default; the function's own object is passed.
    seen: list[object] = []

    def weather(city: str, units: list[str] = DEFAULT_UNITS) -> str:
        seen.append(units)
        return city

    await run_tools(Scripted(asks(call("weather", city="Oslo")), says("ok")), ASK, [weather])
    assert seen[0] is DEFAULT_UNITS


async def test_a_field_default_is_filled_in_and_keyword_arguments_are_validated() -> None:
    seen: list[Any] = []

    def tagged(city: str, limit: int = Field(default=3, ge=1), **tags: int) -> str:
        seen.append((city, limit, tags))
        return city

    await run_tools(Scripted(asks(call("tagged", city="Oslo", rank="2")), says("ok")), ASK, [tagged])
    assert seen == [("Oslo", 3, {"rank": 2})]


async def test_arguments_that_are_not_a_json_object_are_never_called_with_no_arguments() -> None:
    called: list[str] = []

    def now() -> str:
        called.append("now")
        return "12:00"

    unreadable = ToolCallOutput(id="c1", name="now", arguments={}, raw_arguments="the current time, please")
    model = Scripted(asks(unreadable), says("Sorry."))
    result = await run_tools(model, ASK, [now])
    assert called == []
    (run,) = result.runs
    assert (run.is_error, run.failure) == (True, "unreadable_arguments")
    assert run.content == (
        "now was not called: its arguments must be a JSON object of its parameters, not 'the current time, please'"
    )


async def test_arguments_marked_none_with_the_raw_text_are_a_problem_too() -> None:
    # What the backends give for arguments they could not read: None, and the text beside it.
    unparsed = ToolCallOutput(id="c1", name="now", arguments=None, raw_arguments='{"tz": "UT')
    called: list[str] = []

    def now() -> str:
        called.append("now")
        return "12:00"

    loop = _ToolLoop(Scripted(), ASK, [now], max_rounds=2, raise_tool_errors=False, method="run_tools")
    run, message, cause = await loop._run_call(unparsed, 1)
    assert called == []
    assert (run.is_error, run.failure, cause) == (True, "unreadable_arguments", None)
    assert (
        run.content == 'now was not called: its arguments must be a JSON object of its parameters, not \'{"tz": "UT\''
    )
    assert message.content[0] == ToolResultInput(tool_call_id="c1", content=run.content, name="now", is_error=True)


async def test_empty_arguments_to_a_function_without_parameters_run_it() -> None:
    def now() -> str:
        return "12:00"

    result = await run_tools(Scripted(asks(call("now")), says("Noon.")), ASK, [now])
    assert (result.runs[0].content, result.runs[0].is_error) == ("12:00", False)


# -- failures go back to the model ---------------------------------------------------------------


async def test_an_unknown_tool_goes_back_as_an_error_naming_the_tools() -> None:
    model = Scripted(asks(call("get_wether", city="Oslo")), says("Sorry."))
    result = await run_tools(model, ASK, [get_weather])
    (run,) = result.runs
    assert (run.is_error, run.failure) == (True, "unknown_tool")
    assert run.content == "there is no tool named 'get_wether'; the tools are get_weather"
    assert result.text == "Sorry."


async def test_an_exception_of_the_function_goes_back_as_an_error_and_the_loop_goes_on() -> None:
    def get_weather(city: str) -> str:
        raise LookupError(f"no station in {city}")

    model = Scripted(asks(call("get_weather", city="Atlantis")), says("No data."))
    result = await run_tools(model, ASK, [get_weather])
    (run,) = result.runs
    assert (run.is_error, run.failure, run.content) == (
        True,
        "raised",
        "get_weather raised LookupError: no station in Atlantis",
    )
    assert results_sent(model.requests[1])[0].is_error
    assert result.text == "No data."


async def test_a_result_that_is_not_a_string_goes_back_as_json() -> None:
    def lookup(city: str) -> Any:
        return {"city": city, "place": Place(city=city), "temps": (1.5, 2)} if city != "none" else None

    model = Scripted(asks(call("lookup", "c1", city="Oslo"), call("lookup", "c2", city="none")), says("ok"))
    result = await run_tools(model, ASK, [lookup])
    assert [run.content for run in result.runs] == [
        '{"city":"Oslo","place":{"city":"Oslo","country":"NO"},"temps":[1.5,2]}',
        "null",
    ]


async def test_a_result_that_cannot_be_sent_as_text_goes_back_as_an_error() -> None:
    def broken(city: str) -> str:
        return "\ud800"  # a lone surrogate: no request body can carry it

    result = await run_tools(Scripted(asks(call("broken", city="Oslo")), says("ok")), ASK, [broken])
    (run,) = result.runs
    assert (run.is_error, run.failure) == (True, "unsendable_result")
    assert run.content == "broken's result cannot be sent: it is not valid Unicode text"


# -- raise instead -----------------------------------------------------------------------------


async def test_raise_tool_errors_raises_the_functions_exception_as_the_cause_and_cancels_the_other_calls() -> None:
    slow, cancelled = hanging("slow")

    async def failing(city: str) -> str:
        await anyio.sleep(0.01)
        raise LookupError("no station")

    model = Scripted(asks(call("slow", "c1", city="a"), call("failing", "c2", city="b")), says("ok"))
    with pytest.raises(ToolCallError) as caught:
        await run_tools(model, ASK, [slow, failing], raise_tool_errors=True)
    err = caught.value
    assert (err.tool_name, err.call_id, err.failure) == ("failing", "c2", "raised")
    assert isinstance(err.__cause__, LookupError)
    assert str(err) == "[botticelli] run_tools: failing raised LookupError: no station"
    assert cancelled.is_set()
    assert len(model.requests) == 1


@pytest.mark.parametrize(
    ("answer", "failure"),
    [
        (asks(call("nope")), "unknown_tool"),
        (asks(call("get_weather", city=1)), "invalid_arguments"),
        (asks(ToolCallOutput(id="c", name="get_weather", arguments={}, raw_arguments="Oslo")), "unreadable_arguments"),
    ],
)
async def test_raise_tool_errors_raises_for_a_call_that_cannot_run(answer: GenerateResponse, failure: str) -> None:
    with pytest.raises(ToolCallError) as caught:
        await run_tools(Scripted(answer), ASK, [get_weather], raise_tool_errors=True)
    assert caught.value.failure == failure
    assert caught.value.__cause__ is None
    assert isinstance(caught.value, BotticelliError)


# -- max_rounds ----------------------------------------------------------------------------------


async def test_reaching_max_rounds_raises_with_the_loop_so_far_and_the_last_calls_not_run() -> None:
    ran: list[str] = []

    def get_weather(city: str) -> str:
        ran.append(city)
        return "sunny"

    usage = Usage(input_tokens=10, output_tokens=2)
    model = Scripted(lambda r: asks(call("get_weather", f"c{len(r.messages)}", city="Oslo"), usage=usage))
    with pytest.raises(ToolRoundsExceededError) as caught:
        await run_tools(model, ASK, [get_weather], max_rounds=3)
    err = caught.value
    assert len(model.requests) == 3
    assert ran == ["Oslo", "Oslo"]  # the calls of the third answer did not run
    assert (err.max_rounds, err.result.rounds, len(err.result.runs)) == (3, 3, 2)
    assert err.result.response.tool_calls[0].name == "get_weather"
    assert err.result.messages == model.requests[-1].messages  # ends with the last results sent
    assert err.result.messages[-1].role is Role.TOOL
    assert err.result.usage == Usage(input_tokens=30, output_tokens=6)
    assert str(err) == (
        "[botticelli] run_tools stopped after max_rounds=3: the last answer still asks for tool calls "
        "(get_weather), which did not run; the loop so far is on .result"
    )


async def test_max_rounds_one_asks_once_and_runs_nothing() -> None:
    ran: list[str] = []

    def now() -> str:
        ran.append("now")
        return "12:00"

    with pytest.raises(ToolRoundsExceededError) as caught:
        await run_tools(Scripted(asks(call("now"))), ASK, [now], max_rounds=1)
    assert ran == []
    assert caught.value.result.messages == ASK.messages


async def test_the_loop_may_go_on_from_the_history_of_the_error() -> None:
    model = Scripted(
        asks(call("get_weather", city="Oslo")), asks(call("get_weather", "c2", city="Lyon")), says("Done.")
    )
    with pytest.raises(ToolRoundsExceededError) as caught:
        await run_tools(model, ASK, [get_weather], max_rounds=2)
    go_on = ASK.model_copy(update={"messages": caught.value.result.messages})
    result = await run_tools(model, go_on, [get_weather])
    assert result.text == "Done."


# -- usage, signatures ---------------------------------------------------------------------------


async def test_usage_is_summed_over_the_rounds_that_report_it() -> None:
    model = Scripted(
        asks(call("get_weather", city="Oslo"), usage=Usage(input_tokens=20, output_tokens=8, reasoning_tokens=4)),
        asks(call("get_weather", "c2", city="Lyon")),  # a round without usage
        says("Done.", usage=Usage(input_tokens=50, output_tokens=3, cached_tokens=20)),
    )
    result = await run_tools(model, ASK, [get_weather])
    assert result.usage == Usage(
        input_tokens=70, output_tokens=11, total_tokens=85, reasoning_tokens=4, cached_tokens=20
    )
    assert result.usage.total_tokens == 85


async def test_no_usage_anywhere_is_none() -> None:
    result = await run_tools(Scripted(says("Hi.")), ASK, [get_weather])
    assert result.usage is None


async def test_call_signatures_go_back_with_the_calls() -> None:
    signed = ToolCallOutput(id="fc-1", name="get_weather", arguments={"city": "Oslo"}, signature="c2lnbmF0dXJl")
    model = Scripted(asks(signed, text="Checking."), says("Sunny."))
    await run_tools(model, ASK, [get_weather])
    turn = model.requests[1].messages[1]
    assert (turn.text, turn.tool_calls[0].signature) == ("Checking.", "c2lnbmF0dXJl")


async def test_each_call_is_logged_with_its_tool_round_and_outcome(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="botticelli")
    model = Scripted(asks(call("get_weather", "c1", city="Oslo"), call("nope", "c2")), says("ok"))
    await run_tools(model, ASK, [get_weather])
    # Logged as each call finishes: the unknown tool first, since it runs nothing.
    events = sorted(r.getMessage() for r in caplog.records if "botticelli.tool_call" in r.getMessage())
    assert len(events) == 2
    assert "call_id='c1'" in events[0]
    assert "tool='get_weather'" in events[0]
    assert "failure=None" in events[0]
    assert "round=1" in events[0]
    assert "failure='unknown_tool'" in events[1]


# -- refused before anything is sent ---------------------------------------------------------------


async def test_a_model_that_takes_no_tools_is_refused_before_anything_is_sent() -> None:
    model = ScriptedWithoutTools(says("never"))
    with pytest.raises(UnsupportedInputError) as caught:
        await run_tools(model, ASK, [get_weather])
    assert (caught.value.input_type, caught.value.provider) == ("tools", "scripted")
    assert model.requests == []


def untyped(city):  # type: ignore[no-untyped-def]
    return city


@pytest.mark.parametrize(
    ("request_", "tools", "max_rounds", "words"),
    [
        (ASK, [], 10, "run_tools needs tools"),
        (GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="bare")]), [], 10, "cannot run tool(s) bare"),
        (ASK, [untyped], 10, "have no type annotation"),
        (ASK, [get_weather, get_weather], 10, "name 'get_weather' twice"),
        (ASK, ["get_weather"], 10, "tools[0] is a str, not a function or a ToolDefinition"),
        (ASK, get_weather, 10, "must be a list of functions or ToolDefinitions"),
        (ASK, 42, 10, "must be a list of functions or ToolDefinitions, not int"),
        (ASK, "get_weather", 10, "must be a list of functions or ToolDefinitions, not str"),
        (ASK, [get_weather], 0, "max_rounds must be a positive int (got 0)"),
        (ASK, [get_weather], True, "max_rounds must be a positive int (got True)"),
        ("Weather?", [get_weather], 10, "takes a GenerateRequest, not str; wrap a prompt"),
    ],
)
async def test_bad_input_is_a_configuration_error_naming_it_before_anything_is_sent(
    request_: Any, tools: Any, max_rounds: Any, words: str
) -> None:
    model = Scripted(says("never"))
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        await run_tools(model, request_, tools, max_rounds=max_rounds)
    assert model.requests == []


async def test_something_that_is_not_a_model_is_a_configuration_error() -> None:
    with pytest.raises(
        ConfigurationError, match=re.escape("run_tools takes a GenerativeModel (a client, router or pool), not str")
    ):
        await run_tools("http://127.0.0.1:8080", ASK, [get_weather])  # type: ignore[arg-type]


async def test_an_error_of_the_model_is_raised_as_it_is() -> None:
    def fail(request: GenerateRequest) -> GenerateResponse:
        raise RateLimitError("slow down", provider="scripted")

    with pytest.raises(RateLimitError):
        await run_tools(Scripted(asks(call("get_weather", city="Oslo")), fail), ASK, [get_weather])


# -- cancellation ----------------------------------------------------------------------------------


async def test_cancelling_the_loop_cancels_a_running_async_function() -> None:
    hang, cancelled = hanging("hang")

    started = time.perf_counter()
    with anyio.move_on_after(0.1) as scope:
        await run_tools(Scripted(asks(call("hang", city="Oslo"))), ASK, [hang])
    assert scope.cancelled_caught
    assert cancelled.is_set()
    assert time.perf_counter() - started < 2


async def test_cancelling_the_loop_waits_for_a_sync_function_already_running_in_its_thread() -> None:
    # A thread cannot be stopped; the loop returns only once it has, so nothing it started outlives it.
    finished = threading.Event()

    def slow(city: str) -> str:
        time.sleep(0.3)
        finished.set()
        return city

    with anyio.move_on_after(0.05):
        await run_tools(Scripted(asks(call("slow", city="Oslo"))), ASK, [slow])
    assert finished.is_set()


def test_a_tool_run_is_data() -> None:
    run = ToolRun(round=1, call=call("now"), content="12:00", value="12:00")
    assert run.model_dump()["content"] == "12:00"


# -- handlers of every shape ---------------------------------------------------------------------


async def test_positional_only_and_star_parameters_are_bound_as_python_would() -> None:
    seen: list[Any] = []

    def span(start: int, /, *more: int, step: int = 1) -> str:
        seen.append((start, more, step))
        return "ok"

    tool = ToolDefinition(name="span", handler=span)
    await run_tools(Scripted(asks(call("span", start="1", step=2)), says("ok")), ASK, [tool])
    assert seen == [(1, (), 2)]


async def test_a_sync_callable_that_returns_a_coroutine_has_it_awaited() -> None:
    async def fetch(city: str) -> str:
        return f"fetched {city}"

    def later(city: str) -> Awaitable[str]:
        return fetch(city)

    result = await run_tools(Scripted(asks(call("later", city="Oslo")), says("ok")), ASK, [later])
    assert result.runs[0].content == "fetched Oslo"


async def test_a_value_without_a_json_form_goes_back_as_its_text_or_as_an_error_when_it_has_none() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "an opaque handle"

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    def make(kind: str) -> object:
        return Opaque() if kind == "opaque" else Broken()

    model = Scripted(asks(call("make", "c1", kind="opaque"), call("make", "c2", kind="broken")), says("ok"))
    result = await run_tools(model, ASK, [make])
    assert [(run.content, run.failure) for run in result.runs] == [
        ('"an opaque handle"', None),
        (
            "make returned a value that cannot be sent as text: Error serializing to JSON: RuntimeError: no text",
            "unsendable_result",
        ),
    ]


def annotated_later(city: Missing) -> str:  # type: ignore[name-defined]  # noqa: F821 - never defined
    return "never"


def quoted_twice(city: "Missing") -> str:  # type: ignore[name-defined]  # noqa: F821, UP037 - a string left after evaluation
    return "never"


class Handle:
    """A type pydantic has no schema for."""


def takes_a_handle(handle: Handle) -> str:
    return "never"


@pytest.mark.parametrize(
    ("handler", "words"),
    [
        (annotated_later, "the handler of tool 'x' has no signature that can be read (NameError"),
        (takes_a_handle, "the handler of tool 'x' has parameters pydantic cannot validate"),
        (quoted_twice, "the handler of tool 'x' has parameters pydantic cannot validate: an annotation names a type"),
    ],
)
async def test_a_handler_whose_parameters_cannot_be_validated_is_refused_before_anything_is_sent(
    handler: Any, words: str
) -> None:
    model = Scripted(says("never"))
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        await run_tools(model, ASK, [ToolDefinition(name="x", handler=handler)])
    assert model.requests == []
