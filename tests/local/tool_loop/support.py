"""A scripted GenerativeModel for the tool loop's tests: it answers from a script and keeps every request."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import anyio

from botticelli_core import GenerateRequest, GenerateResponse, StreamChunk, TextOutput, ToolCallOutput, Usage
from botticelli_interface import ChunkStream, ManagedStream

Answer = GenerateResponse | Callable[[GenerateRequest], GenerateResponse]


def call(name: str, id: str = "call_1", **arguments: Any) -> ToolCallOutput:
    """A tool call the model makes."""
    return ToolCallOutput(id=id, name=name, arguments=arguments)


def asks(*calls: ToolCallOutput, usage: Usage | None = None, text: str = "") -> GenerateResponse:
    """An answer asking for ``calls``."""
    outputs: list[Any] = [TextOutput(text=text)] if text else []
    return GenerateResponse(outputs=[*outputs, *calls], finish_reason="tool_use", usage=usage)


def says(text: str, usage: Usage | None = None) -> GenerateResponse:
    """A text answer, without calls."""
    return GenerateResponse(outputs=[TextOutput(text=text)], finish_reason="stop", usage=usage)


class Scripted:
    """Answers each request with the script's next answer (the last one again once the script ends).

    An answer may be a function of the request. ``generate_stream`` streams the same answers:
    the text word by word, then a final chunk with the calls and the usage.
    """

    provider_name = "scripted"
    model_name = "scripted-1"

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[GenerateRequest] = []
        self.streams_opened = 0
        self.streams_closed = 0

    def _next(self, request: GenerateRequest) -> GenerateResponse:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        return self._next(request)

    def generate_stream(self, request: GenerateRequest) -> ChunkStream:
        async def chunks() -> AsyncGenerator[StreamChunk, None]:
            self.streams_opened += 1
            try:
                response = self._next(request)
                words = response.text.split(" ")
                for index, word in enumerate(words):
                    yield StreamChunk.delta(word if index == len(words) - 1 else word + " ")
                yield StreamChunk(
                    is_final=True,
                    finish_reason=response.finish_reason,
                    usage=response.usage,
                    tool_calls=response.tool_calls,
                )
            finally:
                self.streams_closed += 1

        return ManagedStream(chunks())


class ScriptedWithoutTools(Scripted):
    """A backend that says it cannot take tools."""

    supported_features = frozenset({"output_schema"})


def hanging(name: str = "hang") -> tuple[Callable[[str], Awaitable[str]], anyio.Event]:
    """A tool named ``name`` that runs until it is cancelled, and the event it sets when it is."""
    cancelled = anyio.Event()

    async def tool(city: str) -> str:
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()
        return city  # pragma: no cover - never reached

    tool.__name__ = tool.__qualname__ = name
    return tool, cancelled
