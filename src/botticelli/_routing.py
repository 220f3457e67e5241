"""How the hybrid provider tells a cheap request from a complex one, and which errors it falls back on.

Pure functions over a :class:`~botticelli_core.GenerateRequest`: no I/O, no clock, so every
routing rule is testable on its own.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from botticelli_core import GenerateRequest, TextInput
from botticelli_error import (
    BotticelliError,
    RateLimitError,
    ServerUnavailableError,
    StreamInterruptedError,
    StreamStalledError,
    TransportError,
    UnsupportedInputError,
)

__all__ = [
    "DEFAULT_COOLDOWN",
    "DEFAULT_FAILURE_THRESHOLD",
    "DEFAULT_MAX_TOKENS_THRESHOLD",
    "DEFAULT_PROMPT_TOKENS_THRESHOLD",
    "FEATURES_REASON",
    "EmbedBackend",
    "HybridPolicy",
    "Route",
    "choose_route",
    "counts_against_backend",
    "decided_without_size",
    "estimate_prompt_tokens",
    "falls_back_on",
]

DEFAULT_PROMPT_TOKENS_THRESHOLD = 2000
"""Prompts estimated above this many tokens go to the fallback: local prefill on a CPU is slow."""
DEFAULT_MAX_TOKENS_THRESHOLD = 2048
"""Requests asking for more output tokens than this go to the fallback."""
DEFAULT_FAILURE_THRESHOLD = 3
"""Consecutive failures that open a backend's circuit breaker."""
DEFAULT_COOLDOWN = 30.0
"""Seconds an open breaker skips its backend before one trial request is let through."""

# Errors that say "this backend cannot serve right now" rather than "this request is wrong":
# another backend may well answer. A bad request, a bad key, an unknown model or blocked content
# would fail the same way (or should be fixed, not hidden), so those propagate.
_FALLBACK_ERRORS: tuple[type[BotticelliError], ...] = (
    TransportError,  # includes RequestTimeoutError
    RateLimitError,
    ServerUnavailableError,
    StreamInterruptedError,
    StreamStalledError,
    UnsupportedInputError,
)

FEATURES_REASON = "features:"
"""The reason prefix of a route decided by the request's optional features."""

Target = Literal["preferred", "fallback"]
EmbedBackend = Literal["auto", "preferred", "fallback"]
"""Which backend embeds: ``"auto"`` is the preferred one if it can, else the fallback."""


class HybridPolicy(BaseModel):
    """When a request counts as complex, and how quickly a failing backend is skipped.

    Args:
        prompt_tokens_threshold: Prompts estimated above this many tokens (characters / 4)
            go to the fallback backend.
        max_tokens_threshold: Requests with ``max_tokens`` above this go to the fallback.
        media_to_fallback: Requests holding images, audio, video or documents go to the
            fallback (local servers often cannot take them).
        failure_threshold: Consecutive failures that open a backend's circuit breaker.
        cooldown: Seconds an open breaker skips its backend before a trial request.
        embed_backend: The one backend that makes embeddings (see :data:`EmbedBackend`).
            One backend, not a route per call: vectors of two models do not compare.
        embed_fallback: On a failure of the embedding backend that would make generation
            fall back, embed with the other backend instead of raising. Off by default:
            the vectors then come from another model (``EmbedResponse.model`` says which),
            and mixing them with stored ones is a silent error.
        count_tokens_routing: Ask a backend for the prompt's exact token count (the
            preferred one if it can count, else the fallback) instead of estimating
            characters / 4; one extra request before each generation that the hint and
            media rules leave undecided.

    Examples:
        >>> HybridPolicy().prompt_tokens_threshold
        2000
        >>> HybridPolicy(cooldown=5).cooldown
        5.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_tokens_threshold: int = Field(default=DEFAULT_PROMPT_TOKENS_THRESHOLD, gt=0)
    max_tokens_threshold: int = Field(default=DEFAULT_MAX_TOKENS_THRESHOLD, gt=0)
    media_to_fallback: bool = True
    failure_threshold: int = Field(default=DEFAULT_FAILURE_THRESHOLD, gt=0)
    cooldown: float = Field(default=DEFAULT_COOLDOWN, ge=0)
    embed_backend: EmbedBackend = "auto"
    embed_fallback: bool = False
    count_tokens_routing: bool = False


class Route(BaseModel):
    """Where one request goes first, and why (the ``reason`` is what gets logged).

    Examples:
        >>> Route(target="fallback", reason="media")
        Route(target='fallback', reason='media')
        >>> Route(target="fallback", reason="features:tools").exclusive
        True
    """

    model_config = ConfigDict(frozen=True)

    target: Target
    reason: str

    @property
    def exclusive(self) -> bool:
        """Whether only this target can serve the request, so it never falls back.

        True when the request uses a feature only that backend honours (see
        :mod:`botticelli._feature_routing`).
        """
        return self.reason.startswith(FEATURES_REASON)


def estimate_prompt_tokens(request: GenerateRequest) -> int:
    """A rough token count of the request's text: characters / 4, rounded up.

    Good enough to tell a short question from a pasted document; no tokenizer is loaded.

    Examples:
        >>> estimate_prompt_tokens(GenerateRequest.from_prompt("x" * 10))
        3
    """
    chars = sum(len(part.text) for m in request.messages for part in m.content if isinstance(part, TextInput))
    return math.ceil(chars / 4)


def _has_media(request: GenerateRequest) -> bool:
    return any(not isinstance(part, TextInput) for m in request.messages for part in m.content)


def choose_route(request: GenerateRequest, policy: HybridPolicy, *, prompt_tokens: int | None = None) -> Route:
    """Pick the backend a request should try first.

    The first rule that applies wins: an explicit ``routing_hint``, then media inputs,
    then the prompt size (``prompt_tokens`` when a backend counted it, else the
    characters / 4 estimate), then the requested ``max_tokens``; anything else is cheap.

    Examples:
        >>> policy = HybridPolicy(prompt_tokens_threshold=10)
        >>> choose_route(GenerateRequest.from_prompt("Hi"), policy)
        Route(target='preferred', reason='cheap')
        >>> choose_route(GenerateRequest.from_prompt("word " * 20), policy).reason
        'prompt_tokens>10'
        >>> choose_route(GenerateRequest.from_prompt("Hi", routing_hint="complex"), policy).reason
        'hint:complex'
        >>> choose_route(GenerateRequest.from_prompt("Hi"), policy, prompt_tokens=11).reason
        'prompt_tokens>10'
    """
    if request.routing_hint is not None:
        target: Target = "preferred" if request.routing_hint == "cheap" else "fallback"
        return Route(target=target, reason=f"hint:{request.routing_hint}")
    if policy.media_to_fallback and _has_media(request):
        return Route(target="fallback", reason="media")
    tokens = prompt_tokens if prompt_tokens is not None else estimate_prompt_tokens(request)
    if tokens > policy.prompt_tokens_threshold:
        return Route(target="fallback", reason=f"prompt_tokens>{policy.prompt_tokens_threshold}")
    if request.max_tokens is not None and request.max_tokens > policy.max_tokens_threshold:
        return Route(target="fallback", reason=f"max_tokens>{policy.max_tokens_threshold}")
    return Route(target="preferred", reason="cheap")


def decided_without_size(route: Route) -> bool:
    """Whether ``route`` was decided before the prompt's size was looked at (features, hint or media).

    Examples:
        >>> decided_without_size(Route(target="fallback", reason="media"))
        True
    """
    return route.exclusive or route.reason == "media" or route.reason.startswith("hint:")


def falls_back_on(error: BaseException) -> bool:
    """Whether the other backend should be tried after ``error`` (before any chunk was delivered).

    Examples:
        >>> from botticelli_error import BadRequestError, ServerUnavailableError
        >>> falls_back_on(ServerUnavailableError("overloaded")), falls_back_on(BadRequestError("bad"))
        (True, False)
    """
    return isinstance(error, _FALLBACK_ERRORS)


def counts_against_backend(error: BaseException) -> bool:
    """Whether ``error`` is a sign of an unhealthy backend, for its circuit breaker.

    An input the backend cannot take is a capability gap, not an outage, so it falls back
    without counting.

    Examples:
        >>> from botticelli_error import UnsupportedInputError, TransportError
        >>> counts_against_backend(TransportError("refused")), counts_against_backend(UnsupportedInputError("audio"))
        (True, False)
    """
    return falls_back_on(error) and not isinstance(error, UnsupportedInputError)
