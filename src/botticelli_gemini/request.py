"""Gemini's request body, field for field (camelCase on the wire).

Only what botticelli sends is modelled. Serialize with :func:`dump_request`, which
drops unset fields so the API applies its own defaults.

Example:
    >>> body = WireGenerateContentRequest(contents=[WireContent(role="user", parts=[WirePart(text="Hi")])])
    >>> dump_request(body)
    b'{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "WireBlob",
    "WireContent",
    "WireCountTokensRequest",
    "WireCountedRequest",
    "WireFileData",
    "WireFunctionCallPart",
    "WireFunctionCallingConfig",
    "WireFunctionDeclaration",
    "WireFunctionResponse",
    "WireGenerateContentRequest",
    "WireGenerationConfig",
    "WirePart",
    "WireThinkingConfig",
    "WireTool",
    "WireToolConfig",
    "dump_request",
]


class _WireModel(BaseModel):
    model_config = ConfigDict(
        frozen=True, defer_build=True, extra="forbid", alias_generator=to_camel, populate_by_name=True
    )


class WireBlob(_WireModel):
    """Inline bytes: ``{"mimeType", "data"}`` with ``data`` in standard base64."""

    mime_type: str
    data: str


class WireFileData(_WireModel):
    """A reference the API fetches itself: ``{"mimeType", "fileUri"}``."""

    mime_type: str
    file_uri: str


class WireFunctionCallPart(_WireModel):
    """``functionCall`` replayed in a ``model`` turn: the name, the arguments and Gemini's id, if it sent one."""

    name: str
    args: dict[str, Any]
    id: str | None = None


class WireFunctionResponse(_WireModel):
    """``functionResponse``: what running a call returned; ``response`` is always a JSON object."""

    name: str
    response: dict[str, Any]
    id: str | None = None


class WirePart(_WireModel):
    """One part of a turn; exactly one of its content fields is set.

    ``thought_signature`` rides beside a ``functionCall``: Gemini signs the calls it makes
    and wants the signature back, on the same part, in the next request.
    """

    text: str | None = None
    inline_data: WireBlob | None = None
    file_data: WireFileData | None = None
    function_call: WireFunctionCallPart | None = None
    function_response: WireFunctionResponse | None = None
    thought_signature: str | None = None


class WireContent(_WireModel):
    """A turn: ``role`` is ``user`` or ``model`` (and absent for the system instruction)."""

    role: Literal["user", "model"] | None = None
    parts: list[WirePart]


class WireThinkingConfig(_WireModel):
    """``thinkingConfig``: a token budget (Gemini 2.5) or a level (Gemini 3), never both."""

    thinking_budget: int | None = None
    thinking_level: Literal["LOW", "MEDIUM", "HIGH"] | None = None
    include_thoughts: bool | None = None


class WireGenerationConfig(_WireModel):
    """Sampling settings, structured output and thinking (``generationConfig``)."""

    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: list[str] | None = None
    seed: int | None = None
    response_mime_type: str | None = None
    response_json_schema: dict[str, Any] | None = None
    thinking_config: WireThinkingConfig | None = None


class WireFunctionDeclaration(_WireModel):
    """One declared function; its arguments as full JSON Schema (``parametersJsonSchema``)."""

    name: str
    description: str | None = None
    parameters_json_schema: dict[str, Any] | None = None


class WireTool(_WireModel):
    """``tools[]`` entry: botticelli sends one, holding every function declaration."""

    function_declarations: list[WireFunctionDeclaration]


class WireFunctionCallingConfig(_WireModel):
    """``functionCallingConfig``: ``AUTO``, ``NONE`` or ``ANY`` (optionally limited to some names)."""

    mode: Literal["AUTO", "NONE", "ANY"]
    allowed_function_names: list[str] | None = None


class WireToolConfig(_WireModel):
    """``toolConfig``: how the model may use the declared tools."""

    function_calling_config: WireFunctionCallingConfig


class WireGenerateContentRequest(_WireModel):
    """The body of ``:generateContent`` and ``:streamGenerateContent``."""

    contents: list[WireContent]
    system_instruction: WireContent | None = None
    generation_config: WireGenerationConfig | None = None
    tools: list[WireTool] | None = None
    tool_config: WireToolConfig | None = None


class WireCountTokensRequest(_WireModel):
    """The body of ``:countTokens``, wrapping a whole request so the system instruction counts."""

    generate_content_request: WireCountedRequest


class WireCountedRequest(WireGenerateContentRequest):
    """A generate request that also names its model (``models/...``), as ``countTokens`` needs."""

    model: str


WireCountTokensRequest.model_rebuild()


def dump_request(body: _WireModel) -> bytes:
    """JSON bytes for the wire: camelCase names, unset fields left out."""
    return body.model_dump_json(by_alias=True, exclude_none=True).encode()
