"""Gemini's response bodies, field for field (camelCase aliases, unknown fields ignored).

Google adds fields often (``thoughtSignature``, ``*TokensDetails``, ``avgLogprobs``...),
so these models keep what botticelli reads and ignore the rest. Counts are
non-negative; a body that breaks that is a wire-format error, raised as
:class:`~botticelli_error.ResponseDecodeError` by :func:`parse_generate_response`.

Example:
    >>> resp = parse_generate_response(b'{"candidates": [{"content": {"parts": [{"text": "Hi"}]}, '
    ...                                b'"finishReason": "STOP"}]}')
    >>> resp.candidates[0].content.parts[0].text, resp.candidates[0].finish_reason
    ('Hi', 'STOP')
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, field_validator
from pydantic.alias_generators import to_camel

from botticelli_core._base import parse_wire
from botticelli_gemini.config import PROVIDER

__all__ = [
    "WireCandidate",
    "WireCountTokensResponse",
    "WireError",
    "WireErrorEnvelope",
    "WireFunctionCall",
    "WireGenerateContentResponse",
    "WireListModelsResponse",
    "WireModel",
    "WireParsedContent",
    "WirePromptFeedback",
    "WireResponsePart",
    "WireUsageMetadata",
    "parse_count_tokens_response",
    "parse_generate_response",
    "parse_list_models_response",
    "parse_model",
]

_M = TypeVar("_M", bound=BaseModel)


class _WireModel(BaseModel):
    model_config = ConfigDict(
        frozen=True, defer_build=True, extra="ignore", alias_generator=to_camel, populate_by_name=True
    )


class WireFunctionCall(_WireModel):
    """``functionCall``: a tool name and its arguments, documented as a JSON object.

    ``args`` is read as any JSON value: a model that writes something else must not make
    the whole answer unreadable (the call keeps it as ``raw_arguments``).
    """

    name: str
    args: Any = None
    id: str | None = None


class WireResponsePart(_WireModel):
    """One part of the model's turn: text (maybe a thought) or a function call.

    ``thoughtSignature`` is Gemini's opaque signature of the part; on a function call it
    must be sent back with the call in the next turn.
    """

    text: str | None = None
    thought: bool | None = None
    function_call: WireFunctionCall | None = None
    thought_signature: str | None = None


class WireParsedContent(_WireModel):
    """The model's turn; ``parts`` may be missing (``MALFORMED_FUNCTION_CALL`` sends ``{}``)."""

    role: str | None = None
    parts: list[WireResponsePart] = []


class WireCandidate(_WireModel):
    """One candidate answer; ``finishReason`` comes only on the last chunk of a stream."""

    content: WireParsedContent | None = None
    finish_reason: str | None = None
    finish_message: str | None = None


class WirePromptFeedback(_WireModel):
    """Why a prompt was blocked, when it was."""

    block_reason: str | None = None
    block_reason_message: str | None = None


class WireUsageMetadata(_WireModel):
    """Token counts. Thinking tokens are apart from ``candidatesTokenCount`` but in the total."""

    prompt_token_count: NonNegativeInt = 0
    candidates_token_count: NonNegativeInt = 0
    thoughts_token_count: NonNegativeInt | None = None
    cached_content_token_count: NonNegativeInt | None = None
    tool_use_prompt_token_count: NonNegativeInt | None = None
    total_token_count: NonNegativeInt | None = None


class WireError(_WireModel):
    """Google's error object: HTTP code, message, gRPC status name and typed details."""

    code: int | None = None
    message: str | None = None
    status: str | None = None
    details: list[dict[str, Any]] = []


class WireErrorEnvelope(_WireModel):
    """An error body: ``{"error": {...}}``."""

    error: WireError


class WireGenerateContentResponse(_WireModel):
    """A whole answer, or one event of a stream.

    ``error`` is set only on an error event in the middle of a stream; reading it here
    lets the stream parse each event once.
    """

    candidates: list[WireCandidate] = []
    prompt_feedback: WirePromptFeedback | None = None
    usage_metadata: WireUsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None
    error: WireError | None = None

    @field_validator("candidates", mode="before")
    @classmethod
    def _no_candidates(cls, value: object) -> object:
        # ``"candidates": null`` says the same as leaving the key out; the stream's event view
        # reads it so, and a block reason beside it must still be reported as a block.
        return [] if value is None else value


class WireCountTokensResponse(_WireModel):
    """The answer of ``:countTokens``."""

    total_tokens: NonNegativeInt


class WireModel(_WireModel):
    """One entry of ``GET /v1beta/models`` (or the answer of ``GET /v1beta/models/{model}``)."""

    name: str
    base_model_id: str | None = None
    version: str | None = None
    display_name: str | None = None
    description: str | None = None
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    supported_generation_methods: list[str] = []
    thinking: bool | None = None


class WireListModelsResponse(_WireModel):
    """One page of the model list."""

    models: list[WireModel] = []
    next_page_token: str | None = Field(default=None)


def parse_generate_response(data: bytes | str) -> WireGenerateContentResponse:
    """Parse a ``generateContent`` body or one stream event.

    Raises:
        ResponseDecodeError: The body is not JSON of the documented shape.
    """
    return parse_wire(WireGenerateContentResponse, data, provider=PROVIDER, what="response")


def parse_count_tokens_response(data: bytes | str) -> WireCountTokensResponse:
    """Parse a ``countTokens`` body.

    Raises:
        ResponseDecodeError: The body is not JSON of the documented shape.
    """
    return parse_wire(WireCountTokensResponse, data, provider=PROVIDER, what="countTokens response")


def parse_list_models_response(data: bytes | str) -> WireListModelsResponse:
    """Parse a page of ``GET /v1beta/models``.

    Raises:
        ResponseDecodeError: The body is not JSON of the documented shape.
    """
    return parse_wire(WireListModelsResponse, data, provider=PROVIDER, what="model list")


def parse_model(data: bytes | str) -> WireModel:
    """Parse ``GET /v1beta/models/{model}``.

    Raises:
        ResponseDecodeError: The body is not JSON of the documented shape.
    """
    return parse_wire(WireModel, data, provider=PROVIDER, what="model description")
