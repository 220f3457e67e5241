"""Test doubles: a scripted GenerativeModel, and OpenAI-compatible wire bodies for respx."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from botticelli_core import (
    GenerateRequest,
    GenerateResponse,
    HealthStatus,
    ModelInfo,
    StreamChunk,
    TextOutput,
    Usage,
)
from botticelli_error import BotticelliError, TransportError
from botticelli_interface import ManagedStream


class FakeModel:
    """A backend whose every call succeeds with its name as the text, unless told to fail.

    ``failures`` is consumed one per call (generate or stream): an exception raised before
    anything is produced, or ``None`` for a success. ``fail_after_first_chunk`` makes a
    stream raise after delivering its first chunk. With ``fails_on_call``, ``generate_stream``
    raises its failure itself, before returning a stream (as a backend that checks the
    request's inputs up front does).
    """

    def __init__(
        self,
        name: str,
        *,
        failures: list[BotticelliError | None] | None = None,
        fail_after_first_chunk: BotticelliError | None = None,
        ready: bool = True,
        fails_on_call: bool = False,
    ) -> None:
        self.name = name
        self.failures = list(failures or [])
        self.fail_after_first_chunk = fail_after_first_chunk
        self.ready = ready
        self.fails_on_call = fails_on_call
        self.calls: list[str] = []
        self.closed = 0
        self.streams_closed = 0

    @property
    def provider_name(self) -> str:
        return self.name

    @property
    def model_name(self) -> str:
        return f"{self.name}-model"

    def _next_failure(self) -> BotticelliError | None:
        return self.failures.pop(0) if self.failures else None

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        self.calls.append("generate")
        failure = self._next_failure()
        if failure is not None:
            raise failure
        return GenerateResponse(outputs=[TextOutput(text=self.name)], finish_reason="stop", model=self.model_name)

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        self.calls.append("stream")
        failure = self._next_failure()
        if failure is not None and self.fails_on_call:
            raise failure
        return ManagedStream(self._chunks(failure))

    async def _chunks(self, failure: BotticelliError | None) -> AsyncGenerator[StreamChunk, None]:
        try:
            if failure is not None:
                raise failure
            yield StreamChunk(text=f"{self.name}:1")
            if self.fail_after_first_chunk is not None:
                raise self.fail_after_first_chunk
            yield StreamChunk(text=f"{self.name}:2")
            yield StreamChunk(is_final=True, finish_reason="stop", usage=Usage(input_tokens=1, output_tokens=2))
        finally:
            self.streams_closed += 1

    async def health(self) -> HealthStatus:
        return HealthStatus(ready=self.ready, status="ok" if self.ready else "unreachable")

    async def list_models(self) -> list[ModelInfo]:
        if not self.ready:
            raise self._down()
        return [ModelInfo(id=self.model_name, owned_by=self.name)]

    def _down(self) -> BotticelliError:
        return TransportError("connection refused", provider=self.name)

    async def aclose(self) -> None:
        self.closed += 1


# -- OpenAI-compatible wire bodies ------------------------------------------------------------


def completion(text: str, *, model: str = "phi", prompt_tokens: int = 5, completion_tokens: int = 3) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1727346142,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _chunk(content: str | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    delta = {"content": content} if content is not None else {}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1727346168,
        "model": "phi",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def sse_stream(*texts: str, finish: str = "stop", usage: tuple[int, int] | None = (5, 2)) -> bytes:
    """A complete stream: one chunk per text, the finish reason, a usage chunk, ``[DONE]``."""
    events = [_chunk(t) for t in texts] + [_chunk(None, finish)]
    if usage is not None:
        events.append(
            {
                **_chunk(None),
                "choices": [],
                "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
            }
        )
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return body.encode()


def sse_cut_after(*texts: str) -> bytes:
    """A stream that delivers some chunks and then ends without a finish reason (a dropped connection)."""
    return "".join(f"data: {json.dumps(_chunk(t))}\n\n" for t in texts).encode()


SSE_HEADERS = {"content-type": "text/event-stream"}
