"""Gemini's request body, field for field (camelCase on the wire).

Only what botticelli sends is modelled. Serialize with :func:`dump_request`, which
drops unset fields so the API applies its own defaults.

Example:
    >>> body = WireGenerateContentRequest(contents=[WireContent(role="user", parts=[WirePart(text="Hi")])])
    >>> dump_request(body)
    b'{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "WireBlob",
    "WireContent",
    "WireCountTokensRequest",
    "WireCountedRequest",
    "WireFileData",
    "WireGenerateContentRequest",
    "WireGenerationConfig",
    "WirePart",
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


class WirePart(_WireModel):
    """One part of a turn; exactly one of its fields is set."""

    text: str | None = None
    inline_data: WireBlob | None = None
    file_data: WireFileData | None = None


class WireContent(_WireModel):
    """A turn: ``role`` is ``user`` or ``model`` (and absent for the system instruction)."""

    role: Literal["user", "model"] | None = None
    parts: list[WirePart]


class WireGenerationConfig(_WireModel):
    """Sampling settings (``generationConfig``)."""

    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: list[str] | None = None
    seed: int | None = None


class WireGenerateContentRequest(_WireModel):
    """The body of ``:generateContent`` and ``:streamGenerateContent``."""

    contents: list[WireContent]
    system_instruction: WireContent | None = None
    generation_config: WireGenerationConfig | None = None


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
