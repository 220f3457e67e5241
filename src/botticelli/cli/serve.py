"""``botticelli serve``: run the ``[server]`` of the configuration in the foreground until Ctrl-C.

The server child never outlives the command: Ctrl-C (exit 130), SIGTERM (exit 143),
SIGHUP (exit 129, a closed terminal) and SIGQUIT (exit 131, what Ctrl-backslash sends)
all stop it before ``serve`` exits. (SIGKILL cannot be caught: then the server is left
running.) A failure to start prints the server's last output lines, with or without
``-v``: they hold the cause (a missing model file, a port in use). A server that exits
while serving is reported with the lines that explain the exit: the last ones, and earlier
ones that mention an error (see :meth:`~botticelli_server.InferenceServer.output_excerpt`).

The server's own log (a traceback behind an HTTP 500, say) is kept, not shown; ``-v``
passes it through to standard error as it comes, line by line, beside botticelli's own
log lines (which start with ``botticelli:``). Standard output keeps only the two lines
that say where the server listens.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import TYPE_CHECKING, Any

import anyio

from botticelli._server_section import server_from_section, server_section
from botticelli.cli._common import stdout
from botticelli.config import config_error, load_settings
from botticelli_core import ModelRef
from botticelli_error import ConfigurationError, ServerUnavailableError

if TYPE_CHECKING:
    from botticelli_server.launcher import InferenceServer

__all__ = ["STOP_SIGNALS", "add_parser", "run"]

_WATCH_INTERVAL = 0.5
"""Seconds between checks that the server is still running."""

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
"""Signals that stop the server and then ``serve``, with exit status 128 + the signal's number."""


def add_parser(commands: Any) -> None:
    """Register ``serve`` on the subcommand parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="start the configured inference server and keep it running until Ctrl-C",
        description=(
            "Start the inference server described by the [server] table (preset or command, model or "
            "model_path, port, alias, adapters, extra_args), wait until it is ready, and stop it cleanly on Ctrl-C."
        ),
    )
    parser.add_argument("--config", metavar="PATH", help="the configuration file (default: searched for)")
    parser.add_argument("--port", type=int, help="override server.port")
    parser.add_argument(
        "--model",
        metavar="REF",
        help="override server.model_path: a path, hf:org/repo/file.gguf[@revision] (downloaded first) or org/repo",
    )
    # A failed start is explained by the server's own last words, so they are shown without -v too.
    parser.set_defaults(handler=run, full_errors=True)


async def run(args: argparse.Namespace) -> int:
    """Start the server, report where it listens, and watch it until interrupted."""
    from botticelli_server.hub import ensure_model  # noqa: PLC0415 - only this command needs it

    settings = load_settings(args.config)
    section = server_section(settings)
    model = ModelRef.parse(args.model) if args.model is not None else section.model_ref
    key = "server.preset" if section.preset is not None else "server.command"

    def build(model: ModelRef | None) -> InferenceServer:
        try:
            return server_from_section(section, port=args.port, model=model)
        except ConfigurationError as exc:
            if args.model is not None:
                raise ConfigurationError(f"--model {args.model}: {exc.message}") from None
            raise config_error(settings, key, f"cannot be used: {exc.message}") from None

    server = build(model)  # a mistake in the table is reported before any download
    if model is not None and model.needs_download:
        # Fetched here, before the signal handlers and the server: Ctrl-C then stops the transfer
        # itself, and a failed download is reported without a server ever starting.
        server = build(ModelRef.parse(ensure_model(model)))
    if getattr(args, "verbose", False):
        # Standard error, not output: output holds the "serving" lines a script may read.
        server.echo_output = sys.stderr
    received: list[signal.Signals] = []
    with anyio.CancelScope() as scope, _stopping_on(STOP_SIGNALS, scope, received):
        await _serve(server)
    return 128 + received[0] if received else 0


class _stopping_on:
    """Cancel ``scope`` on any of ``signals`` (recording which), so ``async with server`` stops the child.

    Without a handler, SIGTERM would end this process at once and leave the server, which
    runs in its own session, orphaned on its port.
    """

    def __init__(self, signals: tuple[signal.Signals, ...], scope: anyio.CancelScope, received: list[signal.Signals]):
        self._signals = signals
        self._scope = scope
        self._received = received
        self._loop = asyncio.get_running_loop()

    def _on_signal(self, signum: signal.Signals) -> None:
        self._received.append(signum)
        self._scope.cancel()

    def __enter__(self) -> None:
        for signum in self._signals:
            self._loop.add_signal_handler(signum, self._on_signal, signum)

    def __exit__(self, *exc_info: object) -> None:
        for signum in self._signals:
            self._loop.remove_signal_handler(signum)


async def _serve(server: InferenceServer) -> None:
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
        # Reap the group and drain the pipe first, so the excerpt holds the server's last words.
        await server.stop()
        raise ServerUnavailableError(
            f"the inference server exited with status {code}; {server.output_excerpt()}",
            provider="local",
            retryable=False,
        )
