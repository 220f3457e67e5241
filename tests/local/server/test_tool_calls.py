"""Tool calls on the local backend: whole and streamed, junk arguments, and the round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from botticelli_core import FinishReason, GenerateRequest, Message, StreamChunk, ToolDefinition, ToolResultInput
from botticelli_error import UnsupportedInputError
from botticelli_server import (
    ToolCallAssembler,
    arguments_cut_off,
    chunk_to_stream_chunk,
    to_chat_message,
    to_chat_request,
)

from . import wire
from .support import make_client

WEATHER = ToolDefinition(name="get_weather", parameters={"type": "object", "properties": {"city": {"type": "string"}}})
ASK = GenerateRequest.from_prompt("Weather in Oslo?", tools=[WEATHER], tool_choice="get_weather")


def fragment(
    index: int | None = 0, *, id: str | None = None, name: str | None = None, args: Any = None
) -> dict[str, Any]:
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if args is not None:
        function["arguments"] = args
    piece: dict[str, Any] = {"function": function}
    if index is not None:
        piece["index"] = index
    if id is not None:
        piece["id"] = id
    return piece


def tool_chunk(*fragments: dict[str, Any], finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {
        "object": "chat.completion.chunk",
        "model": "default",
        "choices": [{"index": 0, "delta": {"tool_calls": list(fragments), **delta}, "finish_reason": finish}],
    }


def finish_chunk(reason: str = "tool_calls") -> dict[str, Any]:
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}


async def stream(*events: dict[str, Any]) -> list[StreamChunk]:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*events))
        async with make_client(max_retries=0) as client, client.generate_stream(ASK) as chunks:
            return [chunk async for chunk in chunks]


@given(st.data())
def test_any_split_of_the_arguments_assembles_the_same_call(data: st.DataObject) -> None:
    arguments = data.draw(
        st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.booleans()), max_size=4)
    )
    text = json.dumps(arguments)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    calls = ToolCallAssembler()
    calls.feed({"tool_calls": [fragment(id="c1", name="get_weather", args="")]})
    for piece in pieces:
        calls.feed({"tool_calls": [fragment(args=piece)]})
    (call,) = calls.assembled()
    assert (call.id, call.name, call.arguments, call.raw_arguments) == ("c1", "get_weather", arguments, None)


def test_parallel_calls_are_kept_apart_by_index_and_by_a_new_id_on_a_reused_index() -> None:
    calls = ToolCallAssembler()
    calls.feed({"tool_calls": [fragment(0, id="a", name="one", args='{"n":'), fragment(1, id="b", name="two")]})
    calls.feed({"tool_calls": [fragment(0, args=" 1}"), fragment(1, args="{}")]})
    # Ollama gives every parallel call index 0: a different id is a different call.
    calls.feed({"tool_calls": [fragment(0, id="c", name="three", args={"whole": True})]})
    assert [(c.id, c.name, c.arguments) for c in calls.assembled()] == [
        ("a", "one", {"n": 1}),
        ("b", "two", {}),
        ("c", "three", {"whole": True}),
    ]


def test_fragments_without_an_index_continue_the_last_call_unless_they_name_a_new_one() -> None:
    calls = ToolCallAssembler()
    calls.feed({"tool_calls": [fragment(None, id="a", name="one", args='{"x"')]})
    calls.feed({"tool_calls": [fragment(None, args=": 2}")]})
    calls.feed({"tool_calls": fragment(None, name="two", args="{}")})  # one fragment, not in a list
    assert [(c.id, c.name, c.arguments) for c in calls.assembled()] == [("a", "one", {"x": 2}), ("call_1", "two", {})]


def test_the_legacy_function_call_beside_tool_calls_is_not_counted_twice() -> None:
    calls = ToolCallAssembler()
    both = {
        "tool_calls": [fragment(0, id="a", name="get_weather", args='{"city": "Oslo"}')],
        "function_call": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
    }
    calls.feed(both)
    assert [(c.name, c.arguments) for c in calls.assembled()] == [("get_weather", {"city": "Oslo"})]
    legacy_only = ToolCallAssembler()
    legacy_only.feed({"function_call": {"name": "f", "arguments": "{}"}})
    assert [(c.id, c.name) for c in legacy_only.assembled()] == [("call_0", "f")]


def test_junk_arguments_are_none_beside_their_text_and_never_crash() -> None:
    calls = ToolCallAssembler()
    calls.feed({"tool_calls": [fragment(0, id="a", name="f", args="Oslo, please"), "junk", 7]})
    (call,) = calls.assembled()
    assert (call.arguments, call.raw_arguments) == (None, "Oslo, please")


def test_a_text_chunk_without_an_assembler_ignores_tool_fragments() -> None:
    chunk = {"choices": [{"delta": {"content": "Hi", "tool_calls": [fragment(id="a", name="f")]}}]}
    out = chunk_to_stream_chunk(chunk)  # type: ignore[arg-type]
    assert out is not None
    assert (out.text, out.tool_call_deltas) == ("Hi", ())
    with_calls = chunk_to_stream_chunk(chunk, ToolCallAssembler())  # type: ignore[arg-type]
    assert with_calls is not None
    assert (with_calls.text, [d.name for d in with_calls.tool_call_deltas]) == ("Hi", ["f"])


@pytest.mark.anyio
async def test_a_streamed_call_arrives_as_fragments_then_whole_on_the_final_chunk() -> None:
    chunks = await stream(
        tool_chunk(fragment(id="call_1", name="get_weather", args=""), role="assistant", content=None),
        tool_chunk(fragment(args='{"ci')),
        tool_chunk(fragment(args='ty": "Oslo"}')),
        finish_chunk(),
    )
    deltas = [d for c in chunks for d in c.tool_call_deltas]
    assert [(d.index, d.id, d.name, d.arguments) for d in deltas] == [
        (0, "call_1", "get_weather", ""),
        (0, None, None, '{"ci'),
        (0, None, None, 'ty": "Oslo"}'),
    ]
    final = chunks[-1]
    assert final.is_final
    assert final.finish_reason is FinishReason.TOOL_USE
    assert [(c.id, c.name, c.arguments) for c in final.tool_calls] == [("call_1", "get_weather", {"city": "Oslo"})]


@pytest.mark.anyio
async def test_a_plain_text_stream_has_no_tool_calls() -> None:
    chunks = await stream(wire.openai_chunk("Hi"), wire.openai_chunk(finish="stop"))
    assert chunks[-1].tool_calls == ()
    assert chunks[-1].finish_reason is FinishReason.STOP


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("arguments", "expected", "raw"),
    [
        ('{"city": "Oslo"}', {"city": "Oslo"}, None),
        ({"city": "Oslo"}, {"city": "Oslo"}, None),
        ("[1, 2]", None, "[1, 2]"),
        ("", {}, None),
    ],
)
async def test_a_whole_reply_with_a_tool_call(arguments: Any, expected: dict[str, Any] | None, raw: str | None) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=wire.openai_tool_completion(arguments))
        async with make_client() as client:
            response = await client.generate(ASK)
    (call,) = response.tool_calls
    assert (call.name, call.arguments, call.raw_arguments) == ("get_weather", expected, raw)
    assert response.finish_reason is FinishReason.TOOL_USE


@pytest.mark.anyio
async def test_a_stop_with_tool_calls_is_tool_use() -> None:
    reply = wire.openai_tool_completion("{}")
    reply["choices"][0]["finish_reason"] = "stop"
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=reply)
        async with make_client() as client:
            assert (await client.generate(ASK)).finish_reason is FinishReason.TOOL_USE


@pytest.mark.anyio
async def test_the_round_trip_sends_the_assistant_calls_and_the_tool_results() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json=wire.openai_tool_completion('{"city": "Oslo"}'))
        async with make_client() as client:
            first = await client.generate(ASK)
            call = first.tool_calls[0]
            history = (*ASK.messages, Message.from_response(first), Message.tool_result(call.id, {"temp": 3}))
            await client.generate(GenerateRequest(messages=history, tools=[WEATHER]))
    sent = json.loads(route.calls.last.request.content)["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
        ],
    }
    assert sent[2] == {"role": "tool", "content": '{"temp": 3}', "tool_call_id": call.id}


def test_a_tool_message_with_several_results_is_several_wire_messages() -> None:
    results = Message(role="tool", content=[ToolResultInput(tool_call_id=i, content=i) for i in ("a", "b")])
    request = GenerateRequest(messages=[Message.user("go"), results])
    sent = json.loads(to_chat_request(request, default_model="m").to_json())["messages"]
    assert [(m["role"], m.get("tool_call_id")) for m in sent] == [("user", None), ("tool", "a"), ("tool", "b")]


def test_to_chat_message_refuses_several_results_and_maps_one() -> None:
    two = Message(role="tool", content=[ToolResultInput(tool_call_id=i, content=i) for i in ("a", "b")])
    with pytest.raises(UnsupportedInputError):
        to_chat_message(two)
    assert to_chat_message(Message.tool_result("a", "ok")).tool_call_id == "a"


# -- a call cut off by max_tokens ------------------------------------------------------------------

CUT = '{"a": 4, "b"'


@pytest.mark.anyio
@pytest.mark.parametrize("server_says", ["tool_calls", "length", "stop"])
async def test_a_whole_call_cut_off_by_max_tokens_ended_by_length(server_says: str) -> None:
    # llama-cpp-python says tool_calls for a call max_tokens stopped halfway.
    reply = wire.openai_tool_completion(CUT)
    reply["choices"][0]["finish_reason"] = server_says
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=reply)
        async with make_client() as client:
            response = await client.generate(ASK)
    assert response.finish_reason is FinishReason.LENGTH
    (call,) = response.tool_calls
    assert (call.arguments, call.raw_arguments) == (None, CUT)


@pytest.mark.anyio
@pytest.mark.parametrize("server_says", ["tool_calls", "length"])
async def test_a_streamed_call_cut_off_by_max_tokens_ended_by_length(server_says: str) -> None:
    chunks = await stream(
        tool_chunk(fragment(id="call_1", name="get_weather", args='{"a": 4'), role="assistant"),
        tool_chunk(fragment(args=', "b"')),
        finish_chunk(server_says),
    )
    final = chunks[-1]
    assert final.finish_reason is FinishReason.LENGTH
    assert [(c.name, c.raw_arguments) for c in final.tool_calls] == [("get_weather", CUT)]


@pytest.mark.anyio
async def test_junk_arguments_that_close_are_still_tool_use() -> None:
    # Only JSON left open is a cut: arguments the model got wrong but finished are its answer.
    for junk in ("Oslo, please", "[1, 2]", '{"a": x}'):
        reply = wire.openai_tool_completion(junk)
        with respx.mock(using="httpx", assert_all_mocked=True) as mock:
            mock.post(wire.CHAT_URL).respond(200, json=reply)
            async with make_client() as client:
                assert (await client.generate(ASK)).finish_reason is FinishReason.TOOL_USE


@given(st.dictionaries(st.text(max_size=6), st.one_of(st.integers(), st.text(max_size=6), st.none()), min_size=1))
def test_every_proper_prefix_of_a_calls_arguments_is_a_cut_and_the_whole_is_not(arguments: dict[str, Any]) -> None:
    text = json.dumps(arguments)
    assert not arguments_cut_off(text)
    assert all(arguments_cut_off(text[:end]) for end in range(1, len(text)))


# -- a failed tool call ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_failed_tool_result_reaches_the_model_as_an_error_object() -> None:
    # The OpenAI wire has no is_error: it travels in the content, under Gemini's key for it.
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json=wire.openai_tool_completion('{"city": "Oslo"}'))
        async with make_client() as client:
            first = await client.generate(ASK)
            call = first.tool_calls[0]
            failed = Message.tool_result(call.id, "no such city", is_error=True)
            structured = Message.tool_result(call.id, {"code": 404}, is_error=True)
            history = (*ASK.messages, Message.from_response(first), failed)
            await client.generate(GenerateRequest(messages=history, tools=[WEATHER]))
            sent = json.loads(route.calls.last.request.content)["messages"]
            await client.generate(GenerateRequest(messages=(*history[:-1], structured), tools=[WEATHER]))
            sent_structured = json.loads(route.calls.last.request.content)["messages"]
    assert sent[2] == {"role": "tool", "content": '{"error": "no such city"}', "tool_call_id": call.id}
    assert json.loads(sent_structured[2]["content"]) == {"error": {"code": 404}}


# Raw control characters inside a JSON string, as llama-cpp-python's chatml-function-calling
# wrote them for a forced call with the tiny model (whole, then streamed).
RAW_CONTROLS_WHOLE = '{"city": "P_\u01d5FR\x7f\t/" }'
RAW_CONTROLS_STREAMED = '{"city":" \x1e\u0728 aB" }'


@pytest.mark.anyio
async def test_arguments_with_raw_control_characters_are_read_as_the_model_wrote_them() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=wire.openai_tool_completion(RAW_CONTROLS_WHOLE))
        async with make_client() as client:
            response = await client.generate(ASK)
    (call,) = response.tool_calls
    assert (call.arguments, call.raw_arguments) == ({"city": "P_\u01d5FR\x7f\t/"}, None)
    assert response.finish_reason is FinishReason.TOOL_USE


@pytest.mark.anyio
async def test_streamed_arguments_with_raw_control_characters_are_read_too() -> None:
    chunks = await stream(
        tool_chunk(fragment(id="call_1", name="get_weather", args=RAW_CONTROLS_STREAMED[:9]), role="assistant"),
        tool_chunk(fragment(args=RAW_CONTROLS_STREAMED[9:])),
        finish_chunk(),
    )
    assert [(c.arguments, c.raw_arguments) for c in chunks[-1].tool_calls] == [({"city": " \x1e\u0728 aB"}, None)]


@pytest.mark.anyio
async def test_arguments_that_cannot_be_read_go_back_to_the_server_as_the_model_wrote_them() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json=wire.openai_tool_completion("Oslo, please"))
        async with make_client() as client:
            first = await client.generate(ASK)
            call = first.tool_calls[0]
            assert call.arguments is None  # never a call that looks like one without arguments
            history = (*ASK.messages, Message.from_response(first), Message.tool_result(call.id, "need JSON"))
            await client.generate(GenerateRequest(messages=history, tools=[WEATHER]))
    sent = json.loads(route.calls.last.request.content)["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": "Oslo, please"}
