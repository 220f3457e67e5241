"""``botticelli models`` and ``botticelli health``: what a backend serves, and whether it is ready."""

from __future__ import annotations

import argparse
from typing import Any

from botticelli.cli._common import add_config_options, emit_json, open_client, provider_from_args, stdout
from botticelli.cli.pull import run_local_models
from botticelli.hybrid import HybridModel
from botticelli.routing import FallbackModel, ReplicaPool
from botticelli_core import HealthStatus
from botticelli_error import ConfigurationError
from botticelli_interface import GenerativeModel, SupportsHealth, SupportsListModels

__all__ = ["add_parsers", "run_health", "run_models"]


def add_parsers(commands: Any) -> None:
    """Register ``models`` and ``health`` on the subcommand parsers."""
    models = commands.add_parser(
        "models", help="list the models the backend serves; a local server needs only its base URL"
    )
    models.add_argument("--json", action="store_true", help="machine output")
    models.add_argument(
        "--local", action="store_true", help="list the model files in the Hugging Face cache instead (no backend)"
    )
    add_config_options(models)
    models.set_defaults(handler=run_models)

    health = commands.add_parser(
        "health",
        help="check whether the backend is ready (exit 1 if not); spends no tokens; a local server needs only its URL",
    )
    health.add_argument("--json", action="store_true", help="machine output")
    add_config_options(health)
    health.set_defaults(handler=run_health)


async def run_models(args: argparse.Namespace) -> int:
    """Print one model per line: id, owner, status (with ``--local``: the cached model files)."""
    if args.local:
        return await run_local_models(args)
    provider = provider_from_args(args, needs_model=False)
    async with open_client(provider) as client:
        if not isinstance(client, SupportsListModels):
            raise ConfigurationError(f"the {client.provider_name} backend cannot list its models")
        models = await client.list_models()
    if args.json:
        emit_json([m.model_dump(mode="json", exclude_none=True) for m in models])
        return 0
    out = stdout()
    for info in models:
        extras = [part for part in (info.owned_by, info.status) if part]
        out.write(info.id + (f"  ({', '.join(extras)})" if extras else "") + "\n")
    return 0


async def run_health(args: argparse.Namespace) -> int:
    """Print readiness (of each backend, member or replica for a client over several); exit 1 when not ready."""
    provider = provider_from_args(args, needs_model=False)
    async with open_client(provider) as client:
        if not isinstance(client, SupportsHealth):
            raise ConfigurationError(f"the {client.provider_name} backend has no health check")
        overall = await client.health()
        parts = await _parts(client)
        several = parts is not None
        if parts is None:
            parts = {client.provider_name: overall}
    if args.json:
        emit_json(
            {
                "provider": provider.provider_name,
                **overall.model_dump(mode="json"),
                "backends": {name: s.model_dump(mode="json") for name, s in parts.items()},
            }
        )
    else:
        out = stdout()
        for name, status in parts.items():
            out.write(f"{name}: {_describe(status)}\n")
        if several:
            out.write(f"{provider.provider_name}: {overall.status}\n")
    return 0 if overall.ready else 1


async def _parts(client: GenerativeModel) -> dict[str, HealthStatus] | None:
    """Each backend's, member's or replica's health, for a client over several; ``None`` for one backend."""
    if isinstance(client, HybridModel):
        return await client.backend_health()
    if isinstance(client, FallbackModel):
        return await client.member_health()
    if isinstance(client, ReplicaPool):
        return await client.replica_health()
    return None


def _describe(status: HealthStatus) -> str:
    text = status.status if status.ready else f"not ready ({status.status})"
    if status.latency_s is not None:
        text += f" in {status.latency_s * 1000:.0f} ms"
    if status.detail and not status.ready:
        text += f": {status.detail}"
    return text
