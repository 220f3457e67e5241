"""``ServerClient.count_tokens``: each server's tokenize route, the order they are tried in, ``exact``."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
import respx

from botticelli_core import GenerateRequest, TokenCount
from botticelli_error import NotFoundError, ResponseDecodeError, ServerUnavailableError
from botticelli_server.tokens import TokenRoute

from . import wire
from .support import make_client

pytestmark = pytest.mark.anyio

REQUEST = GenerateRequest.from_prompt("hello world", system="Be terse.")
APPLY_TEMPLATE_URL = f"{wire.BASE_URL}/apply-template"
TOKENIZE_URL = f"{wire.BASE_URL}/tokenize"
EXTRAS_COUNT_URL = f"{wire.BASE_URL}/extras/tokenize/count"
NOT_FOUND = {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}}


async def test_llamacpp_counts_the_rendered_chat_template_exactly() -> None:
    rendered = "<|system|>\nBe terse.<|end|>\n<|user|>\nhello world<|end|>\n<|assistant|>\n"
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        template = mock.post(APPLY_TEMPLATE_URL).respond(200, json={"prompt": rendered})
        tokenize = mock.post(TOKENIZE_URL).respond(200, json={"tokens": list(range(19))})
        async with make_client() as client:
            count = await client.count_tokens(REQUEST)
    assert count == TokenCount(input_tokens=19, exact=True)
    assert json.loads(template.calls.last.request.content)["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "hello world"},
    ]
    assert json.loads(tokenize.calls.last.request.content) == {"content": rendered, "add_special": True}


async def test_vllm_counts_the_messages_with_the_generation_prompt_exactly() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(APPLY_TEMPLATE_URL).respond(404, json={"detail": "Not Found"})
        tokenize = mock.post(TOKENIZE_URL).respond(200, json={"count": 23, "max_model_len": 4096, "tokens": [1] * 23})
        async with make_client() as client:
            count = await client.count_tokens(REQUEST)
    assert count == TokenCount(input_tokens=23, exact=True)
    sent = json.loads(tokenize.calls.last.request.content)
    assert (sent["model"], sent["add_generation_prompt"], len(sent["messages"])) == ("default", True, 2)


async def test_llama_cpp_python_counts_raw_text_and_says_it_is_not_exact() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(APPLY_TEMPLATE_URL).respond(404, json={"detail": "Not Found"})
        mock.post(TOKENIZE_URL).respond(404, json={"detail": "Not Found"})
        count_route = mock.post(EXTRAS_COUNT_URL).respond(200, json={"count": 10})
        async with make_client() as client:
            count = await client.count_tokens(REQUEST)
    assert count == TokenCount(input_tokens=10, exact=False)
    assert json.loads(count_route.calls.last.request.content) == {"input": "Be terse.\nhello world", "model": "default"}


async def test_the_route_that_answered_is_remembered() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        template = mock.post(APPLY_TEMPLATE_URL).respond(404, json={"detail": "Not Found"})
        tokenize = mock.post(TOKENIZE_URL).respond(404, json={"detail": "Not Found"})
        counted = mock.post(EXTRAS_COUNT_URL).respond(200, json={"count": 10})
        async with make_client() as client:
            await client.count_tokens(REQUEST)
            await client.count_tokens(REQUEST)
            assert client._tokenizer.route is TokenRoute.EXTRAS_COUNT
    assert (template.call_count, tokenize.call_count, counted.call_count) == (1, 1, 2)


async def test_an_empty_token_list_is_no_count_and_the_raw_text_route_is_tried() -> None:
    # llama.cpp answers a /tokenize body without "content" with {"tokens": []}: that is not a count.
    def tokenize(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json={"tokens": [7] * 4 if "content" in body else []})

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(APPLY_TEMPLATE_URL).respond(501, json={"error": {"message": "no template", "code": 501}})
        mock.post(TOKENIZE_URL).mock(side_effect=tokenize)
        mock.post(EXTRAS_COUNT_URL).respond(404, json=NOT_FOUND)
        async with make_client(max_retries=0) as client:  # a 5xx is retried; not the point here
            count = await client.count_tokens(REQUEST)
    assert count == TokenCount(input_tokens=4, exact=False)


async def test_a_server_without_any_tokenize_route_is_a_typed_not_found() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        for url in (APPLY_TEMPLATE_URL, TOKENIZE_URL, EXTRAS_COUNT_URL):
            mock.post(url).respond(404, json=NOT_FOUND)
        async with make_client() as client:
            with pytest.raises(NotFoundError, match="no tokenize endpoint"):
                await client.count_tokens(REQUEST)


async def test_a_failure_other_than_a_missing_route_is_raised_not_skipped() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(APPLY_TEMPLATE_URL).respond(503, json=wire.LLAMACPP_LOADING)
        async with make_client(max_retries=0) as client:
            with pytest.raises(ServerUnavailableError):
                await client.count_tokens(REQUEST)


async def test_a_tokenize_reply_that_is_not_an_object_is_a_decode_error() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(APPLY_TEMPLATE_URL).respond(200, content=b"<html>")
        async with make_client() as client:
            with pytest.raises(ResponseDecodeError):
                await client.count_tokens(REQUEST)


async def test_count_tokens_logs_one_event_with_its_operation_and_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="botticelli")
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(APPLY_TEMPLATE_URL).respond(404, json={"detail": "Not Found"})
        mock.post(TOKENIZE_URL).respond(200, json={"count": 23})
        async with make_client() as client:
            await client.count_tokens(REQUEST)
    events = [r.getMessage() for r in caplog.records if "botticelli.request" in r.getMessage()]
    assert len(events) == 1
    assert "operation='count_tokens'" in events[0]
    assert "input_tokens=23" in events[0]
    assert "status=200" in events[0]
    assert "hello world" not in events[0]
