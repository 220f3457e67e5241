"""``ServerClient.embed``: the texts sent in batches to ``POST /v1/embeddings``, one request log for all."""

from __future__ import annotations

from collections.abc import Sequence

from botticelli_core import EmbedResponse
from botticelli_error import InputTooLongError
from botticelli_interface.request_log import RequestLog
from botticelli_server.config import PROVIDER, ServerConfig
from botticelli_server.embeddings import (
    TRUNCATE_TO_CONTEXT,
    EmbeddingList,
    EmbeddingRequest,
    Pooling,
    assemble,
    embed_batches,
    parse_embeddings,
    untruncated,
    vectors_of,
)
from botticelli_transport import HttpTransport

__all__ = ["embed"]

_EMBEDDINGS_PATH = "/v1/embeddings"


async def embed(
    transport: HttpTransport,
    config: ServerConfig,
    texts: Sequence[str],
    *,
    model: str | None,
    dimensions: int | None,
    pooling: Pooling | None,
    truncate: bool,
) -> EmbedResponse:
    """One vector per text, in input order; see :meth:`ServerClient.embed <botticelli_server.ServerClient.embed>`."""
    name = model or config.embedding_model or config.model
    pool = pooling or config.embed_pooling
    if not texts:
        return EmbedResponse(vectors=[], model=name)

    async def send(batch: list[str]) -> EmbeddingList:
        wire = EmbeddingRequest(
            model=name,
            input=batch,
            dimensions=dimensions,
            truncate_prompt_tokens=TRUNCATE_TO_CONTEXT if truncate else None,
        )
        result = await transport.request("POST", _EMBEDDINGS_PATH, content=wire.to_json())
        entry.record(result)
        return parse_embeddings(result.content)

    with RequestLog(PROVIDER, "embed", model=name) as entry:
        if config.log_content:
            entry.content = {"input": list(texts)}
        try:
            batches = await embed_batches(
                texts, send, batch_size=config.embed_batch_size, concurrency=config.embed_concurrency
            )
        except InputTooLongError as exc:
            if not truncate:
                raise
            raise untruncated(exc) from None
        size = config.embed_batch_size
        vectors = [
            vector
            for start, reply in batches
            for vector in vectors_of(reply, min(size, len(texts) - start), pooling=pool, offset=start)
        ]
        response = assemble([reply for _, reply in batches], vectors, name)
        entry.usage = response.usage
        return response
