"""What a tool loop returns, streams and raises: each call's run, the loop's result, its events and errors.

The data of :mod:`botticelli_interface.tool_loop`, apart from the loop itself; every name here
is exported from :mod:`botticelli_interface` and :mod:`botticelli`.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from pydantic import Field

from botticelli_core import (
    GenerateResponse,
    Message,
    StreamChunk,
    ToolCallOutput,
    Usage,
)
from botticelli_core._base import FrozenModel
from botticelli_error import BotticelliError

__all__ = [
    "ToolCallError",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolFailure",
    "ToolLoopEvent",
    "ToolLoopResult",
    "ToolRoundsExceededError",
    "ToolRun",
]

ToolFailure = Literal["unknown_tool", "unreadable_arguments", "invalid_arguments", "raised", "unsendable_result"]
"""Why a call went back to the model as an error: no tool has its name; its arguments are not
a JSON object; they do not validate against the function's signature; the function raised; or
what it returned cannot be sent as text (a lone surrogate, say)."""


class ToolRun(FrozenModel):
    """One call the model asked for, and what went back to it as the call's result.

    Attributes:
        round: The round (1 for the answer to the first request) whose answer asked for it.
        call: The call as the model made it.
        content: The result's text as sent: what the function returned (a ``str`` as it is,
            anything else as JSON), or what was wrong.
        is_error: Whether the call failed; ``failure`` then says how, ``content`` in words.
        failure: Why it failed, or ``None``.
        value: What the function returned, as Python (``None`` when it did not run or raised).

    Examples:
        >>> from botticelli_core import ToolCallOutput
        >>> run = ToolRun(round=1, call=ToolCallOutput(id="c1", name="add", arguments={"a": 2}), content="5", value=5)
        >>> run.is_error, run.value
        (False, 5)
    """

    round: int = Field(ge=1)
    call: ToolCallOutput
    content: str
    is_error: bool = False
    failure: ToolFailure | None = None
    value: Any = None


class ToolLoopResult(FrozenModel):
    """What a tool loop ended with: the last answer, the whole conversation, every call, the cost.

    Attributes:
        responses: Every answer of the model, one per round, oldest first; the last is
            :attr:`response`.
        messages: The conversation, ready to be sent again: the request's messages, then
            for each round that ran calls the assistant turn that asked for them
            (:meth:`Message.from_response <botticelli_core.Message.from_response>`, which
            keeps Gemini's call signatures) and one tool result per call; then the final
            answer's assistant turn. After :class:`ToolRoundsExceededError` it ends with the
            last results sent instead: the calls asked for last did not run, and a history
            with calls but no results is refused by every backend.
        runs: Every call the loop handled, round by round, in the order the model asked.
        usage: The tokens of all rounds added up (those that reported usage); ``None`` when
            no round did.

    Examples:
        >>> from botticelli_core import TextOutput
        >>> answer = GenerateResponse(outputs=[TextOutput(text="Done.")], finish_reason="stop")
        >>> result = ToolLoopResult(responses=(answer,), messages=(Message.user("Go"), Message.from_response(answer)))
        >>> result.text, result.rounds
        ('Done.', 1)
    """

    responses: tuple[GenerateResponse, ...] = Field(min_length=1)
    messages: tuple[Message, ...]
    runs: tuple[ToolRun, ...] = ()
    usage: Usage | None = None

    @property
    def response(self) -> GenerateResponse:
        """The model's last answer: the final one, or the one whose calls were left unrun (``max_rounds``)."""
        return self.responses[-1]

    @property
    def text(self) -> str:
        """The last answer's text."""
        return self.responses[-1].text

    @property
    def rounds(self) -> int:
        """How many requests the loop sent to the model."""
        return len(self.responses)


class ToolCallStarted(FrozenModel):
    """Streamed: a call of the model's answer is about to run; an answer's calls are all announced, in order, first."""

    type: Literal["tool_call_started"] = "tool_call_started"
    round: int = Field(ge=1)
    call: ToolCallOutput


class ToolCallFinished(FrozenModel):
    """Streamed: a call has run (or failed), with what goes back to the model; an answer's calls finish in any order."""

    type: Literal["tool_call_finished"] = "tool_call_finished"
    run: ToolRun


ToolLoopEvent: TypeAlias = StreamChunk | ToolCallStarted | ToolCallFinished
"""What :func:`run_tools_stream` yields: every chunk of every answer as it arrives (each answer
ends with its final chunk), and the calls starting and finishing."""


class ToolRoundsExceededError(BotticelliError):
    """The model still asked for tool calls in the answer to the loop's last allowed request.

    Those calls did not run. ``result`` holds everything up to there: its ``response`` is the
    answer with the calls, its ``messages`` end with the last results sent (send them again,
    with more rounds, to go on), its ``usage`` counts every round.

    Args:
        message: What happened.
        max_rounds: The limit that was reached.
        result: The loop so far.
        **kwargs: The common attributes of :class:`~botticelli_error.BotticelliError`.

    Examples:
        >>> from botticelli_core import ToolCallOutput
        >>> call = ToolCallOutput(id="c1", name="now", arguments={})
        >>> asks = GenerateResponse(outputs=[call], finish_reason="tool_use")
        >>> result = ToolLoopResult(responses=(asks,), messages=(Message.user("Time?"),))
        >>> err = ToolRoundsExceededError("limit", max_rounds=1, result=result)
        >>> err.max_rounds, err.result.response.tool_calls[0].name, err.retryable
        (1, 'now', False)
    """

    def __init__(self, message: str, *, max_rounds: int, result: ToolLoopResult, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.__dict__.update(max_rounds=max_rounds, result=result)
        self.max_rounds: int
        self.result: ToolLoopResult


class ToolCallError(BotticelliError):
    """A call failed and the loop was told to raise (``raise_tool_errors=True``) rather than tell the model.

    When the function itself raised, its exception is this error's ``__cause__``.

    Args:
        message: Which call failed, and how.
        run: The call and the error result that would have gone back.
        **kwargs: The common attributes of :class:`~botticelli_error.BotticelliError`.

    Examples:
        >>> from botticelli_core import ToolCallOutput
        >>> call = ToolCallOutput(id="c1", name="nope", arguments={})
        >>> run = ToolRun(round=1, call=call, content="...", is_error=True, failure="unknown_tool")
        >>> err = ToolCallError("unknown", run=run)
        >>> err.tool_name, err.call_id, err.failure
        ('nope', 'c1', 'unknown_tool')
    """

    def __init__(self, message: str, *, run: ToolRun, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.__dict__.update(run=run)
        self.run: ToolRun

    @property
    def tool_name(self) -> str:
        """The name the model called."""
        return self.run.call.name

    @property
    def call_id(self) -> str:
        """The call's id."""
        return self.run.call.id

    @property
    def failure(self) -> ToolFailure | None:
        """How the call failed."""
        return self.run.failure
