"""``POST /v1/embeddings``: the wire models, the two reply shapes, and batching of large inputs.

Servers send one of two shapes in ``data[i].embedding``:

- one vector per input (OpenAI, llama.cpp with a pooling type, vLLM, Ollama, mistral.rs);
- a list of per-token vectors (llama-cpp-python's server on a model without a pooling
  type). That is not an embedding of the text: it is pooled only when the caller
  asked for it (``pooling="mean"``), and otherwise refused with
  :class:`~botticelli_error.EmbeddingShapeError`, never passed on as a ragged list.

No I/O here beyond the ``send`` callable :func:`embed_batches` is given, so every rule
is tested without a server.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict

from botticelli_core import EmbedResponse, Usage
from botticelli_error import (
    BotticelliError,
    EmbeddingShapeError,
    InputTooLongError,
    ResponseDecodeError,
    TruncationUnsupportedError,
    loads_json,
)
from botticelli_server.config import PROVIDER

__all__ = [
    "TRUNCATE_TO_CONTEXT",
    "EmbeddingData",
    "EmbeddingList",
    "EmbeddingRequest",
    "EmbeddingUsage",
    "Pooling",
    "assemble",
    "embed_batches",
    "is_over_context",
    "parse_embeddings",
    "untruncated",
    "vectors_of",
]

Pooling = Literal["mean"]
"""How to make one vector of a token-level reply: ``"mean"`` averages the token vectors."""

# What servers say when an input does not fit: llama.cpp's error type and its "too large to
# process" (an input over the physical batch), vLLM's and OpenAI's "maximum context length",
# llama-cpp-python's "exceed context window".
_OVER_CONTEXT = re.compile(r"context (length|window|size)|too (large|long)|exceeds? .*tokens", re.IGNORECASE)


class _Wire(BaseModel):
    # Built on first use, like every other wire model: a program that never embeds never pays for it.
    model_config = ConfigDict(frozen=True, defer_build=True, extra="allow")


TRUNCATE_TO_CONTEXT = -1
"""vLLM's ``truncate_prompt_tokens`` value for "cut each input to the model's context"."""


class EmbeddingRequest(_Wire):
    """The request body; ``dimensions`` and ``truncate_prompt_tokens`` are omitted unless asked for.

    ``truncate_prompt_tokens`` is vLLM's switch (``-1``: cut to the model's context).
    llama-cpp-python has none and always cuts inputs to its batch; llama.cpp's server has
    none and refuses a longer input; both ignore the field. Sent only when asked, since a
    strict server (OpenAI's) rejects fields it does not know.
    """

    model: str
    input: list[str]
    encoding_format: Literal["float"] = "float"
    dimensions: int | None = None
    truncate_prompt_tokens: int | None = None

    def to_json(self) -> bytes:
        """The request body: JSON bytes, unset fields omitted."""
        return self.__pydantic_serializer__.to_json(self, exclude_none=True)


class EmbeddingData(_Wire):
    """One entry of ``data``: a vector, or per-token vectors (llama-cpp-python without pooling)."""

    index: int | None = None
    embedding: list[float] | list[list[float]]


class EmbeddingUsage(_Wire):
    """Token counts of an embedding call (no completion tokens)."""

    prompt_tokens: int = 0
    total_tokens: int | None = None


class EmbeddingList(_Wire):
    """The reply of ``POST /v1/embeddings``."""

    data: list[EmbeddingData]
    model: str | None = None
    usage: EmbeddingUsage | None = None


def vectors_of(
    reply: EmbeddingList,
    expected: int,
    *,
    pooling: Pooling | None = None,
    offset: int = 0,
    server: str | None = None,
) -> list[list[float]]:
    """The reply's vectors in input order, one per input, pooled if asked.

    Args:
        reply: The parsed reply of one batch.
        expected: How many inputs the batch had.
        pooling: What to do with token-level entries; ``None`` refuses them.
        offset: The index of the batch's first input in the caller's list (errors name that index).
        server: The server's dialect name (``"llama-cpp-python"``, ``"llama.cpp"``...), when
            known: the refusal of a token-level reply says what that server can do about it.

    Raises:
        EmbeddingShapeError: Token-level entries without ``pooling``, or not one entry per input.

    Examples:
        >>> reply = EmbeddingList(data=[{"index": 0, "embedding": [[1.0, 3.0], [3.0, 5.0]]}])
        >>> vectors_of(reply, 1, pooling="mean")
        [[2.0, 4.0]]
        >>> try:
        ...     vectors_of(reply, 1)
        ... except EmbeddingShapeError as err:
        ...     print(err.shape, err.index)
        token-level 0
    """
    data = reply.data
    if len(data) != expected:
        raise EmbeddingShapeError(
            f"the server returned {len(data)} embeddings for {expected} inputs", shape="count", provider=PROVIDER
        )
    if all(entry.index is not None for entry in data):
        data = sorted(data, key=lambda entry: entry.index or 0)
        if [entry.index for entry in data] != list(range(expected)):
            raise EmbeddingShapeError(
                f"the server's embedding indexes are not 0..{expected - 1}", shape="count", provider=PROVIDER
            )
    vectors: list[list[float]] = []
    for position, entry in enumerate(data):
        vector = entry.embedding
        if vector and isinstance(vector[0], list):
            tokens: list[list[float]] = vector
            vectors.append(_pooled(tokens, offset + position, pooling, server))
        else:
            vectors.append(vector)  # type: ignore[arg-type]  # a flat list[float]
    return vectors


# What each server can be told so that it pools itself, for the token-level refusal. Only
# llama.cpp has a switch; llama-cpp-python's server has none (its settings have no pooling
# option: the pooling type comes from the model file's metadata).
_SERVER_POOLING = {
    "llama.cpp": "or start llama-server with --pooling mean",
    "llama-cpp-python": (
        "llama-cpp-python's server has no pooling option of its own: it pools only for a model whose "
        "GGUF file has a pooling type (an embedding model)"
    ),
}
_ANY_SERVER_POOLING = (
    "or start the server with a pooling type where it has that option (llama-server: --pooling mean; "
    "llama-cpp-python's server has none)"
)


def _pooling_advice(server: str | None) -> str:
    """What fixes a token-level reply: botticelli's two settings, then what ``server`` can do itself.

    Examples:
        >>> advice = _pooling_advice("llama.cpp")
        >>> 'pooling="mean"' in advice, 'embed_pooling = "mean"' in advice, advice.endswith("--pooling mean")
        (True, True, True)
    """
    said = _SERVER_POOLING.get(server or "", _ANY_SERVER_POOLING)
    return (
        'pass pooling="mean" to embed(), or set embed_pooling = "mean" under [model.local] '
        f"(what `botticelli embed` reads); {said}"
    )


def _pooled(tokens: list[list[float]], position: int, pooling: Pooling | None, server: str | None) -> list[float]:
    width = len(tokens[0])
    if pooling is None:
        raise EmbeddingShapeError(
            f"the server returned token-level embeddings for input {position} ({len(tokens)} vectors of "
            f"{width} floats) instead of one vector, because its model has no pooling type. To get one vector "
            f"per text: {_pooling_advice(server)}",
            shape="token-level",
            index=position,
            provider=PROVIDER,
        )
    if any(len(token) != width for token in tokens):
        raise EmbeddingShapeError(
            f"the server's token vectors for input {position} differ in length",
            shape="ragged",
            index=position,
            provider=PROVIDER,
        )
    count = len(tokens)
    return [sum(column) / count for column in zip(*tokens, strict=True)]


def assemble(replies: Sequence[EmbeddingList], vectors: list[list[float]], model: str) -> EmbedResponse:
    """One response from the batches' vectors (already in input order) and their usage.

    Raises:
        EmbeddingShapeError: The vectors differ in length (``shape="ragged"``).
    """
    usages = [r.usage for r in replies if r.usage is not None]
    usage = Usage(input_tokens=sum(u.prompt_tokens for u in usages), output_tokens=0) if usages else None
    served = next((r.model for r in replies if r.model), None)
    width = len(vectors[0]) if vectors else 0
    for index, vector in enumerate(vectors):
        if len(vector) != width:
            raise EmbeddingShapeError(
                f"the server's vectors differ in length: input 0 has {width} floats, input {index} {len(vector)}",
                shape="ragged",
                index=index,
                provider=PROVIDER,
            )
    return EmbedResponse.model_validate({"vectors": vectors, "model": served or model, "usage": usage})


Send = Callable[[list[str]], Awaitable[EmbeddingList]]
"""Sends one batch of texts and parses the reply."""


async def embed_batches(
    texts: Sequence[str], send: Send, *, batch_size: int, concurrency: int
) -> list[tuple[int, EmbeddingList]]:
    """Send ``texts`` in batches of ``batch_size``, at most ``concurrency`` at a time.

    Returns each batch's start index and reply, in input order. When a batch fails
    because an input does not fit the model, its inputs are sent one by one to find
    which, and the error names that input's index.

    Raises:
        InputTooLongError: An input is over the model's context (``index`` says which).
        BotticelliError: Any other failure of a batch, as the transport raised it.
    """
    starts = range(0, len(texts), batch_size)
    results: dict[int, EmbeddingList] = {}
    limiter = anyio.CapacityLimiter(max(1, concurrency))

    async def one(start: int) -> None:
        batch = list(texts[start : start + batch_size])
        async with limiter:
            try:
                results[start] = await send(batch)
            except BotticelliError as exc:
                if not is_over_context(exc):
                    raise
                raise await _locate(exc, batch, start, send) from None

    # A task group cancels the other batches as soon as one fails: the error is the answer,
    # raised outside the except block so that the group holding it is not its __context__.
    failure: BaseException | None = None
    try:
        async with anyio.create_task_group() as group:
            for start in starts:
                group.start_soon(one, start)
    except BaseExceptionGroup as group_error:
        failure = _first(group_error)
    if failure is not None:
        raise failure
    return [(start, results[start]) for start in starts]


def _first(group_error: BaseExceptionGroup[BaseException]) -> BaseException:
    errors = group_error.exceptions
    located = [e for e in errors if isinstance(e, InputTooLongError)]
    if located:
        return min(located, key=lambda e: e.index)
    inner = errors[0]
    return _first(inner) if isinstance(inner, BaseExceptionGroup) else inner


def is_over_context(error: BotticelliError) -> bool:
    """Whether a server's error says an input does not fit the model (400, or llama.cpp's 500)."""
    if error.error_type == "exceed_context_size_error":
        return True
    said = error.server_message or ""
    return error.status_code in (400, 413, 500) and bool(_OVER_CONTEXT.search(said))


async def _locate(error: BotticelliError, batch: list[str], start: int, send: Send) -> BotticelliError:
    """The error naming the first input of ``batch`` over the context (``error`` if none alone is)."""
    culprit = error
    if len(batch) > 1:
        culprit_index = None
        for offset, text in enumerate(batch):
            try:
                await send([text])
            except BotticelliError as exc:
                if is_over_context(exc):
                    culprit, culprit_index = exc, offset
                    break
                raise
        if culprit_index is None:
            # Each input fits alone but not together (a per-request token budget): not one input's fault.
            return error
        start += culprit_index
    tokens, context = _token_counts(culprit)
    return InputTooLongError(
        f"input {start} does not fit the embedding model's context",
        index=start,
        input_tokens=tokens,
        context_length=context,
        **_reply_of(culprit),
    )


def _reply_of(error: BotticelliError) -> dict[str, Any]:
    """What the server said in ``error``, to carry over onto the more precise error built from it."""
    return {
        "provider": error.provider,
        "status_code": error.status_code,
        "server_message": error.server_message,
        "error_type": error.error_type,
        "request_id": error.request_id,
        "body": error.body,
    }


def _token_counts(error: BotticelliError) -> tuple[int | None, int | None]:
    # llama.cpp's exceed_context_size_error carries n_prompt_tokens and n_ctx in its body.
    body: Any = loads_json(error.body) if error.body else None
    inner = body.get("error") if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        return None, None
    tokens, context = inner.get("n_prompt_tokens"), inner.get("n_ctx")
    return (tokens if isinstance(tokens, int) else None), (context if isinstance(context, int) else None)


def parse_embeddings(content: bytes) -> EmbeddingList:
    """Parse one reply, as a typed error when it is not an embedding list."""
    try:
        return EmbeddingList.model_validate_json(content)
    except ValueError as exc:
        error = ResponseDecodeError(
            f"the server's reply is not an embedding list: {str(exc).splitlines()[0]}",
            provider=PROVIDER,
            body=content.decode("utf-8", "replace"),
        )
    # Outside the except block: pydantic's exception quotes the reply, which may echo the API key.
    raise error


def untruncated(error: InputTooLongError) -> TruncationUnsupportedError:
    """The error for an input refused as too long although truncation was asked for.

    Examples:
        >>> err = untruncated(InputTooLongError("input 1 does not fit", index=1, context_length=512))
        >>> type(err).__name__, err.index, err.context_length, err.backend
        ('TruncationUnsupportedError', 1, 512, 'local')
    """
    return TruncationUnsupportedError(
        f"{error.message}, and the server did not truncate it although truncate=True: it has no truncation "
        "option botticelli can set (llama.cpp's server refuses inputs over its physical batch: start it with "
        "a larger --ubatch-size, or shorten the input)",
        backend=PROVIDER,
        index=error.index,
        input_tokens=error.input_tokens,
        context_length=error.context_length,
        **_reply_of(error),
    )
