"""Routing over several models: fallback chains and replica pools, on one shared core.

The core (``_chain``) walks members in order, each behind its own circuit breaker
(:class:`~botticelli._breaker.CircuitBreaker`), falling back on the errors a rule allows and,
for streams, only before the first chunk. :class:`~botticelli.hybrid.HybridModel` is a
two-member walk in the order its routing policy picks.
"""

from __future__ import annotations

from botticelli.routing._member import MemberStats

__all__ = ["MemberStats"]
