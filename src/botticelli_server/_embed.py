"""``ServerClient.embed``: the texts sent in batches to ``POST /v1/embeddings``, one request log for all."""

from __future__ import annotations

from botticelli_core import EmbedResponse
from botticelli_core._arguments import checked_texts, embed_options
from botticelli_error import ConfigurationError, InputTooLongError
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
    texts: object,
    *,
    model: str | None,
    dimensions: int | None,
    task: str | None = None,
    pooling: Pooling | None,
    truncate: bool,
    server: str | None = None,
) -> EmbedResponse:
    """One vector per text, in input order; see :meth:`ServerClient.embed <botticelli_server.ServerClient.embed>`.

    ``texts`` is checked here, whatever the caller passed (a ``str`` is one text); ``task``
    only for its type, since no server takes it. ``server`` is the server's dialect name,
    when known: the advice of a token-level reply's error depends on it (see
    :func:`~botticelli_server.embeddings.vectors_of`).
    """
    method = "ServerClient.embed"
    inputs = checked_texts(texts, method, provider=PROVIDER)
    embed_options(method, model=model, dimensions=dimensions, task=task, truncate=truncate, provider=PROVIDER)
    if pooling not in (None, "mean"):
        raise ConfigurationError(f'{method}\'s pooling must be "mean" or None, not {pooling!r}', provider=PROVIDER)
    name = model or config.embedding_model or config.model
    pool = pooling or config.embed_pooling
    if not inputs:
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
            entry.content = {"input": inputs}
        try:
            batches = await embed_batches(
                inputs, send, batch_size=config.embed_batch_size, concurrency=config.embed_concurrency
            )
        except InputTooLongError as exc:
            if not truncate:
                raise
            raise untruncated(exc) from None
        size = config.embed_batch_size
        vectors = [
            vector
            for start, reply in batches
            for vector in vectors_of(reply, min(size, len(inputs) - start), pooling=pool, offset=start, server=server)
        ]
        response = assemble([reply for _, reply in batches], vectors, name)
        entry.usage = response.usage
        return response
