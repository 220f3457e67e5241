"""Usage on a stream: asked for where the server can report it, and the docs say which never do."""

from __future__ import annotations

import json
import re

import pytest
import respx

from botticelli_core import FinishReason, GenerateRequest
from botticelli_server import DIALECTS, get_dialect
from botticelli_server._body import chat_body
from botticelli_server.convert import to_chat_request
from tests.local.docs.snippets import ROOT

from . import wire
from .support import collect_text, make_client

REQUEST = GenerateRequest.from_prompt("hi", max_tokens=4)


# What llama-cpp-python's server (0.3.x) streams, asked for usage or not: no usage anywhere.
def _llama_cpp_python_chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {"id": "chatcmpl-1", "model": "tiny", "created": 1, "object": "chat.completion.chunk", "choices": [choice]}


LLAMA_CPP_PYTHON_STREAM = wire.sse(
    _llama_cpp_python_chunk({"role": "assistant"}),
    _llama_cpp_python_chunk({"content": "re"}),
    _llama_cpp_python_chunk({}, finish="length"),
)


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_a_stream_asks_for_usage_only_where_the_server_can_report_it(name: str) -> None:
    dialect = get_dialect(name)
    lean = json.loads(chat_body(REQUEST, default_model="m", dialect=dialect, stream=True)[0])
    full = json.loads(to_chat_request(REQUEST, default_model="m", dialect=dialect, stream=True).to_json())
    for body in (lean, full):
        assert body["stream"] is True
        assert ("stream_options" in body) is dialect.stream_usage
        if dialect.stream_usage:
            assert body["stream_options"] == {"include_usage": True}


def test_llama_cpp_python_is_the_server_that_never_reports_usage_on_a_stream() -> None:
    assert [name for name, dialect in DIALECTS.items() if not dialect.stream_usage] == ["llama-cpp-python"]


@pytest.mark.anyio
async def test_a_llama_cpp_python_stream_is_not_asked_for_usage_and_ends_with_none() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=LLAMA_CPP_PYTHON_STREAM)
        async with make_client(max_retries=0, dialect="llama-cpp-python") as client:
            text, chunks = await collect_text(client, REQUEST)
    sent = json.loads(route.calls.last.request.content)
    assert "stream_options" not in sent
    assert text == "re"
    assert (chunks[-1].finish_reason, chunks[-1].usage) == (FinishReason.LENGTH, None)


@pytest.mark.anyio
async def test_usage_on_the_finish_chunk_itself_is_reported() -> None:
    # Servers that report usage unasked put it on the chunk with the finish reason.
    finish = wire.openai_chunk(finish="stop", usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7})
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(wire.openai_chunk("Hi"), finish))
        async with make_client(max_retries=0) as client:
            _, chunks = await collect_text(client, REQUEST)
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.input_tokens, chunks[-1].usage.output_tokens) == (5, 2)


# docs/servers.md's columns, by the dialect each server speaks.
_COLUMNS = {
    "mistral.rs": "mistral.rs",
    "llama.cpp `llama-server`": "llama.cpp",
    "`llama_cpp.server` (Python)": "llama-cpp-python",
    "vLLM": "vllm",
    "Ollama": "ollama",
}


def test_the_server_table_says_never_exactly_where_the_dialect_never_reports_usage() -> None:
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in (ROOT / "docs" / "servers.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("|")
    ]
    header = rows[0]
    usage = next(row for row in rows if row[0] == "usage when streaming")
    assert set(header[1:]) == set(_COLUMNS)
    for column, cell in zip(header[1:], usage[1:], strict=True):
        says_never = re.match(r"never\b", cell) is not None
        assert says_never is not get_dialect(_COLUMNS[column]).stream_usage, (column, cell)
