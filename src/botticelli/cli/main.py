"""The entry point: parse the command line, run the command, turn failures into exit codes.

Expected failures print one line on standard error (the error's type, its provider and
its message) and no traceback: 2 for usage and configuration mistakes, 1 for anything that
went wrong at run time. Ctrl-C exits 130 (a ``--batch`` run first says how far it got).

Standard output failing is handled as other command-line tools do: a reader that closed
the pipe (``botticelli generate ... | head -c 5``) ends the command quietly with status
141, what a shell reports for a tool that SIGPIPE stopped, after the command's own
clean-up (closing clients, stopping a server) has run. Any other write error (a full
disk) is one line, ``botticelli: error: cannot write to standard output: ...``, and
status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn

from botticelli.cli import bench, embed, generate, info, pull, serve
from botticelli.cli._common import UsageError, stdout
from botticelli.cli._output import OutputError, silence_stdout
from botticelli_error import BotticelliError, ConfigurationError, UnsupportedInputError
from botticelli_interface.request_log import LOGGER_NAME

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

# Events shown without --verbose: mistakes in the user's own configuration.
_CONFIG_EVENTS = "botticelli.config."

Handler = Callable[[argparse.Namespace], Awaitable[int]]

_VERBOSE_HELP = (
    "log requests and routing decisions to standard error, and the embedded engine's loading steps; "
    "with serve, pass the server's own output through to standard error"
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake raises instead of exiting, so main() owns every exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().rstrip()}")


def build_parser() -> argparse.ArgumentParser:
    """The ``botticelli`` argument parser with every subcommand."""
    parser = _Parser(
        prog="botticelli",
        description="Talk to local inference servers, Gemini or an in-process engine through one interface.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help=_VERBOSE_HELP)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    generate.add_parser(commands)
    embed.add_parsers(commands)
    info.add_parsers(commands)
    serve.add_parser(commands)
    pull.add_parser(commands)
    bench.add_parser(commands)
    demo = commands.add_parser("demo", help="stream from a tiny model written on the spot; needs no server or key")
    demo.add_argument(
        "--engine",
        choices=("llama-cpp", "embedded"),
        help="the engine to use (default: llama.cpp's server if installed, else mistral.rs)",
    )
    demo.add_argument("--max-tokens", type=int, default=48, metavar="N", help="tokens to generate (default 48)")
    demo.set_defaults(handler=_run_demo)
    for command in commands.choices.values():
        # After the command too (`botticelli serve -v`), where people put it. SUPPRESS: a
        # subcommand's default would otherwise overwrite a -v given before the command.
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE_HELP)
    return parser


async def _run_demo(args: argparse.Namespace) -> int:
    from botticelli.demo import run_demo  # noqa: PLC0415 - only this command needs it

    await run_demo(engine=args.engine, max_tokens=args.max_tokens, out=stdout())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status (the console script passes it to ``sys.exit``).

    Args:
        argv: The arguments after the program name; ``sys.argv[1:]`` when omitted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        _say(f"botticelli: error: {exc}")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None and not args.version:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.version:
            stdout().write(f"botticelli {_version()}\n")
            code = EXIT_OK
        else:
            assert handler is not None  # checked above
            if args.verbose:
                # The embedded engine is quiet unless RUST_LOG asks otherwise; it reads it when first imported.
                os.environ.setdefault("RUST_LOG", "info")
            with _logging_to_stderr(args.verbose):
                code = _run(handler, args)
        # Inside the guard: text still buffered fails here, not as "Exception ignored" at exit.
        stdout().flush()
    except OutputError as exc:
        # Standard output is unusable either way; what is still buffered must not fail again at exit.
        silence_stdout()
        if exc.broken_pipe:
            return EXIT_BROKEN_PIPE
        _say(f"botticelli: error: {exc}")
        return EXIT_FAILURE
    return code


def _run(handler: Handler, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_call(handler, args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except UsageError as exc:
        _say(f"botticelli: error: {exc}")
        return EXIT_USAGE
    except (ConfigurationError, UnsupportedInputError) as exc:
        _report(exc, args.verbose)
        return EXIT_USAGE
    except BotticelliError as exc:
        # A command whose errors need their detail to be understood (serve) shows it without -v.
        _report(exc, args.verbose or getattr(args, "full_errors", False))
        return EXIT_FAILURE


async def _call(handler: Handler, args: argparse.Namespace) -> int:
    return await handler(args)


def _report(exc: BotticelliError, verbose: bool) -> None:
    text = str(exc)
    prefix = f"[{exc.provider}] "
    text = text.removeprefix(prefix)
    first, _, rest = text.partition("\n")
    _say(f"botticelli: {type(exc).__name__} ({exc.provider}): {first}")
    if rest and verbose:
        _say(rest)


def _say(line: str) -> None:
    # Standard error closed (None when descriptor 2 was closed at start; print would then
    # fall back to standard output) or failing: there is nobody left to tell.
    if sys.stderr is None:
        return
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)


class _logging_to_stderr:
    """Show configuration warnings on standard error; with ``--verbose``, the whole log (requests, routing).

    Without ``--verbose`` a failed request is reported once, by the error line, not also by its log event.
    """

    def __init__(self, verbose: bool) -> None:
        self._level = logging.INFO if verbose else logging.WARNING
        self._logger = logging.getLogger(LOGGER_NAME)
        self._handler = logging.StreamHandler(sys.stderr)
        self._handler.setFormatter(logging.Formatter("botticelli: %(message)s"))
        if not verbose:
            self._handler.addFilter(lambda record: _CONFIG_EVENTS in record.getMessage())
        self._saved = self._logger.level

    def __enter__(self) -> None:
        self._logger.addHandler(self._handler)
        self._logger.setLevel(self._level)

    def __exit__(self, *exc_info: Any) -> None:
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._saved)


def _version() -> str:
    try:
        return version("botticelli")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
        return "unknown"
