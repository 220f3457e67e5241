"""Spans and metrics of the local-server backend, in the GenAI semantic conventions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
import respx
from opentelemetry import trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.trace import SpanKind, StatusCode

from botticelli_core import GenerateRequest
from botticelli_error import BadRequestError
from botticelli_interface import RequestLog
from tests.local.server import wire
from tests.local.server.support import make_client

from .conftest import Telemetry

pytestmark = pytest.mark.anyio

SECRET_PROMPT = "my bank PIN is 8361"
REQUEST = GenerateRequest.from_prompt(SECRET_PROMPT, max_tokens=8, temperature=0.3, top_p=0.9, stop=("END",), seed=7)


def _strings(attributes: object) -> str:
    return repr(dict(attributes))  # type: ignore[call-overload]


async def test_a_generate_call_is_one_client_span_with_the_conventions_attributes(telemetry: Telemetry) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=wire.OPENAI_COMPLETION)
        async with make_client() as client:
            await client.generate(REQUEST)
    (span,) = telemetry.spans()
    assert span.name == "chat default"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "local",
        "gen_ai.request.model": "default",
        "gen_ai.request.max_tokens": 8,
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 14,
        "gen_ai.usage.output_tokens": 37,
    }


async def test_a_generate_call_records_its_duration_and_token_usage(telemetry: Telemetry) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=wire.OPENAI_COMPLETION)
        async with make_client() as client:
            await client.generate(REQUEST)
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    assert 0 < duration.sum < 10
    assert dict(duration.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "local",
        "gen_ai.request.model": "default",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
    }
    points = telemetry.points("gen_ai.client.token.usage")
    usage = {dict(p.attributes or {})["gen_ai.token.type"]: p.sum for p in points}
    assert usage == {"input": 14, "output": 37}
    # Only streams have a first chunk.
    assert telemetry.points("gen_ai.client.operation.time_to_first_chunk") == []


async def test_the_span_is_current_while_the_http_request_is_sent(telemetry: Telemetry) -> None:
    seen: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(trace.get_current_span().get_span_context().span_id)
        return httpx.Response(200, json=wire.OPENAI_COMPLETION)

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(side_effect=answer)
        async with make_client() as client:
            await client.generate(REQUEST)
    (span,) = telemetry.spans()
    assert span.context is not None
    assert seen == [span.context.span_id]
    # And it is no longer current once the call returned.
    assert not trace.get_current_span().get_span_context().is_valid


async def test_a_stream_span_ends_when_the_stream_ends_with_the_time_to_first_chunk(telemetry: Telemetry) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
        async with make_client() as client:
            stream = client.generate_stream(REQUEST)
            async with stream:
                first = await anext(stream)
                assert first.text == "" or first.text == "I'm"
                assert telemetry.spans() == ()  # still open while the stream is
                _ = [chunk async for chunk in stream]
    (span,) = telemetry.spans()
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (14, 30)
    assert span.start_time is not None
    assert span.end_time is not None
    ttfc = attributes["gen_ai.response.time_to_first_chunk"]
    assert isinstance(ttfc, float)
    assert 0 <= ttfc <= (span.end_time - span.start_time) / 1e9 + 0.01
    (point,) = telemetry.points("gen_ai.client.operation.time_to_first_chunk")
    assert point.count == 1
    assert point.sum == pytest.approx(ttfc)


async def test_a_stream_left_early_ends_its_span_once_as_cancelled_not_failed(telemetry: Telemetry) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
        async with make_client() as client, client.generate_stream(REQUEST) as stream:
            async for _chunk in stream:
                break
    (span,) = telemetry.spans()
    attributes = dict(span.attributes or {})
    assert attributes["botticelli.cancelled"] is True
    assert "error.type" not in attributes
    assert span.status.status_code is StatusCode.UNSET


async def test_a_failed_call_has_the_error_type_on_its_span_and_duration(telemetry: Telemetry) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        body = {"error": {"message": "bad things", "type": "invalid_request_error"}}
        mock.post(wire.CHAT_URL).respond(400, json=body)
        async with make_client() as client:
            with pytest.raises(BadRequestError):
                await client.generate(REQUEST)
    (span,) = telemetry.spans()
    assert dict(span.attributes or {})["error.type"] == "BadRequestError"
    assert span.status.status_code is StatusCode.ERROR
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert dict(duration.attributes or {})["error.type"] == "BadRequestError"
    assert telemetry.points("gen_ai.client.token.usage") == []


async def test_no_prompt_or_answer_text_reaches_a_span_unless_log_content_is_on(telemetry: Telemetry) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*wire.OPENAI_STREAM))
        async with make_client() as client, client.generate_stream(REQUEST) as stream:
            _ = [chunk async for chunk in stream]
        async with make_client(log_content=True) as client, client.generate_stream(REQUEST) as stream:
            _ = [chunk async for chunk in stream]
    quiet, loud = telemetry.spans()
    assert SECRET_PROMPT not in _strings(quiet.attributes)
    assert "here." not in _strings(quiet.attributes)
    loud_attributes = dict(loud.attributes or {})
    assert SECRET_PROMPT in str(loud_attributes["gen_ai.input.messages"])
    assert "I'm here." in str(loud_attributes["gen_ai.output.messages"])


async def test_embeddings_are_an_embeddings_span(telemetry: Telemetry) -> None:
    body = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}], "model": "e"}
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(f"{wire.BASE_URL}/v1/embeddings").respond(200, json=body)
        async with make_client() as client:
            await client.embed(["a text"])
    (span,) = telemetry.spans()
    assert span.name == "embeddings default"
    assert dict(span.attributes or {})["gen_ai.operation.name"] == "embeddings"


async def test_metrics_are_recorded_without_a_tracer_provider(metrics_only: InMemoryMetricReader) -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json=wire.OPENAI_COMPLETION)
        async with make_client() as client:
            await client.generate(REQUEST)
    data = metrics_only.get_metrics_data()
    assert data is not None
    names = {m.name for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics}
    assert names == {"gen_ai.client.operation.duration", "gen_ai.client.token.usage"}


def test_with_no_provider_configured_a_request_opens_no_trace() -> None:
    # The fixtures are not used: the API's own proxies are what an unconfigured process has.
    with RequestLog("local", "generate", model="tiny") as entry:
        assert entry.trace is None


class _StallingBody(httpx.AsyncByteStream):
    """The first chunk of a stream, then nothing: the server went quiet."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield wire.sse(wire.OPENAI_STREAM[1])
        await anyio.sleep_forever()


async def test_a_cancelled_stream_ends_its_span_as_cancelled(telemetry: Telemetry) -> None:
    received: list[str] = []
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(return_value=httpx.Response(200, headers=wire.SSE, stream=_StallingBody()))
        async with make_client() as client:
            with anyio.move_on_after(0.5):
                async with client.generate_stream(REQUEST) as stream:
                    async for chunk in stream:
                        received.append(chunk.text)
    assert received == ["I'm"]
    (span,) = telemetry.spans()
    attributes = dict(span.attributes or {})
    assert attributes["botticelli.cancelled"] is True
    assert "error.type" not in attributes
    assert "gen_ai.response.time_to_first_chunk" in attributes
