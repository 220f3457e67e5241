"""What a model returns: whole responses, stream chunks, usage and finish reasons."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from botticelli_core._base import FrozenModel
from botticelli_core._trusted import new_model, set_fields_set, set_no_extra, set_no_private
from botticelli_core.output import JsonOutput, Output, ReasoningOutput, TextOutput, ToolCallDelta, ToolCallOutput
from botticelli_error import OutputValidationError

M = TypeVar("M", bound=BaseModel)

__all__ = ["FinishReason", "GenerateResponse", "StreamChunk", "Usage"]


class FinishReason(StrEnum):
    """Why generation stopped. Values a backend does not know become ``OTHER``.

    Examples:
        >>> FinishReason("length")
        <FinishReason.LENGTH: 'length'>
        >>> FinishReason("guardrail_intervened")
        <FinishReason.OTHER: 'other'>
    """

    STOP = "stop"
    """The model finished its answer."""
    LENGTH = "length"
    """``max_tokens`` (or the context window) was reached."""
    STOP_SEQUENCE = "stop_sequence"
    """A requested stop sequence was produced (where the provider says so)."""
    TOOL_USE = "tool_use"
    """The model asked for tool calls."""
    CONTENT_FILTER = "content_filter"
    """The provider withheld or cut the output."""
    OTHER = "other"
    """Anything else, including values new to botticelli."""

    @classmethod
    def _missing_(cls, value: object) -> FinishReason:
        # Servers invent reasons (eos, abort, error, guardrail_intervened...); a strict
        # enum that rejects them turns a finished answer into a crash.
        return cls.OTHER


class Usage(FrozenModel):
    """Token counts for one call, as the provider reported them.

    Examples:
        >>> Usage(input_tokens=12, output_tokens=5).total_tokens
        17
    """

    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    total_tokens: int = Field(default=-1, ge=-1)
    reasoning_tokens: int | None = Field(default=None, ge=0)
    """Thinking tokens, where the provider counts them separately."""
    cached_tokens: int | None = Field(default=None, ge=0)
    """Input tokens served from the provider's prompt cache (part of ``input_tokens``)."""

    def model_post_init(self, __context: object) -> None:
        """Fill ``total_tokens`` when the provider did not report it."""
        if self.total_tokens < 0:
            total = self.input_tokens + self.output_tokens + (self.reasoning_tokens or 0)
            object.__setattr__(self, "total_tokens", total)

    @classmethod
    def summed(cls, usages: Iterable[Usage | None]) -> Usage | None:
        """What several calls cost together (the rounds of a tool loop, the attempts of a re-ask).

        Calls whose provider reported no usage count for nothing; ``None`` when none did. A
        count only some calls reported (thinking, cached tokens) is the sum of those.

        Examples:
            >>> Usage.summed([Usage(input_tokens=10, output_tokens=4), None, Usage(input_tokens=12, output_tokens=3)])
            Usage(input_tokens=22, output_tokens=7, total_tokens=29, reasoning_tokens=None, cached_tokens=None)
            >>> Usage.summed([None]) is None
            True
        """
        known = [u for u in usages if u is not None]
        if len(known) <= 1:
            return known[0] if known else None
        reasoning = [u.reasoning_tokens for u in known if u.reasoning_tokens is not None]
        cached = [u.cached_tokens for u in known if u.cached_tokens is not None]
        return cls(
            input_tokens=sum(u.input_tokens for u in known),
            output_tokens=sum(u.output_tokens for u in known),
            total_tokens=sum(u.total_tokens for u in known),
            reasoning_tokens=sum(reasoning) if reasoning else None,
            cached_tokens=sum(cached) if cached else None,
        )


class GenerateResponse(FrozenModel):
    """A complete answer.

    Examples:
        >>> resp = GenerateResponse(outputs=[TextOutput(text="Hello")], finish_reason="stop")
        >>> resp.text, resp.finish_reason
        ('Hello', <FinishReason.STOP: 'stop'>)
    """

    outputs: tuple[Output, ...] = ()
    finish_reason: FinishReason
    usage: Usage | None = None
    model: str | None = None
    response_id: str | None = None

    @property
    def text(self) -> str:
        """The answer text: every text output joined (reasoning excluded)."""
        return "".join(o.text for o in self.outputs if isinstance(o, TextOutput))

    @property
    def reasoning(self) -> str:
        """The model's visible reasoning, if it produced any, else ``""``."""
        return "".join(o.text for o in self.outputs if isinstance(o, ReasoningOutput))

    @property
    def tool_calls(self) -> tuple[ToolCallOutput, ...]:
        """The tool calls the model asked for, in order."""
        return tuple(o for o in self.outputs if isinstance(o, ToolCallOutput))

    def parse(self, model: type[M]) -> M:
        """The structured answer, validated as ``model`` (ask for it with ``output_schema``).

        Validation happens here, on the client, because constrained decoding does not
        enforce every schema keyword (numeric bounds, string formats).

        Raises:
            OutputValidationError: If the answer is not JSON or does not validate; it carries
                the raw text and pydantic's error list.

        Examples:
            >>> class Point(BaseModel):
            ...     x: int
            >>> GenerateResponse(outputs=[TextOutput(text='{"x": 3}')], finish_reason="stop").parse(Point)
            Point(x=3)
            >>> GenerateResponse(outputs=[TextOutput(text='{"x": "three"}')], finish_reason="stop").parse(Point)
            ... # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            botticelli_error.output.OutputValidationError: [botticelli] the answer does not validate as Point: ...
        """
        values = [o.value for o in self.outputs if isinstance(o, JsonOutput)]
        try:
            if values:
                return model.model_validate(values[0])
            return model.model_validate_json(self.text)
        except ValidationError as exc:
            problems = exc.errors(include_url=False, include_input=False)
            where = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in problems[:5])
            error = OutputValidationError(
                f"the answer does not validate as {model.__name__}: {where}",
                raw_text=self.text,
                problems=tuple(dict(e) for e in problems),
                finish_reason=self.finish_reason.value,
            )
        # Outside the except block, so pydantic's exception is not even its __context__.
        raise error


# StreamChunk's field defaults, which a delta's __dict__ starts from (all immutable values).
_DELTA_DEFAULTS = {
    "text": "",
    "reasoning": "",
    "is_final": False,
    "finish_reason": None,
    "usage": None,
    "tool_calls": (),
    "tool_call_deltas": (),
}
# One set shared by every delta, which saves building one per token. Sharing is safe
# because the model is frozen and pydantic copies the set before it changes one
# (model_copy's update, __copy__, pickling); only a caller mutating model_fields_set in
# place could change them all, and a frozen model's fields set is not theirs to mutate.
_DELTA_FIELDS_SET = {"text", "reasoning"}


class StreamChunk(FrozenModel):
    """One piece of a streamed answer.

    ``text`` is the new text since the previous chunk. The last chunk of a stream has
    ``is_final`` set, carries the ``finish_reason`` and, where the provider reports it,
    the final ``usage``.

    Examples:
        >>> StreamChunk(text="Hel").is_final
        False
    """

    text: str = ""
    reasoning: str = ""
    """New reasoning text since the previous chunk, kept apart from ``text``."""
    is_final: bool = False
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCallOutput, ...] = ()
    """On the final chunk: every tool call of the answer, assembled from its fragments."""
    tool_call_deltas: tuple[ToolCallDelta, ...] = ()
    """On non-final chunks, where the provider streams calls in pieces: the new fragments."""

    @classmethod
    def delta(cls, text: str, reasoning: str = "") -> StreamChunk:
        """A non-final chunk built from strings a backend has already validated.

        Streams create one chunk per token, so this skips a second validation pass;
        it costs a fraction of the constructor. Pass only ``str`` values.

        Examples:
            >>> StreamChunk.delta("Hel") == StreamChunk(text="Hel")
            True
        """
        # botticelli_core._trusted.trusted, inlined: streams make one chunk per token, and
        # the call and the dict it would be passed cost a fifth of what the chunk does.
        chunk = new_model(cls)
        fields = chunk.__dict__
        fields.update(_DELTA_DEFAULTS)
        fields["text"] = text
        fields["reasoning"] = reasoning
        set_fields_set(chunk, _DELTA_FIELDS_SET)
        set_no_extra(chunk, None)
        set_no_private(chunk, None)
        return chunk
