"""``botticelli serve``: run the ``[server]`` of the configuration in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
from typing import Any

import anyio

from botticelli.cli._common import stdout
from botticelli.config import config_error, load_settings
from botticelli_error import ConfigurationError, ServerUnavailableError

__all__ = ["add_parser", "run"]

_WATCH_INTERVAL = 0.5
"""Seconds between checks that the server is still running."""


def add_parser(commands: Any) -> None:
    """Register ``serve`` on the subcommand parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="start the configured inference server and keep it running until Ctrl-C",
        description=(
            "Start the inference server described by the [server] table (preset or command, model_path, "
            "port, alias, extra_args), wait until it is ready, and stop it cleanly on Ctrl-C."
        ),
    )
    parser.add_argument("--config", metavar="PATH", help="the configuration file (default: searched for)")
    parser.add_argument("--port", type=int, help="override server.port")
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    """Start the server, report where it listens, and watch it until interrupted."""
    from botticelli_server.launcher import InferenceServer  # noqa: PLC0415 - only this command needs it

    settings = load_settings(args.config)
    section = settings.server
    if section is None:
        where = str(settings.source) if settings.source else "no configuration file was found"
        raise ConfigurationError(
            f"{where}: the [server] table is missing; add one with preset (e.g. 'llama-cpp-python') and model_path"
        )
    command: str | list[str] = section.preset if section.preset is not None else list(section.command or ())
    key = "server.preset" if section.preset is not None else "server.command"
    try:
        server = InferenceServer(
            command,
            model=section.model_path,
            model_name=section.alias,
            host=section.host,
            port=args.port if args.port is not None else section.port,
            extra_args=section.extra_args,
            startup_timeout=section.startup_timeout,
        )
    except ConfigurationError as exc:
        raise config_error(settings, key, f"cannot be used: {exc.message}") from None
    async with server:
        out = stdout()
        out.write(
            f"serving {server.model_name!r} at {server.base_url} (pid {server.pid}); press Ctrl-C to stop\n"
            f"clients: INFERENCE_SERVER_BASE_URL={server.base_url} INFERENCE_SERVER_MODEL={server.model_name}\n"
        )
        out.flush()
        # The process is a child we can only poll; there is no event to wait on.
        while (code := server.returncode) is None:  # noqa: ASYNC110
            await anyio.sleep(_WATCH_INTERVAL)
        raise ServerUnavailableError(
            f"the inference server exited with status {code}; last output:\n{server.output_tail()}",
            provider="local",
            retryable=False,
        )
