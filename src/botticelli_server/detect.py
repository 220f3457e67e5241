"""Asking a server once which dialect it speaks, for ``ServerConfig(dialect="auto")``.

The rule itself is :func:`botticelli_server.dialect.detect_dialect`; this module does the
two ``GET`` requests it reads and logs the answer as ``botticelli.dialect``.
"""

from __future__ import annotations

import json
import logging

from botticelli_error import BotticelliError, redact_url
from botticelli_interface.request_log import log_event
from botticelli_server.config import PROVIDER, DialectName
from botticelli_server.dialect import detect_dialect
from botticelli_transport import HttpTransport

__all__ = ["probe_dialect"]

_PROBE_TIMEOUT = 5.0


async def probe_dialect(transport: HttpTransport, base_url: str) -> DialectName | None:
    """The dialect of the server behind ``transport``; ``None`` when it could not be reached.

    ``GET /v1/models`` decides unless it names no server; then ``GET /api/version``
    tells Ollama apart from the plain protocol. A server that answers ``/v1/models``
    with an error status still answered: its dialect is decided (``"openai"`` at worst)
    so the client does not ask again on every request.
    """
    try:
        models = await _get_json(transport, "/v1/models")
    except BotticelliError as exc:
        if exc.status_code is None:
            return None  # unreachable: the request that follows will say so; ask again next time
        models = None
    name = detect_dialect(models)
    if name == "openai":
        try:
            version = await _get_json(transport, "/api/version")
        except BotticelliError:
            version = None
        name = detect_dialect(models, ollama_version=version)
    log_event(logging.INFO, "botticelli.dialect", provider=PROVIDER, base_url=redact_url(base_url), dialect=name)
    return name


async def _get_json(transport: HttpTransport, path: str) -> object:
    result = await transport.request("GET", path, retry=False, total_timeout=_PROBE_TIMEOUT)
    try:
        parsed: object = json.loads(result.content)
    except (ValueError, RecursionError):
        return None
    return parsed
