"""What an open stream keeps alive: only what it still needs, and nothing once it is over.

A thousand streams held open on one client each keep their share; these tests pin the
objects that used to outlive their use (the wire request, the per-attempt reader).
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
import respx

from botticelli_interface.request_log import RequestLog
from botticelli_server import ChatCompletionRequest, ServerClient
from botticelli_transport import HttpSettings, HttpTransport, ServerSentEvent

from . import wire
from .support import REQUEST, make_client

pytestmark = pytest.mark.anyio

BODY = wire.sse(wire.openai_chunk("Hi"), wire.openai_chunk(" there"), wire.openai_chunk(finish="stop"))


def _record_wire_requests(monkeypatch: pytest.MonkeyPatch) -> list[weakref.ref[ChatCompletionRequest]]:
    """Weak references to every wire request the client builds."""
    refs: list[weakref.ref[ChatCompletionRequest]] = []
    build = ServerClient._chat_request

    def recording(self: ServerClient, *args: Any, **kwargs: Any) -> ChatCompletionRequest:
        wire_request = build(self, *args, **kwargs)
        refs.append(weakref.ref(wire_request))
        return wire_request

    monkeypatch.setattr(ServerClient, "_chat_request", recording)
    return refs


async def test_an_open_stream_lets_go_of_its_wire_request_once_the_body_is_encoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refs = _record_wire_requests(monkeypatch)
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=BODY)
        async with make_client(max_retries=0) as client, client.generate_stream(REQUEST) as stream:
            first = await stream.__anext__()
            gc.collect()
            assert [ref() for ref in refs] == [None]
            rest = [chunk async for chunk in stream]
    assert first.text + "".join(c.text for c in rest) == "Hi there"
    # What was sent is the request all the same.
    assert b'"stream":true' in route.calls.last.request.content


async def test_the_request_log_names_the_requested_model_when_the_stream_reports_none() -> None:
    events = [{k: v for k, v in wire.openai_chunk(text).items() if k != "model"} for text in ("Hi", "")]
    events[-1]["choices"][0]["finish_reason"] = "stop"
    entries: list[RequestLog] = []
    exit_log = RequestLog.__exit__

    def recording(self: RequestLog, *args: Any) -> None:
        entries.append(self)
        exit_log(self, *args)

    with pytest.MonkeyPatch.context() as patch, respx.mock(using="httpx", assert_all_mocked=True) as mock:
        patch.setattr(RequestLog, "__exit__", recording)
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=wire.sse(*events))
        async with make_client(max_retries=0) as client, client.generate_stream(REQUEST) as stream:
            _ = [chunk async for chunk in stream]
    assert [entry.model for entry in entries] == ["default"]


def test_the_request_log_drops_the_request_once_the_span_has_read_it() -> None:
    request = {"temperature": 0.5}
    entry = RequestLog("local", "generate", model="m", request=request)
    assert entry.request is request
    with entry:
        assert entry.request is None


class _Reader:
    """A decode state that can be referenced weakly (the backends' own have slots)."""

    def __init__(self) -> None:
        self.seen = 0

    def decode(self, event: ServerSentEvent) -> bytes | None:
        self.seen += 1
        return None if event.data == b"[DONE]" else event.data


async def test_leaving_the_block_releases_the_stream_even_while_its_context_manager_lives() -> None:
    transport = HttpTransport(HttpSettings(provider="local", base_url=wire.BASE_URL, max_retries=0))
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=BODY)
        block = transport.stream("/v1/chat/completions", content=b"{}", reader=_Reader, decode=_Reader.decode)
        async with block as stream:
            items = [item async for item in stream]
            reader = weakref.ref(stream.reader)
            del stream
        gc.collect()
        assert reader() is None
        assert len(items) == 3
    await transport.aclose()
