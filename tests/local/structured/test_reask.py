"""generate_object(..., retries=N): an invalid answer goes back with its problems, and the model answers again."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from pydantic import BaseModel, Field
from structlog.testing import capture_logs

from botticelli_core import GenerateRequest, GenerateResponse, TextOutput, Usage
from botticelli_error import ConfigurationError, OutputValidationError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import ObjectResponse, generate_object, generate_object_response
from botticelli_server import ServerClient, ServerConfig
from tests.local.gemini import wire as gemini_wire
from tests.local.server import wire

pytestmark = pytest.mark.anyio

REQUEST = GenerateRequest.from_prompt("Who wrote the first program?")


class Person(BaseModel):
    name: str
    age: int = Field(ge=0)


class Tags(BaseModel):
    tags: list[int]


def completion(content: str, *, prompt: int = 10, answer: int = 5, finish: str = "stop") -> dict[str, Any]:
    return {
        **wire.OPENAI_COMPLETION,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": answer, "total_tokens": prompt + answer},
    }


def replied(body: dict[str, Any]) -> respx.MockResponse:
    # json.dumps escapes what is not ASCII, lone surrogates included, as a server may.
    return respx.MockResponse(200, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


def client() -> ServerClient:
    return ServerClient(ServerConfig(base_url=wire.BASE_URL, model="default", max_retries=0))


def sent(route: respx.Route, call: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[call].request.content)
    return body


async def ask(*replies: dict[str, Any], retries: int) -> tuple[respx.Route, ObjectResponse[Person]]:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL)
        route.side_effect = [replied(reply) for reply in replies]
        async with client() as model:
            result = await generate_object_response(model, REQUEST, Person, retries=retries)
    return route, result


async def fail(*replies: dict[str, Any], retries: int) -> tuple[respx.Route, OutputValidationError]:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL)
        route.side_effect = [replied(reply) for reply in replies]
        async with client() as model:
            with pytest.raises(OutputValidationError) as caught:
                await generate_object(model, REQUEST, Person, retries=retries)
    return route, caught.value


async def test_an_invalid_answer_is_sent_back_with_its_problems_and_the_second_answer_is_returned() -> None:
    invalid = '{"age": -3}'
    route, result = await ask(
        completion(invalid, prompt=10, answer=5),
        completion('{"name": "Ada", "age": 36}', prompt=40, answer=9),
        retries=1,
    )
    assert result.value == Person(name="Ada", age=36)
    assert result.attempts == 2
    assert result.usage == Usage(input_tokens=50, output_tokens=14, total_tokens=64)
    assert result.response.usage == Usage(input_tokens=40, output_tokens=9)
    assert [f.raw_text for f in result.failures] == [invalid]
    first, second = sent(route, 0), sent(route, 1)
    # The same request again (schema included), with two turns more: the answer, then the problems.
    assert second["messages"][:-2] == first["messages"]
    assert second["response_format"] == first["response_format"]
    assert second["messages"][-2] == {"role": "assistant", "content": invalid}
    problems = second["messages"][-1]
    assert problems["role"] == "user"
    assert "- name: Field required\n" in problems["content"]
    assert "- age: Input should be greater than or equal to 0 (got -3)\n" in problems["content"]


async def test_generate_object_returns_just_the_object_of_a_reasked_call() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).side_effect = [
            respx.MockResponse(200, json=completion('{"name": "Ada"}')),
            respx.MockResponse(200, json=completion('{"name": "Ada", "age": 36}')),
        ]
        async with client() as model:
            assert await generate_object(model, REQUEST, Person, retries=1) == Person(name="Ada", age=36)


async def test_n_plus_one_invalid_answers_raise_the_last_failure_with_every_attempts_problems() -> None:
    answers = ['{"name": "Ada", "age": -1}', '{"name": 7, "age": 36}', "Sure! Here is the JSON:"]
    route, error = await fail(*(completion(a, prompt=10 * (i + 1), answer=5) for i, a in enumerate(answers)), retries=2)
    assert route.call_count == 3
    assert [a.raw_text for a in error.attempts] == answers
    assert [[p["loc"] for p in a.problems] for a in error.attempts] == [[("age",)], [("name",)], [()]]
    assert [a.usage.input_tokens for a in error.attempts if a.usage] == [10, 20, 30]
    assert error.usage == Usage(input_tokens=60, output_tokens=15, total_tokens=75)
    # The error itself describes the last answer, and says there were others.
    assert (error.raw_text, error.problems, error.finish_reason) == (answers[2], error.attempts[2].problems, "stop")
    assert error.message.startswith("the answer does not validate as Person: <root>: Invalid JSON")
    assert "attempt 3 of 3" in error.message
    # Each re-ask carries the whole conversation so far: the third request holds both earlier answers.
    third = sent(route, 2)["messages"]
    assert [m["role"] for m in third] == ["user", "assistant", "user", "assistant", "user"]
    assert [third[1]["content"], third[3]["content"]] == answers[:2]
    assert "- name: Input should be a valid string (got 7)" in third[4]["content"]


async def test_no_retries_by_default_and_the_error_is_the_one_parse_raises() -> None:
    route, error = await fail(completion('{"name": "Ada", "age": -1}'), retries=0)
    assert route.call_count == 1
    answer = GenerateResponse(outputs=[TextOutput(text='{"name": "Ada", "age": -1}')], finish_reason="stop")
    with pytest.raises(OutputValidationError) as parsed:
        answer.parse(Person)
    assert (error.message, error.raw_text, error.problems) == (
        parsed.value.message,
        parsed.value.raw_text,
        parsed.value.problems,
    )
    assert len(error.attempts) == 1
    assert error.usage == Usage(input_tokens=10, output_tokens=5)

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL)
        route.side_effect = [
            respx.MockResponse(200, json=completion("{}")),
            respx.MockResponse(200, json=completion("{}")),
        ]
        async with client() as model:
            with pytest.raises(OutputValidationError):
                await generate_object(model, REQUEST, Person)
    assert route.call_count == 1


async def test_a_cut_off_answer_is_reasked_saying_it_was_cut_off() -> None:
    route, _result = await ask(
        completion('{"name": "Ada", "ag', finish="length"), completion('{"name": "Ada", "age": 36}'), retries=1
    )
    problems = sent(route, 1)["messages"][-1]["content"]
    assert "- (the whole answer): Invalid JSON: EOF while parsing" in problems
    assert "cut off at the token limit" in problems


async def test_a_re_ask_lists_twenty_problems_and_counts_the_rest() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL)
        route.side_effect = [
            respx.MockResponse(200, json=completion(json.dumps({"tags": ["x"] * 30}))),
            respx.MockResponse(200, json=completion('{"tags": [1]}')),
        ]
        async with client() as model:
            assert await generate_object(model, REQUEST, Tags, retries=1) == Tags(tags=[1])
    lines = sent(route, 1)["messages"][-1]["content"].splitlines()
    listed = [line for line in lines if line.startswith("- tags.")]
    assert len(listed) == 20
    assert listed[0] == "- tags.0: Input should be a valid integer, unable to parse string as an integer (got 'x')"
    assert "- and 10 more like these" in lines


async def test_an_object_where_a_value_was_expected_is_named_as_json() -> None:
    class Home(BaseModel):
        city: str

    class Owner(BaseModel):
        home: Home

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL)
        route.side_effect = [
            respx.MockResponse(200, json=completion('{"home": "Oslo", "pets": 2}')),
            respx.MockResponse(200, json=completion('{"home": {"city": "Oslo"}}')),
        ]
        async with client() as model:
            await generate_object(model, REQUEST, Owner, retries=1)
    assert "- home: expected a JSON object (got 'Oslo')" in sent(route, 1)["messages"][-1]["content"]


@pytest.mark.parametrize("retries", [-1, True, 1.5])
async def test_retries_must_be_a_whole_number_and_nothing_is_sent_otherwise(retries: Any) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json=completion("{}"))
        async with client() as model:
            with pytest.raises(ConfigurationError, match="retries"):
                await generate_object(model, REQUEST, Person, retries=retries)
    assert not route.called


async def test_each_re_ask_is_logged_with_its_attempt_number() -> None:
    with capture_logs() as logs:
        await ask(completion("{}"), completion('{"name": "Ada", "age": 36}'), retries=3)
    events = [e for e in logs if e["event"] == "botticelli.reask"]
    assert [(e["attempt"], e["of"], e["output"], e["problems"]) for e in events] == [(2, 4, "Person", 2)]


async def test_gemini_gets_the_invalid_answer_as_the_models_turn_and_the_problems_as_the_users() -> None:
    def reply(text: str, prompt: int) -> dict[str, Any]:
        candidate = gemini_wire.text_candidate(text, finish="STOP")
        return gemini_wire.response(candidate, meta=gemini_wire.usage(prompt, 6))

    config = GeminiConfig(api_key=gemini_wire.API_KEY, base_url=gemini_wire.BASE_URL, model=gemini_wire.MODEL)
    with respx.mock(using="httpx", base_url=gemini_wire.BASE_URL, assert_all_mocked=True) as mock:
        route = mock.post(gemini_wire.GENERATE_PATH)
        route.side_effect = [
            respx.MockResponse(200, json=reply('{"name": "Ada", "age": -36}', 8)),
            respx.MockResponse(200, json=reply('{"name": "Ada", "age": 36}', 30)),
        ]
        async with GeminiClient(config) as model:
            result = await generate_object_response(model, REQUEST, Person, retries=1)
    assert result.value == Person(name="Ada", age=36)
    assert result.usage == Usage(input_tokens=38, output_tokens=12, total_tokens=50)
    contents = sent(route, 1)["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"] == [{"text": '{"name": "Ada", "age": -36}'}]
    assert "- age: Input should be greater than or equal to 0 (got -36)" in contents[2]["parts"][0]["text"]
    assert sent(route, 1)["generationConfig"] == sent(route, 0)["generationConfig"]
