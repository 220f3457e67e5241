"""A model whose calls the batch tests can hold, fail and count."""

from __future__ import annotations

import anyio

from botticelli_core import FinishReason, GenerateRequest, GenerateResponse, TextOutput, Usage
from botticelli_error import BadRequestError, BotticelliError
from botticelli_interface import ChunkStream


class CountingModel:
    """Answers each prompt with itself upper-cased after ``delay`` seconds.

    A prompt ``"bad"`` fails with a :class:`BadRequestError`, ``"bug"`` with a ``RuntimeError``
    (not a per-item error), and ``"hang"`` waits until cancelled.
    """

    provider_name = "fake"
    model_name = "fake"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.in_flight = 0
        self.most_in_flight = 0
        self.started = 0
        self.unwound = 0

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        text = request.messages[-1].text or ""
        self.started += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if text == "hang":
                await anyio.sleep_forever()
            # Later prompts finish first, so completion order differs from input order.
            await anyio.sleep(self.delay / (1 + len(text)))
            if text == "bad":
                raise BadRequestError("a bad prompt", provider="fake", status_code=400)
            if text == "bug":
                raise RuntimeError("a bug in the model")
            return GenerateResponse(
                outputs=[TextOutput(text=text.upper())],
                finish_reason=FinishReason.STOP,
                usage=Usage(input_tokens=1, output_tokens=len(text)),
            )
        finally:
            self.in_flight -= 1
            self.unwound += 1

    def generate_stream(self, request: GenerateRequest) -> ChunkStream:
        raise BotticelliError("not streamed here", provider="fake")
