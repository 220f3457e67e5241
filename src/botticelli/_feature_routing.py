"""Which hybrid backend can serve a request's optional features (tools, a schema, thinking...).

A request that uses a feature only one backend honours goes to that backend, whatever its
size or hint, and does not fall back to the other one (which would refuse it). A request
that needs something neither backend honours is refused before anything is sent. A
backend that declares no :attr:`~botticelli_interface.SupportsFeatures.supported_features`
is taken to be able to try (see :func:`~botticelli_interface.declared_features`).
"""

from __future__ import annotations

from botticelli._routing import FEATURES_REASON, Route
from botticelli_core import GenerateRequest
from botticelli_error import UnsupportedInputError
from botticelli_interface import Feature, GenerativeModel, declared_features, features_of

__all__ = ["feature_route", "union_of_features"]

_PROVIDER = "hybrid"


def feature_route(request: GenerateRequest, preferred: GenerativeModel, fallback: GenerativeModel) -> Route | None:
    """The one backend the request's features allow, or ``None`` when both (or it needs none) would do.

    Raises:
        UnsupportedInputError: Neither backend honours every feature the request uses;
            ``input_type`` names the first feature the better-equipped backend lacks.

    Examples:
        >>> from types import SimpleNamespace
        >>> from botticelli_core import ToolDefinition
        >>> local = SimpleNamespace(provider_name="local", supported_features=frozenset({"output_schema"}))
        >>> gemini = SimpleNamespace(provider_name="gemini", supported_features=frozenset({"tools", "output_schema"}))
        >>> request = GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")])
        >>> feature_route(request, local, gemini)
        Route(target='fallback', reason='features:tools')
        >>> feature_route(GenerateRequest.from_prompt("Hi", output_schema={"type": "object"}), local, gemini) is None
        True
    """
    needed = features_of(request)
    if not needed:
        return None
    preferred_misses = needed - declared_features(preferred)
    fallback_misses = needed - declared_features(fallback)
    reason = f"{FEATURES_REASON}{','.join(sorted(needed))}"
    if not preferred_misses and not fallback_misses:
        return None
    if not preferred_misses:
        return Route(target="preferred", reason=reason)
    if not fallback_misses:
        return Route(target="fallback", reason=reason)
    closer = preferred_misses if len(preferred_misses) <= len(fallback_misses) else fallback_misses
    missing = sorted(closer)
    raise UnsupportedInputError(
        f"neither hybrid backend honours everything the request uses ({', '.join(sorted(needed))}): "
        f"{preferred.provider_name} lacks {', '.join(sorted(preferred_misses))}, "
        f"{fallback.provider_name} lacks {', '.join(sorted(fallback_misses))}",
        provider=_PROVIDER,
        input_type=missing[0],
    )


def union_of_features(preferred: GenerativeModel, fallback: GenerativeModel) -> frozenset[Feature]:
    """What the hybrid honours: whatever either backend does."""
    return declared_features(preferred) | declared_features(fallback)
