"""Structured output with any backend: ask for a pydantic model's schema, get the model back.

A whole answer comes from :func:`generate_object` (or :func:`generate_object_response`, which
also says what it cost), re-asked with its validation problems when ``retries`` allows;
streamed partial objects come from :func:`~botticelli_interface.stream_object`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from botticelli_core import GenerateRequest, GenerateResponse, JsonOutput, Message, Usage
from botticelli_core._base import validation_problems
from botticelli_error import ConfigurationError, OutputValidationError
from botticelli_interface.protocols import GenerativeModel
from botticelli_interface.request_log import log_event

__all__ = ["ObjectResponse", "generate_object", "generate_object_response"]

M = TypeVar("M", bound=BaseModel)

# A re-ask lists at most this many problems: an array of a thousand bad items would otherwise
# make a prompt longer than the answer it corrects.
_MAX_LISTED_PROBLEMS = 20
# validation_problems speaks of configuration files, where an object is a "table".
_TABLE_WORDS = "expected a table (a mapping of keys to values)"


@dataclass(frozen=True, slots=True)
class ObjectResponse(Generic[M]):
    """A validated structured answer, with what it took to get it.

    Attributes:
        value: The answer, validated as the model class asked for.
        response: The answer that validated, as the backend returned it (its ``usage`` is
            that answer's alone).
        usage: The tokens every answer of the call cost, summed, where the backend
            reported them; ``None`` when it reported none.
        failures: The answers that did not validate and were re-asked about, first to last;
            empty when the first answer validated.

    Examples:
        >>> class Point(BaseModel):
        ...     x: int
        >>> from botticelli_core import TextOutput
        >>> answer = GenerateResponse(outputs=[TextOutput(text='{"x": 3}')], finish_reason="stop")
        >>> result = ObjectResponse(value=Point(x=3), response=answer, usage=None)
        >>> result.value, result.attempts
        (Point(x=3), 1)
    """

    value: M
    response: GenerateResponse
    usage: Usage | None
    failures: tuple[OutputValidationError, ...] = ()

    @property
    def attempts(self) -> int:
        """How many answers the call asked for: the failures, and the one that validated."""
        return len(self.failures) + 1


async def generate_object(model: GenerativeModel, request: GenerateRequest, output: type[M], *, retries: int = 0) -> M:
    """Generate an answer that follows ``output``'s JSON Schema, and return it validated.

    The request's ``output_schema`` is set from ``output`` (whatever it held before), the
    answer is generated whole, and :meth:`~botticelli_core.GenerateResponse.parse` validates
    it on the client, because grammars do not enforce every keyword (numeric bounds).

    An answer that does not validate is re-asked about up to ``retries`` times: the invalid
    answer goes back as the assistant's turn, followed by a user message listing each problem
    by field, and the model answers again. See :func:`generate_object_response` for what the
    attempts cost (``usage``, summed).

    Args:
        model: Any backend.
        request: The conversation; its ``output_schema`` is replaced by ``output``'s.
        output: The pydantic model class the answer must validate as.
        retries: How many times to re-ask after an invalid answer. ``0`` (the default)
            never does: each re-ask is one more generation, billed, with the whole
            conversation sent again, so spending it is the caller's decision.

    Raises:
        UnsupportedInputError: ``model`` has no structured output (``input_type="output_schema"``).
        OutputValidationError: No answer validated. It describes the last one (``raw_text``,
            ``problems``) and holds every answer's failure in ``attempts`` and their summed
            ``usage``.
        ConfigurationError: ``retries`` is negative or not an integer.
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
    result = await generate_object_response(model, request, output, retries=retries)
    return result.value


async def generate_object_response(
    model: GenerativeModel, request: GenerateRequest, output: type[M], *, retries: int = 0
) -> ObjectResponse[M]:
    """:func:`generate_object`, returning the answer with its cost and the re-asked failures.

    Each re-ask sends the conversation so far, then the invalid answer as the assistant's
    turn, then a user message that names each problem by its field, e.g.
    ``- age: Input should be greater than or equal to 0 (got -3)``, and says so when the
    answer was cut off at the token limit.

    Args:
        model: Any backend.
        request: The conversation; its ``output_schema`` is replaced by ``output``'s.
        output: The pydantic model class the answer must validate as.
        retries: How many times to re-ask after an invalid answer (default ``0``: never).

    Raises:
        OutputValidationError: No answer validated (see :func:`generate_object`).
        ConfigurationError: ``retries`` is negative or not an integer.

    Examples:
        >>> import asyncio
        >>> from botticelli_core import TextOutput, Usage
        >>> class Point(BaseModel):
        ...     x: int
        >>> class SecondTime:  # wrong once, then right
        ...     provider_name, model_name = "canned", "canned"
        ...     async def generate(self, request):
        ...         text = '{"x": 3}' if len(request.messages) > 1 else '{"x": "three"}'
        ...         usage = Usage(input_tokens=10 * len(request.messages), output_tokens=5)
        ...         return GenerateResponse(outputs=[TextOutput(text=text)], finish_reason="stop", usage=usage)
        ...     def generate_stream(self, request): raise NotImplementedError
        >>> request = GenerateRequest.from_prompt("A point?")
        >>> result = asyncio.run(generate_object_response(SecondTime(), request, Point, retries=1))
        >>> result.value, result.attempts, result.usage.input_tokens, result.usage.output_tokens
        (Point(x=3), 2, 40, 10)
        >>> print(result.failures[0].problems[0]["loc"], result.failures[0].raw_text)
        ('x',) {"x": "three"}
    """
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigurationError(f"retries must be an integer >= 0 (got {retries!r})")
    constrained = request.model_copy(update={"output_schema": output.model_json_schema()})
    failures: list[OutputValidationError] = []
    usages: list[Usage | None] = []
    while True:
        response = await model.generate(constrained)
        usages.append(response.usage)
        answer = _validated(response, output)
        if not isinstance(answer, OutputValidationError):
            return ObjectResponse(value=answer, response=response, usage=Usage.summed(usages), failures=tuple(failures))
        failures.append(answer)
        if len(failures) > retries:
            raise _exhausted(failures, Usage.summed(usages))
        log_event(
            logging.INFO,
            "botticelli.reask",
            output=output.__name__,
            attempt=len(failures) + 1,
            of=retries + 1,
            problems=len(answer.problems),
            finish_reason=answer.finish_reason,
        )
        reask = (Message.assistant(answer.raw_text), _reask_message(response, output, answer))
        constrained = constrained.model_copy(update={"messages": (*constrained.messages, *reask)})


def _validated(response: GenerateResponse, output: type[M]) -> M | OutputValidationError:
    """The answer validated as ``output``, or why it is not; the error carries the answer's usage."""
    try:
        return response.parse(output)
    except OutputValidationError as err:
        failure = err
    # Kept in ``attempts`` of the error raised at the end: a traceback would keep this
    # frame, and with it the response and the request, alive as long as that error.
    failure.__traceback__ = None
    failure.usage = response.usage
    return failure


def _exhausted(failures: list[OutputValidationError], usage: Usage | None) -> OutputValidationError:
    """The error raised when no answer validated: the last failure, with every attempt attached.

    A single attempt keeps the message :meth:`~botticelli_core.GenerateResponse.parse` wrote.
    """
    last = failures[-1]
    message = last.message
    if len(failures) > 1:
        message += f" (attempt {len(failures)} of {len(failures)}; attempts holds each answer's problems)"
    return OutputValidationError(
        message,
        raw_text=last.raw_text,
        problems=last.problems,
        finish_reason=last.finish_reason,
        attempts=tuple(failures),
        usage=usage,
        provider=last.provider,
    )


def _reask_message(response: GenerateResponse, output: type[BaseModel], failure: OutputValidationError) -> Message:
    """The user turn that asks again: each problem by field, then what to do about it.

    Examples:
        >>> from pydantic import Field
        >>> from botticelli_core import TextOutput
        >>> class Person(BaseModel):
        ...     name: str
        ...     age: int = Field(ge=0)
        >>> answer = GenerateResponse(outputs=[TextOutput(text='{"age": -3}')], finish_reason="stop")
        >>> failure = _validated(answer, Person)
        >>> print(_reask_message(answer, Person, failure).text)
        Your answer does not validate against the JSON schema you were given. Each problem, by field:
        - name: Field required
        - age: Input should be greater than or equal to 0 (got -3)
        Answer again with the whole corrected JSON object, and nothing else.
    """
    lines = ["Your answer does not validate against the JSON schema you were given. Each problem, by field:"]
    lines.extend(f"- {where}: {what}" for where, what in _problems(response, output, failure)[:_MAX_LISTED_PROBLEMS])
    if len(failure.problems) > _MAX_LISTED_PROBLEMS:
        lines.append(f"- and {len(failure.problems) - _MAX_LISTED_PROBLEMS} more like these")
    if failure.finish_reason == "length":
        lines.append("The answer was cut off at the token limit: keep the new one shorter.")
    lines.append("Answer again with the whole corrected JSON object, and nothing else.")
    return Message.user("\n".join(lines))


def _problems(
    response: GenerateResponse, output: type[BaseModel], failure: OutputValidationError
) -> list[tuple[str, str]]:
    """Each problem as ``(field, what was wrong)``, with the offending value where it is a scalar."""
    # The error keeps pydantic's problems without their inputs; validating again gives the
    # ValidationError that botticelli_core's describer needs to name the values and the
    # keys an object accepts.
    values = [o.value for o in response.outputs if isinstance(o, JsonOutput)]
    try:
        if values:
            output.model_validate(values[0])
        else:
            output.model_validate_json(response.text)
    except ValidationError as exc:
        described = validation_problems(exc, output)
    else:  # a validator that changed its mind: the error's own words are all there is
        described = [(".".join(map(str, p["loc"])), str(p["msg"])) for p in failure.problems]
    return [
        (where or "(the whole answer)", what.replace(_TABLE_WORDS, "expected a JSON object"))
        for where, what in described
    ]
