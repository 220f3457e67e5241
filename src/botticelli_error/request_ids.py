"""Which response headers carry the server's request id, in the order they are trusted."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["REQUEST_ID_HEADERS", "request_id"]

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")
"""Lower-case names: the server's own id first, then those of proxies in front of it."""


def request_id(headers: Mapping[str, str]) -> str | None:
    """The request id a reply carries, if any (``headers`` must look names up case-insensitively or in lower case).

    Examples:
        >>> request_id({"cf-ray": "8c1f", "x-request-id": "req-1"}), request_id({})
        ('req-1', None)
    """
    for name in REQUEST_ID_HEADERS:
        if value := headers.get(name):
            return value
    return None
