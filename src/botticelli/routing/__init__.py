"""Routing over several models: fallback chains and replica pools, on one shared core.

The core (``_chain``) walks members in order, each behind its own circuit breaker
(:class:`~botticelli._breaker.CircuitBreaker`), falling back on the errors a rule allows and,
for streams, only before the first chunk. :class:`~botticelli.hybrid.HybridModel` is a
two-member walk in the order its routing policy picks. See docs/routing.md for when to use which.
"""

from __future__ import annotations

from botticelli.routing._member import MemberStats
from botticelli.routing.fallback import FallbackModel, default_fallback_on
from botticelli.routing.pool import Balance, ReplicaPool

__all__ = ["Balance", "FallbackModel", "MemberStats", "ReplicaPool", "default_fallback_on"]
