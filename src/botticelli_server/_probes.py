"""The calls that ask a server about itself rather than generate: its models and its health."""

from __future__ import annotations

import time
from typing import Any

from botticelli_core import HealthStatus, ModelInfo
from botticelli_core._base import parse_wire
from botticelli_error import BotticelliError
from botticelli_server.config import PROVIDER
from botticelli_transport import HttpTransport

__all__ = ["health", "list_models"]

_MODELS_PATH = "/v1/models"
_HEALTH_PATH = "/health"
_HEALTH_TIMEOUT = 5.0


async def list_models(transport: HttpTransport) -> list[ModelInfo]:
    """``GET /v1/models``: the models the server offers."""
    from botticelli_server.response import ModelList  # noqa: PLC0415

    result = await transport.request("GET", _MODELS_PATH)
    listing = parse_wire(ModelList, result.content, provider=PROVIDER, what="model list")
    return [_model_info(entry.model_dump()) for entry in listing.data]


async def health(transport: HttpTransport) -> HealthStatus:
    """``GET /health``, or ``GET /v1/models`` where there is no such route; never raises for a down server."""
    started = time.monotonic()
    try:
        await transport.request("GET", _HEALTH_PATH, retry=False, total_timeout=_HEALTH_TIMEOUT)
    except BotticelliError as exc:
        if exc.status_code in (404, 405):
            return await _health_from_models(transport, started)
        return _unhealthy(exc, started)
    return HealthStatus(ready=True, status="ok", latency_s=time.monotonic() - started)


async def _health_from_models(transport: HttpTransport, started: float) -> HealthStatus:
    try:
        await transport.request("GET", _MODELS_PATH, retry=False, total_timeout=_HEALTH_TIMEOUT)
    except BotticelliError as exc:
        return _unhealthy(exc, started)
    return HealthStatus(ready=True, status="ok", latency_s=time.monotonic() - started)


def _model_info(entry: dict[str, Any]) -> ModelInfo:
    meta = entry.get("meta")
    context = entry.get("max_model_len") or (meta.get("n_ctx_train") if isinstance(meta, dict) else None)
    status = entry.get("status")
    return ModelInfo(
        id=entry["id"],
        owned_by=entry.get("owned_by"),
        status=status if isinstance(status, str) else None,
        context_length=context if isinstance(context, int) else None,
        details={k: v for k, v in entry.items() if k not in ("id", "owned_by", "object")},
    )


def _unhealthy(error: BotticelliError, started: float) -> HealthStatus:
    latency = time.monotonic() - started
    if error.status_code == 503:
        return HealthStatus(ready=False, status="loading", detail=error.server_message, latency_s=latency)
    if error.status_code is None:
        return HealthStatus(ready=False, status="unreachable", detail=error.message, latency_s=latency)
    return HealthStatus(ready=False, status="unavailable", detail=error.message, latency_s=latency)
