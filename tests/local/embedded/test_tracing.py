"""The in-process engine is traced like the HTTP backends: an INTERNAL span, its time to first chunk."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanKind

from botticelli_core import GenerateRequest
from botticelli_embedded import EmbeddedModel
from tests.local.tracing.conftest import installed

pytestmark = pytest.mark.anyio


async def test_an_embedded_stream_is_an_internal_span_with_its_first_chunk_time(
    model: EmbeddedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = GenerateRequest.from_prompt("Tell me a story.", max_tokens=4, temperature=0.0)
    with installed(monkeypatch) as telemetry:
        async with model.generate_stream(request) as stream:
            _ = [chunk async for chunk in stream]
        (span,) = telemetry.spans()
        (first,) = telemetry.points("gen_ai.client.operation.time_to_first_chunk")
    attributes = dict(span.attributes or {})
    assert span.kind is SpanKind.INTERNAL
    assert attributes["gen_ai.provider.name"] == "embedded"
    assert attributes["gen_ai.request.max_tokens"] == 4
    assert attributes["gen_ai.request.temperature"] == 0.0
    assert attributes["gen_ai.response.finish_reasons"] == ("length",)
    assert attributes["gen_ai.usage.output_tokens"] == 4
    assert attributes["gen_ai.response.model"] == model.model_name
    assert first.count == 1
