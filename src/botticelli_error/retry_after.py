"""How long a server asked us to wait: ``retry-after-ms``, ``Retry-After`` (seconds or an HTTP date).

A wait is always a finite number of seconds in ``[0, MAX_RETRY_AFTER]`` or ``None``:
``nan``, ``inf`` and other text that is not a plain decimal number is ignored, a
negative wait is no wait, and a huge one is capped (it still exceeds any ``max_retry_after``, so the
caller gives up at once rather than sleeping).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

__all__ = ["MAX_RETRY_AFTER", "parse_retry_after", "wait_seconds"]

MAX_RETRY_AFTER = 86_400.0
"""The longest wait a server can ask for, in seconds (one day)."""

# Digits only: float() would also take "nan", "inf", "1e999" and "1_0".
_NUMBER = re.compile(r"^\s*(-?)(\d+(?:\.\d*)?|\.\d+)\s*$")


def wait_seconds(value: float | None) -> float | None:
    """A wait made safe to sleep on: ``None`` for ``nan``, else clamped to ``[0, MAX_RETRY_AFTER]``.

    Examples:
        >>> wait_seconds(float("nan")), wait_seconds(float("inf")), wait_seconds(-2.0), wait_seconds(1e300)
        (None, 86400.0, 0.0, 86400.0)
    """
    if value is None or math.isnan(value):
        return None
    return min(max(value, 0.0), MAX_RETRY_AFTER)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After``; ``None`` when neither says.

    Examples:
        >>> parse_retry_after({"retry-after": "7"}), parse_retry_after({"retry-after-ms": "1500"})
        (7.0, 1.5)
        >>> parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
        10.0
        >>> parse_retry_after({"retry-after": "soon"}), parse_retry_after({"retry-after-ms": "nan"})
        (None, None)
    """
    if (ms := _number(headers.get("retry-after-ms"))) is not None:
        return wait_seconds(ms / 1000.0)
    value = headers.get("retry-after")
    if not value:
        return None
    if (seconds := _number(value)) is not None:
        return wait_seconds(seconds)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return wait_seconds(when - (time.time() if now is None else now))


def _number(text: str | None) -> float | None:
    if not text or not (match := _NUMBER.match(text)):
        return None
    magnitude = float(match.group(2))  # hundreds of digits give inf: a very long wait, capped later
    return -magnitude if match.group(1) else magnitude
