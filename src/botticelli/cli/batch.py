"""``botticelli generate --batch in.jsonl --out out.jsonl``: many prompts, resumable.

The input is read by :func:`botticelli.batch.parse_batch`, the output written by
:mod:`botticelli.cli._batch_io`. Requests run through :func:`botticelli.generate_many` on
the configured provider (its retries, rate limits and breakers apply); each result is
appended to the output file as one line, written whole and flushed as it completes, so an
interrupted run loses only what was in flight, and says how far it got.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

import anyio

from botticelli.batch import BatchItem, generate_many, parse_batch
from botticelli.cli._batch_io import error_line, read_finished, result_line
from botticelli.cli._common import UsageError, open_client, provider_from_args
from botticelli.cli._progress import Progress

__all__ = ["DEFAULT_CONCURRENCY", "run_batch"]

DEFAULT_CONCURRENCY = 4
"""Requests in flight at once unless ``--concurrency`` says otherwise."""


async def run_batch(args: argparse.Namespace, defaults: dict[str, Any]) -> int:
    """Answer every line of ``args.batch`` not yet answered in ``args.out``; 1 if any failed or was bad."""
    if args.out is None:
        raise UsageError("--batch needs --out, the file the answers are appended to")
    if args.prompt is not None or args.stream:
        raise UsageError("--batch takes its prompts from the file: give no prompt and no --stream")
    source, target = Path(args.batch), Path(args.out)
    batch = parse_batch(_read_input(source), defaults=defaults)
    items, bad = batch.items, batch.bad
    for line in bad:
        _say(f"botticelli: {source.name} line {line.line}: {line.reason}")
    try:
        finished = read_finished(target)
    except OSError as exc:
        raise UsageError(f"cannot read the answers already in {target}: {exc.strerror or exc}") from None
    pending = [item for item in items if item.id not in finished]
    skipped = len(items) - len(pending)
    provider = provider_from_args(args)
    progress = Progress(len(pending))
    interrupted = False
    try:
        with _append(target) as out:
            async with (
                open_client(provider) as client,
                generate_many(
                    client, (item.request for item in pending), concurrency=args.concurrency, ordered=False
                ) as results,
            ):
                async for result in results:
                    item = pending[result.index]
                    out.write(_line(item, result.response, result.error))
                    out.flush()
                    usage = result.response.usage if result.response is not None else None
                    progress.update(failed=not result.ok, tokens=usage.output_tokens if usage else 0)
    except (KeyboardInterrupt, anyio.get_cancelled_exc_class()):
        # Ctrl-C reaches this task as a cancellation (asyncio.run turns SIGINT into one, and
        # raises KeyboardInterrupt once the task has unwound); main() then exits 130.
        interrupted = True
        raise
    finally:
        progress.close()  # first, so the message starts on a line of its own
        if interrupted:
            _say(_interrupted(skipped + progress.done - progress.failed, progress.failed, len(items), target))
    _say(
        f"botticelli: {progress.done - progress.failed} answered, {progress.failed} failed, "
        f"{skipped} already in {target.name}, {len(bad)} bad lines"
    )
    return 1 if progress.failed or bad else 0


def _interrupted(answered: int, failed: int, total: int, target: Path) -> str:
    r"""What an interrupted run says: how far it got, and that running it again goes on from there.

    Examples:
        >>> print(_interrupted(35, 2, 300, Path("out.jsonl")).replace("; ", ";\n"))
        botticelli: interrupted with 35 of 300 lines answered in out.jsonl (2 failed);
        run the same command again to resume with the other 265
    """
    failures = f" ({failed} failed)" if failed else ""
    return (
        f"botticelli: interrupted with {answered} of {total} lines answered in {target.name}{failures}; "
        f"run the same command again to resume with the other {total - answered}"
    )


def _line(item: BatchItem, response: Any, error: Any) -> str:
    if error is not None:
        return error_line(item, error)
    usage = response.usage.model_dump(exclude_none=True) if response.usage is not None else None
    return result_line(item, response.text, response.finish_reason.value, usage)


def _read_input(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")  # a byte order mark is parse_batch's to drop
    except FileNotFoundError:
        raise UsageError(f"the batch file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"the batch file {path} is not valid UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"cannot read the batch file {path}: {exc.strerror or exc}") from None


def _append(path: Path) -> TextIO:
    try:
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot append to {path}: {exc.strerror or exc}") from None


def _say(line: str) -> None:
    if sys.stderr is not None:
        print(line, file=sys.stderr, flush=True)
