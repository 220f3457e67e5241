"""Gemini's ``:embedContent`` and ``:batchEmbedContents``, field for field, and their batching.

Google's reference (``ai.google.dev/api/embeddings``): an ``EmbedContentRequest`` is
``{"model", "content": {"parts": [{"text"}]}, "taskType", "title", "outputDimensionality"}``;
``:embedContent`` answers ``{"embedding": {"values": [...]}}`` and
``:batchEmbedContents`` (``{"requests": [EmbedContentRequest, ...]}``) answers
``{"embeddings": [{"values": [...]}, ...]}`` in request order. The API refuses more than
:data:`MAX_BATCH` requests in one batch (``"at most 100 requests can be in one batch"``),
so longer lists are split and reassembled here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from botticelli_core import EmbedResponse
from botticelli_core._base import parse_wire
from botticelli_error import EmbeddingShapeError
from botticelli_gemini.config import PROVIDER
from botticelli_gemini.request import WireContent, WirePart

__all__ = [
    "MAX_BATCH",
    "TASK_TYPES",
    "WireBatchEmbedRequest",
    "WireBatchEmbedResponse",
    "WireContentEmbedding",
    "WireEmbedRequest",
    "batch_body",
    "batches",
    "parse_batch_embed_response",
    "to_embed_response",
]

MAX_BATCH = 100
"""The most requests one ``:batchEmbedContents`` call may hold."""

TaskType = Literal[
    "TASK_TYPE_UNSPECIFIED",
    "RETRIEVAL_QUERY",
    "RETRIEVAL_DOCUMENT",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
    "CODE_RETRIEVAL_QUERY",
]
TASK_TYPES: frozenset[str] = frozenset(TaskType.__args__)  # type: ignore[attr-defined]
"""The ``taskType`` values Google documents."""


class _Wire(BaseModel):
    # Built on first use, like every other wire model: a program that never embeds never pays for it.
    model_config = ConfigDict(
        frozen=True, defer_build=True, extra="ignore", alias_generator=to_camel, populate_by_name=True
    )


class WireEmbedRequest(_Wire):
    """One ``EmbedContentRequest``."""

    model: str
    content: WireContent
    task_type: str | None = None
    output_dimensionality: int | None = None


class WireBatchEmbedRequest(_Wire):
    """The body of ``:batchEmbedContents``."""

    requests: list[WireEmbedRequest]


class WireContentEmbedding(_Wire):
    """``ContentEmbedding``: one vector."""

    values: list[float]


class WireBatchEmbedResponse(_Wire):
    """The reply of ``:batchEmbedContents``: the embeddings in request order."""

    embeddings: list[WireContentEmbedding]


def batches(texts: Sequence[str], size: int = MAX_BATCH) -> list[tuple[int, list[str]]]:
    """``texts`` cut into runs of at most ``size``, each with the index of its first text.

    Examples:
        >>> [(start, len(run)) for start, run in batches(["t"] * 250)]
        [(0, 100), (100, 100), (200, 50)]
    """
    return [(start, list(texts[start : start + size])) for start in range(0, len(texts), size)]


def batch_body(texts: Sequence[str], *, model: str, task: str | None, dimensions: int | None) -> bytes:
    """The JSON body of one ``:batchEmbedContents`` call.

    Examples:
        >>> body = batch_body(["hi"], model="gemini-embedding-001", task="RETRIEVAL_QUERY", dimensions=8)
        >>> import json
        >>> request = json.loads(body)["requests"][0]
        >>> request["model"], request["content"], request["taskType"], request["outputDimensionality"]
        ('models/gemini-embedding-001', {'parts': [{'text': 'hi'}]}, 'RETRIEVAL_QUERY', 8)
    """
    name = f"models/{model}"
    requests = [
        WireEmbedRequest(
            model=name,
            content=WireContent(parts=[WirePart(text=text)]),
            task_type=task,
            output_dimensionality=dimensions,
        )
        for text in texts
    ]
    return WireBatchEmbedRequest(requests=requests).model_dump_json(by_alias=True, exclude_none=True).encode()


def parse_batch_embed_response(data: bytes | str) -> WireBatchEmbedResponse:
    """Parse a ``:batchEmbedContents`` body.

    Raises:
        ResponseDecodeError: The body is not JSON of the documented shape.
    """
    return parse_wire(WireBatchEmbedResponse, data, provider=PROVIDER, what="batchEmbedContents response")


def to_embed_response(
    replies: Sequence[tuple[int, WireBatchEmbedResponse]], expected: Sequence[int], model: str
) -> EmbedResponse:
    """The batches' vectors, in input order, as one response.

    Args:
        replies: Each batch's start index and reply, in input order.
        expected: How many texts each batch sent.
        model: The embedding model.

    Raises:
        EmbeddingShapeError: A batch came back with another number of embeddings.
    """
    vectors: list[list[float]] = []
    for (start, reply), count in zip(replies, expected, strict=True):
        if len(reply.embeddings) != count:
            raise EmbeddingShapeError(
                f"Gemini returned {len(reply.embeddings)} embeddings for the {count} texts from index {start}",
                shape="count",
                index=start,
                provider=PROVIDER,
            )
        vectors.extend(e.values for e in reply.embeddings)
    return EmbedResponse(vectors=vectors, model=model)
