"""What every command shares: loading the provider from the options, opening a client, printing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from botticelli.cli._output import GuardedOutput
from botticelli.config import PROVIDERS, load_settings
from botticelli.provider import ModelProvider
from botticelli_interface import GenerativeModel, SupportsAclose

__all__ = [
    "UNNAMED_MODEL",
    "UsageError",
    "add_config_options",
    "emit_json",
    "open_client",
    "provider_from_args",
    "stdout",
]

UNNAMED_MODEL = "default"
"""The local backend's model when a command that never sends one (``models``, ``health``) is given none."""


class UsageError(Exception):
    """A mistake in the command line itself; reported with exit status 2."""


def add_config_options(parser: argparse.ArgumentParser, *, provider: bool = True, model: bool = True) -> None:
    """``--config`` and, where they make sense, ``--provider`` and ``--model``."""
    parser.add_argument("--config", metavar="PATH", help="the configuration file (default: searched for)")
    if provider:
        parser.add_argument(
            "--provider",
            # The schema's own list, so a provider ModelProvider gains is offered here at once.
            choices=PROVIDERS,
            help="override model.provider (and BOTTICELLI_PROVIDER)",
        )
    if model:
        parser.add_argument("--model", help="override the chosen backend's model")


def provider_from_args(args: argparse.Namespace, *, needs_model: bool = True) -> ModelProvider:
    """The provider the configuration describes, with the command line's overrides applied.

    Args:
        args: The parsed command line (``config`` and, when present, ``provider`` and ``model``).
        needs_model: ``False`` for commands that never name a model to a local server
            (``models``, ``health``): a local backend without ``model`` then gets
            :data:`UNNAMED_MODEL` instead of failing, so a base URL alone is enough.
    """
    provider, model = getattr(args, "provider", None), getattr(args, "model", None)
    if needs_model:
        # Overrides apply before the settings are checked: --provider gemini must not fail on a missing local model.
        return ModelProvider.from_config(args.config, provider=provider, model=model)
    settings = load_settings(args.config)
    if provider is not None:
        settings = settings.with_values({"model.provider": provider}, origin="command line")
    chosen, hybrid = settings.model.provider, settings.model.hybrid
    if chosen == "hybrid":
        backends: tuple[str, ...] = (hybrid.prefer, hybrid.fallback)
    elif chosen == "fallback":
        backends = settings.model.fallback.backends()
    else:
        backends = (chosen,)
    if "local" in backends and settings.model.local.model is None:
        # A --model given below still replaces this name.
        settings = settings.with_values({"model.local.model": UNNAMED_MODEL}, origin="not needed by this command")
    return ModelProvider(settings).with_overrides(model=model)


@asynccontextmanager
async def open_client(provider: ModelProvider) -> AsyncIterator[GenerativeModel]:
    """A client of the chosen provider, closed on the way out whatever happens."""
    client = provider.create_client()
    try:
        yield client
    finally:
        if isinstance(client, SupportsAclose):
            with anyio.CancelScope(shield=True):
                await client.aclose()


def stdout() -> Any:
    """The current standard output (looked up each time, so captured output works in tests).

    A failed write raises :class:`~botticelli.cli._output.OutputError`, which ``main`` turns
    into a quiet exit (closed pipe) or one line on standard error (full disk).
    """
    return GuardedOutput(sys.stdout)


def emit_json(value: Any) -> None:
    """One JSON document on a line of standard output."""
    out = stdout()
    out.write(json.dumps(value, ensure_ascii=False) + "\n")
    out.flush()
