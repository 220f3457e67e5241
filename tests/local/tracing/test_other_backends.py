"""Gemini and the in-process engine are traced through the same request log; no OpenTelemetry, no import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx
import pytest
import respx
from opentelemetry.trace import SpanKind

from botticelli_core import GenerateRequest
from tests.local.gemini import wire
from tests.local.gemini.test_client import make_client

from .conftest import Telemetry

pytestmark = pytest.mark.anyio

REQUEST = GenerateRequest.from_prompt("The capital of France?", max_tokens=20, temperature=0.5)


async def test_a_gemini_call_is_a_generate_content_span_of_gcp_gemini(telemetry: Telemetry) -> None:
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True) as api:
        api.post(wire.GENERATE_PATH).mock(return_value=httpx.Response(200, json=wire.GENERATE_OK))
        async with make_client() as client:
            await client.generate(REQUEST)
    (span,) = telemetry.spans()
    attributes = dict(span.attributes or {})
    assert span.name == f"generate_content {wire.MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert attributes["gen_ai.provider.name"] == "gcp.gemini"
    assert attributes["gen_ai.operation.name"] == "generate_content"
    assert attributes["gen_ai.request.temperature"] == 0.5
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (8, 7)


async def test_a_gemini_stream_has_its_time_to_first_chunk(telemetry: Telemetry) -> None:
    body = wire.sse(wire.response(wire.text_candidate("Paris"), meta=wire.usage(8, 1)), wire.GENERATE_OK)
    with respx.mock(using="httpx", base_url=wire.BASE_URL, assert_all_mocked=True) as api:
        api.post(wire.STREAM_PATH).mock(
            return_value=httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
        )
        async with make_client() as client, client.generate_stream(REQUEST) as stream:
            _ = [chunk async for chunk in stream]
    (span,) = telemetry.spans()
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert "gen_ai.response.time_to_first_chunk" in attributes
    (point,) = telemetry.points("gen_ai.client.operation.time_to_first_chunk")
    assert dict(point.attributes or {})["gen_ai.provider.name"] == "gcp.gemini"


def test_without_opentelemetry_installed_nothing_of_it_is_imported_and_requests_work() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry"] = None  # what an environment without the otel extra looks like
        from botticelli_interface import request_log
        from botticelli_interface.request_log import RequestLog
        with RequestLog("local", "generate_stream", model="tiny") as entry:
            pass
        assert entry.trace is None
        assert not request_log._OTEL_INSTALLED
        assert not [m for m in sys.modules if m.startswith("opentelemetry.")]
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=30)
    assert done.stdout.strip() == "ok", done.stderr
