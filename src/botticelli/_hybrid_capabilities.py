"""The hybrid provider's embeddings and token counts: which backend serves them, and when not to switch.

Generation may move between the two backends per request; embeddings may not. Vectors of
two models live in different spaces (different lengths, or the same length and meaningless
to compare), so a store filled by one backend and queried through the other gives wrong
answers without any error. Embeddings therefore go to one backend chosen once
(:func:`embed_backend`), and a failure there is raised unless the policy allows
``embed_fallback``; even then :class:`~botticelli_core.EmbedResponse`'s ``model`` names
the model that made the vectors.

Token counts come from the backend a request would be routed to, since tokenizers differ;
a count by the other backend is returned with ``exact=False``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from botticelli._routing import Route, choose_route, decided_without_size, falls_back_on
from botticelli_core import EmbedResponse, GenerateRequest, TokenCount
from botticelli_error import BotticelliError, ConfigurationError, UnsupportedInputError
from botticelli_interface import GenerativeModel, SupportsCountTokens, SupportsEmbed
from botticelli_interface.request_log import log_event

if TYPE_CHECKING:
    from botticelli.hybrid import HybridModel

__all__ = ["count_tokens", "embed", "embed_backend", "sized_route"]

_PROVIDER = "hybrid"


def embed_backend(hybrid: HybridModel) -> GenerativeModel | None:
    """The backend that makes the hybrid's embeddings, or ``None`` when neither can.

    Raises:
        ConfigurationError: ``embed_backend`` names a backend that has no embeddings.
    """
    choice = hybrid.policy.embed_backend
    if choice == "auto":
        return next((b for b in (hybrid.preferred, hybrid.fallback) if isinstance(b, SupportsEmbed)), None)
    backend = hybrid.preferred if choice == "preferred" else hybrid.fallback
    if not isinstance(backend, SupportsEmbed):
        raise ConfigurationError(
            f"model.hybrid.embed_backend is {choice!r}, and that backend ({backend.provider_name}) has no embeddings",
            provider=_PROVIDER,
        )
    return backend


async def embed(
    hybrid: HybridModel,
    texts: Sequence[str],
    *,
    model: str | None,
    dimensions: int | None,
    task: str | None,
    truncate: bool,
) -> EmbedResponse:
    """Embed on the embedding backend; on the other one only if the policy allows it."""
    backend = embed_backend(hybrid)
    if backend is None:
        names = f"{hybrid.preferred.provider_name}, {hybrid.fallback.provider_name}"
        raise UnsupportedInputError(
            f"neither hybrid backend ({names}) has embeddings",
            input_type="embeddings",
            provider=_PROVIDER,
        )
    _log(backend, "embed_backend", logging.INFO)
    try:
        return await _embed_on(hybrid, backend, texts, model=model, dimensions=dimensions, task=task, truncate=truncate)
    except BotticelliError as exc:
        other = hybrid.fallback if backend is hybrid.preferred else hybrid.preferred
        if not (hybrid.policy.embed_fallback and isinstance(other, SupportsEmbed) and falls_back_on(exc)):
            raise
        _log(other, f"embed_fallback:{type(exc).__name__}", logging.WARNING, failed_backend=backend.provider_name)
        try:
            # ``model`` named a model of the first backend; the other one uses its own.
            return await _embed_on(
                hybrid, other, texts, model=None, dimensions=dimensions, task=task, truncate=truncate
            )
        except BotticelliError as second:
            if second.__context__ is None:
                second.__context__ = exc
            raise


async def _embed_on(
    hybrid: HybridModel,
    backend: GenerativeModel,
    texts: Sequence[str],
    *,
    model: str | None,
    dimensions: int | None,
    task: str | None,
    truncate: bool,
) -> EmbedResponse:
    # Checked by the callers; the assert narrows the type for mypy.
    assert isinstance(backend, SupportsEmbed)
    breaker = hybrid.breaker(backend)
    # An open breaker does not move embeddings elsewhere (the vector space would change): the
    # backend is tried anyway, and the permit only keeps the breaker's count right.
    permit = breaker.acquire()
    try:
        response = await backend.embed(texts, model=model, dimensions=dimensions, task=task, truncate=truncate)
    except BotticelliError as exc:
        hybrid.record_error(backend, permit, exc)
        raise
    except BaseException:
        breaker.release(permit)
        raise
    breaker.record_success(permit)
    if response.model is None:
        # The caller must be able to tell whose space the vectors are in.
        response = response.model_copy(update={"model": model or backend.model_name})
    return response


async def count_tokens(hybrid: HybridModel, request: GenerateRequest) -> TokenCount:
    """The prompt's tokens, counted by the backend the request would be routed to.

    When only the other backend can count, its count is returned with ``exact=False``.
    """
    route = hybrid.route(request)
    first, second = (
        (hybrid.preferred, hybrid.fallback) if route.target == "preferred" else (hybrid.fallback, hybrid.preferred)
    )
    if isinstance(first, SupportsCountTokens):
        return await first.count_tokens(request)
    if isinstance(second, SupportsCountTokens):
        count = await second.count_tokens(request)
        return TokenCount(input_tokens=count.input_tokens, exact=False)
    raise UnsupportedInputError(
        f"neither hybrid backend ({hybrid.preferred.provider_name}, {hybrid.fallback.provider_name}) counts tokens",
        input_type="count_tokens",
        provider=_PROVIDER,
    )


async def sized_route(hybrid: HybridModel, request: GenerateRequest) -> Route:
    """The route of ``request``, sized by a backend's token count when the policy asks for it.

    A count that fails (the counting backend is down or cooling down) falls back to the
    characters / 4 estimate: routing must not fail because counting did.
    """
    route = hybrid.route(request)
    if not hybrid.policy.count_tokens_routing or decided_without_size(route):
        return route
    counters = [b for b in (hybrid.preferred, hybrid.fallback) if isinstance(b, SupportsCountTokens)]
    if not counters or hybrid.breaker(counters[0]).state == "open":
        return route
    counter = counters[0]
    try:
        count = await counter.count_tokens(request)
    except BotticelliError as exc:
        _log(counter, f"count_failed:{type(exc).__name__}", logging.WARNING)
        return route
    return choose_route(request, hybrid.policy, prompt_tokens=count.input_tokens)


def _log(backend: GenerativeModel, reason: str, level: int, **extra: str) -> None:
    log_event(
        level,
        "botticelli.route",
        provider=_PROVIDER,
        backend=backend.provider_name,
        model=backend.model_name,
        reason=reason,
        operation="embed" if reason.startswith("embed") else "count_tokens",
        **extra,
    )
