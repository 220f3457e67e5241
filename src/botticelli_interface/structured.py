"""Structured output with any backend: ask for a pydantic model's schema, get the model back."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from botticelli_core import GenerateRequest
from botticelli_interface.protocols import GenerativeModel

__all__ = ["generate_object"]

M = TypeVar("M", bound=BaseModel)


async def generate_object(model: GenerativeModel, request: GenerateRequest, output: type[M]) -> M:
    """Generate an answer that follows ``output``'s JSON Schema, and return it validated.

    The request's ``output_schema`` is set from ``output`` (whatever it held before), the
    answer is generated whole, and :meth:`~botticelli_core.GenerateResponse.parse` validates
    it on the client, because grammars do not enforce every keyword (numeric bounds).

    Raises:
        UnsupportedInputError: ``model`` has no structured output (``input_type="output_schema"``).
        OutputValidationError: The answer is not JSON or does not validate; it keeps the raw text.
        BotticelliError: Any other typed error of ``model.generate``.

    Examples:
        >>> import asyncio
        >>> from botticelli_core import GenerateResponse, TextOutput
        >>> class Point(BaseModel):
        ...     x: int
        >>> class Canned:  # any GenerativeModel will do
        ...     provider_name, model_name = "canned", "canned"
        ...     async def generate(self, request):
        ...         assert request.output_schema["title"] == "Point"
        ...         return GenerateResponse(outputs=[TextOutput(text='{"x": 3}')], finish_reason="stop")
        ...     def generate_stream(self, request): raise NotImplementedError
        >>> asyncio.run(generate_object(Canned(), GenerateRequest.from_prompt("A point?"), Point))
        Point(x=3)
    """
    constrained = request.model_copy(update={"output_schema": output.model_json_schema()})
    response = await model.generate(constrained)
    return response.parse(output)
