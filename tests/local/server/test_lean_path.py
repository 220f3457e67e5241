"""``generate``'s lean path sends and reads exactly what the wire models would.

The body is built as plain data (``chat_body``) instead of through ``ChatCompletionRequest``,
and the reply is read through a typed-dict view (``read_completion``) instead of
``ChatCompletionResponse``; for any request and any reply, both ways must agree to the byte,
to the value, and to the type and message of the error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from botticelli_core import (
    GenerateRequest,
    GenerateResponse,
    ImageInput,
    MediaSource,
    Message,
    TextInput,
    ThinkingConfig,
    ToolDefinition,
)
from botticelli_core._base import parse_wire
from botticelli_error import BotticelliError
from botticelli_interface.request_log import RequestLog
from botticelli_server import _completion
from botticelli_server._body import chat_body
from botticelli_server._completion import read_completion, timings_of
from botticelli_server.config import PROVIDER
from botticelli_server.convert import from_chat_response, to_chat_request, usage_from_wire
from botticelli_server.dialect import DIALECTS, get_dialect
from botticelli_server.response import ChatCompletionResponse

# Text that a request can carry: no lone surrogates.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    role = draw(st.sampled_from([Message.user, Message.system, Message.assistant]))
    kind = draw(st.sampled_from(["text", "parts", "image"]))
    if kind == "text":
        return role(draw(TEXT))
    parts: list[Any] = [TextInput(text=t) for t in draw(st.lists(TEXT, min_size=1, max_size=3))]
    if kind == "image":
        parts.append(ImageInput(mime="image/png", source=MediaSource.from_url("https://example.invalid/a.png")))
    return role(parts)


@st.composite
def requests(draw: st.DrawFn) -> GenerateRequest:
    fields: dict[str, Any] = {"messages": draw(st.lists(messages(), min_size=1, max_size=3))}
    optional = {
        "max_tokens": st.integers(1, 2**31 - 1),
        "temperature": st.sampled_from([0.0, 1e-05, 2.0]) | st.floats(0.0, 2.0),
        "top_p": st.floats(0.0, 1.0, exclude_min=True),
        "stop": st.lists(TEXT.filter(bool), max_size=2).map(tuple),
        "seed": st.integers(-2, 2) | st.integers(-(2**63), 2**63 - 1),
        "model": TEXT.filter(bool),
        "output_schema": st.just({"title": "Point", "type": "object", "default": None}),
        "thinking": st.sampled_from(
            [ThinkingConfig(effort="low"), ThinkingConfig(budget_tokens=0), ThinkingConfig(budget_tokens=5)]
        ),
        # Sent as id_slot on llama.cpp, refused elsewhere; session is never sent.
        "slot": st.integers(0, 3),
        "session": NAMES,
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            fields[name] = draw(strategy)
    if draw(st.booleans()):
        names = draw(st.lists(NAMES, min_size=1, max_size=2, unique=True))
        fields["tools"] = [ToolDefinition(name=n, description=draw(TEXT)) for n in names]
        fields["tool_choice"] = draw(st.sampled_from([None, "auto", "none", "required", names[0]]))
    return GenerateRequest(**fields)


def outcome(build: Any) -> Any:
    try:
        return build()
    except BotticelliError as exc:
        return (type(exc), exc.message, getattr(exc, "input_type", None))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    request=requests(),
    dialect=st.sampled_from(sorted(DIALECTS)),
    stream=st.booleans(),
    usage=st.booleans(),
    cache=st.sampled_from([None, True, False]),
)
@example(
    request=GenerateRequest.from_prompt("x", seed=0, temperature=0.0),
    dialect="openai",
    stream=False,
    usage=True,
    cache=None,
)
@example(
    request=GenerateRequest.from_prompt("x", slot=1, thinking=ThinkingConfig(budget_tokens=0)),
    dialect="llama.cpp",
    stream=True,
    usage=True,
    cache=False,
)
def test_the_body_is_the_wire_models_json_to_the_byte(
    request: GenerateRequest, dialect: str, stream: bool, usage: bool, cache: bool | None
) -> None:
    profile = get_dialect(dialect)

    def lean() -> bytes:
        return chat_body(
            request, default_model="cfg", dialect=profile, stream=stream, include_usage=usage, cache_prompt=cache
        )[0]

    def full() -> bytes:
        wire = to_chat_request(
            request, default_model="cfg", dialect=profile, stream=stream, include_usage=usage, cache_prompt=cache
        )
        return wire.to_json()

    assert outcome(lean) == outcome(full)


def test_a_request_with_tool_turns_builds_the_same_body() -> None:
    history = [
        Message.user("add 2 and 3"),
        Message.from_response(
            GenerateResponse.model_validate(
                {
                    "outputs": [{"type": "tool_call", "id": "c1", "name": "add", "arguments": {"a": 2}}],
                    "finish_reason": "tool_use",
                }
            )
        ),
        Message.tool_result("c1", 5),
    ]
    request = GenerateRequest(messages=history, tools=[ToolDefinition(name="add")])
    body, fields = chat_body(request, default_model="m", dialect=get_dialect("openai"))
    assert body == to_chat_request(request, default_model="m").to_json()
    assert json.loads(body)["messages"][2] == {"role": "tool", "content": "5", "tool_call_id": "c1"}
    assert fields["model"] == "m"


# Replies: mostly the right shape, with any field of any JSON type now and then.
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(TEXT, inner, max_size=2),
    max_leaves=4,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, strategy, ANY_JSON)


def fields_of(spec: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in spec.items()})


TOOL_CALL = fields_of(
    {
        "id": TEXT,
        "type": st.just("function"),
        "function": fields_of({"name": NAMES, "arguments": st.sampled_from(['{"a": 1}', "not json", "{}"])}),
    }
)
MESSAGE = fields_of(
    {
        "role": st.just("assistant"),
        "content": st.none() | TEXT,
        "reasoning_content": st.none() | TEXT,
        "reasoning": st.none() | TEXT,
        "tool_calls": st.none() | st.lists(TOOL_CALL, max_size=2),
        "refusal": st.none() | TEXT,
    }
)
CHOICE = fields_of(
    {
        "index": st.integers(0, 2),
        "message": st.none() | MESSAGE,
        "finish_reason": st.sampled_from(["stop", "length", "tool_calls", "abort", None]),
    }
)
USAGE = fields_of(
    {
        "prompt_tokens": st.integers(-3, 99),
        "completion_tokens": st.integers(-3, 99),
        "total_tokens": st.none() | st.integers(-3, 200),
        "completion_tokens_details": st.none()
        | st.fixed_dictionaries({}, optional={"reasoning_tokens": st.none() | st.booleans() | st.integers(-2, 9)}),
        "prompt_tokens_details": st.none()
        | st.fixed_dictionaries({}, optional={"cached_tokens": maybe(st.none() | st.integers(-2, 9))}),
    }
)
TIMINGS = st.fixed_dictionaries(
    {}, optional={"cache_n": maybe(st.integers(-2, 9)), "prompt_n": st.integers(0, 9), "prompt_ms": st.floats(0, 9)}
)
COMPLETION = fields_of(
    {
        "id": st.none() | TEXT,
        "object": st.just("chat.completion"),
        "created": st.integers(0, 2**40) | st.floats(0, 1e10),
        "model": st.none() | TEXT,
        "choices": st.none() | st.lists(CHOICE, max_size=2),
        "usage": st.none() | USAGE,
        "timings": st.none() | TIMINGS,
        "system_fingerprint": TEXT,
    }
)
BODIES = st.one_of(
    COMPLETION.map(lambda body: json.dumps(body).encode()),
    ANY_JSON.map(lambda body: json.dumps(body).encode()),
    st.binary(max_size=20),
    st.sampled_from([b"", b"{", b"[" * 5000 + b"]" * 5000, b'{"choices": [{"message": {"content": "\\ud800"}}]}']),
)


def read_full(body: bytes, entry: RequestLog) -> GenerateResponse:
    """What generate did before the lean path: the whole wire model, then the conversion."""
    response = parse_wire(ChatCompletionResponse, body, provider=PROVIDER, what="chat completion")
    entry.response_model = response.model
    if response.choices:
        entry.finish_reason = response.choices[0].finish_reason
    if response.usage is not None:
        entry.usage = usage_from_wire(response.usage, timings_of(response))
    return from_chat_response(response)


def facts(entry: RequestLog) -> tuple[Any, ...]:
    return entry.response_model, entry.finish_reason, entry.usage


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES)
@example(
    body=b'{"choices":[{"message":{"content":"a"}}],"usage":{"completion_tokens_details":{"reasoning_tokens":true}}}'
)
@example(body=b'{"choices":[{"message":{"content":"a"},"finish_reason":"stop"}],"usage":{"prompt_tokens":-1}}')
@example(body=b'{"choices":[{"message":{"content":5}}]}')
@example(body=b'{"choices":[{"message":{"content":"a"}}],"usage":{"prompt_tokens":9},"timings":{"cache_n":7}}')
@example(body=b'{"choices":[{"message":{"content":"a"}}],"usage":{"prompt_tokens_details":[1]},"timings":"x"}')
@example(body=b'{"created":"yesterday","choices":[{"index":null,"message":{"content":"a"}}]}')
def test_a_reply_reads_the_same_as_through_the_wire_models(body: bytes) -> None:
    lean_entry, full_entry = RequestLog(PROVIDER, "generate"), RequestLog(PROVIDER, "generate")
    lean = outcome(lambda: read_completion(body, lean_entry))
    full = outcome(lambda: read_full(body, full_entry))
    # repr, not ==: True == 1, but a count of True is not the 1 the validator makes of it.
    assert repr(lean) == repr(full)
    assert repr(facts(lean_entry)) == repr(facts(full_entry))
    if isinstance(lean, GenerateResponse):
        assert lean.model_dump() == full.model_dump()
        assert lean.model_fields_set == full.model_fields_set
        assert lean.usage is None or lean.usage.model_fields_set == full.usage.model_fields_set


@pytest.mark.parametrize(
    "body",
    [b'{"choices": []}', b'{"choices": [{"finish_reason": "stop"}]}', b'{"choices": "many"}', b"<html>"],
)
def test_a_reply_without_an_answer_is_a_decode_error(body: bytes) -> None:
    from botticelli_error import ResponseDecodeError  # noqa: PLC0415

    with pytest.raises(ResponseDecodeError):
        read_completion(body, RequestLog(PROVIDER, "generate"))


def test_a_reply_the_view_refused_wrongly_is_read_through_the_wire_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # The view is meant to refuse nothing the wire model accepts; should it ever, the answer still reads.
    body = b'{"model": "m", "choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]}'
    monkeypatch.setattr(_completion, "_parse_view", TypeAdapter(int).validate_json)
    lean_entry, full_entry = RequestLog(PROVIDER, "generate"), RequestLog(PROVIDER, "generate")
    assert read_completion(body, lean_entry) == read_full(body, full_entry)
    assert facts(lean_entry) == facts(full_entry) == ("m", "stop", None)
