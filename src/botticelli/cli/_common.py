"""What every command shares: loading the provider from the options, opening a client, printing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from botticelli.provider import ModelProvider
from botticelli_interface import GenerativeModel, SupportsAclose

__all__ = ["UsageError", "add_config_options", "emit_json", "open_client", "provider_from_args", "stdout"]


class UsageError(Exception):
    """A mistake in the command line itself; reported with exit status 2."""


def add_config_options(parser: argparse.ArgumentParser, *, provider: bool = True, model: bool = True) -> None:
    """``--config`` and, where they make sense, ``--provider`` and ``--model``."""
    parser.add_argument("--config", metavar="PATH", help="the configuration file (default: searched for)")
    if provider:
        parser.add_argument(
            "--provider",
            choices=("local", "gemini", "embedded", "hybrid"),
            help="override model.provider (and BOTTICELLI_PROVIDER)",
        )
    if model:
        parser.add_argument("--model", help="override the chosen backend's model")


def provider_from_args(args: argparse.Namespace) -> ModelProvider:
    """The provider the configuration describes, with the command line's overrides applied."""
    # Overrides apply before the settings are checked: --provider gemini must not fail on a missing local model.
    return ModelProvider.from_config(
        args.config, provider=getattr(args, "provider", None), model=getattr(args, "model", None)
    )


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
    """The current standard output (looked up each time, so captured output works in tests)."""
    return sys.stdout


def emit_json(value: Any) -> None:
    """One JSON document on a line of standard output."""
    out = stdout()
    out.write(json.dumps(value, ensure_ascii=False) + "\n")
    out.flush()
