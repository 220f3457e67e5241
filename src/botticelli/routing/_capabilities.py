"""What a router answers beyond generation: each member's health, the overall one, the models, closing."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

import anyio

from botticelli.routing._member import Member
from botticelli_core import HealthStatus, ModelInfo
from botticelli_error import BotticelliError
from botticelli_interface import GenerativeModel, SupportsAclose, SupportsHealth, SupportsListModels

__all__ = ["close_all", "health_of", "list_models_of", "member_health", "overall_health"]


async def health_of(model: GenerativeModel) -> HealthStatus:
    """``model``'s health; a model without a health check is assumed ready (and says so)."""
    if isinstance(model, SupportsHealth):
        return await model.health()
    return HealthStatus(ready=True, status="ok", detail="no health check; assumed ready")


async def member_health(members: Sequence[Member]) -> dict[str, HealthStatus]:
    """Each member's health by name, checked concurrently (one slow member does not delay the rest)."""
    results: dict[str, HealthStatus] = {}

    async def check(member: Member) -> None:
        results[member.name] = await health_of(member.model)

    async with anyio.create_task_group() as group:
        for member in members:
            group.start_soon(check, member)
    return {member.name: results[member.name] for member in members}


def overall_health(statuses: dict[str, HealthStatus], started: float) -> HealthStatus:
    """Ready when any member is: ``"ok"`` if all are, ``"degraded"`` if some are.

    Examples:
        >>> up, down = HealthStatus(ready=True, status="ok"), HealthStatus(ready=False, status="unreachable")
        >>> summary = overall_health({"a": up, "b": down}, time.monotonic())
        >>> summary.ready, summary.status, summary.detail
        (True, 'degraded', 'a: ok; b: unreachable')
    """
    ready = [s.ready for s in statuses.values()]
    if all(ready):
        status = "ok"
    elif any(ready):
        status = "degraded"
    else:
        status = next(iter(statuses.values())).status
    detail = "; ".join(f"{name}: {s.status}" + (f" ({s.detail})" if s.detail else "") for name, s in statuses.items())
    return HealthStatus(ready=any(ready), status=status, detail=detail, latency_s=time.monotonic() - started)


async def list_models_of(models: Sequence[GenerativeModel]) -> list[ModelInfo]:
    """The models of every member, in order, each listed once.

    A member that cannot list its models (it is down) is left out; if none can, the
    first member's error is raised.
    """
    found: dict[str, ModelInfo] = {}
    errors: list[BotticelliError] = []
    for model in models:
        if not isinstance(model, SupportsListModels):
            found.setdefault(model.model_name, ModelInfo(id=model.model_name, owned_by=model.provider_name))
            continue
        try:
            for info in await model.list_models():
                found.setdefault(info.id, info)
        except BotticelliError as exc:
            errors.append(exc)
    if not found and errors:
        raise errors[0]
    return list(found.values())


async def close_all(models: Sequence[GenerativeModel]) -> None:
    """Close every member (the later ones even if closing an earlier one fails); re-raise the first error."""
    closers: list[Callable[[], Awaitable[None]]] = [m.aclose for m in models if isinstance(m, SupportsAclose)]
    error: BaseException | None = None
    with anyio.CancelScope(shield=True):
        for close in closers:
            try:
                await close()
            except Exception as exc:  # noqa: BLE001 - the others must still be closed; re-raised below
                error = error or exc
    if error is not None:
        raise error
