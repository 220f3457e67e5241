"""``botticelli pull REF`` and ``botticelli models --local``: fetch a model into the Hugging Face cache, list it.

``pull`` prints the file's local path on standard output (so ``MODEL=$(botticelli pull ...)``
works) and draws a progress bar on standard error only when that is a terminal.
"""

from __future__ import annotations

import argparse
from typing import Any

import anyio

from botticelli.cli._common import emit_json, stdout

__all__ = ["add_parser", "human_size", "run_local_models", "run_pull"]


def add_parser(commands: Any) -> None:
    """Register ``pull`` on the subcommand parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "pull",
        help="download a model file (hf:org/repo/file.gguf[@revision]) into the Hugging Face cache",
        description=(
            "Fetch one model file into the Hugging Face cache (HF_HOME, HF_HUB_CACHE), resuming a transfer "
            "that broke off and checking its SHA-256, then print its local path. Honours HF_ENDPOINT, "
            "HF_TOKEN and HF_HUB_OFFLINE."
        ),
    )
    parser.add_argument("ref", metavar="REF", help="the model reference, e.g. hf:org/repo/model.Q4_K_M.gguf@main")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="always draw a progress bar"
    )
    shown.add_argument("--no-progress", dest="progress", action="store_false", help="never draw a progress bar")
    parser.set_defaults(handler=run_pull)


async def run_pull(args: argparse.Namespace) -> int:
    """Download the file (unless cached) and print its path."""
    from botticelli_server.hub import ensure_model  # noqa: PLC0415 - only this command downloads

    # In this thread, not a worker: nothing else runs meanwhile, and Ctrl-C then interrupts the
    # transfer itself (huggingface_hub removes its partial file) instead of leaving a worker
    # thread that the interpreter would wait for at exit.
    path = ensure_model(args.ref, progress=args.progress)
    stdout().write(f"{path}\n")
    return 0


async def run_local_models(args: argparse.Namespace) -> int:
    """Print the cached model files: repository, file, size, revision."""
    from botticelli_server.model_cache import list_cached_models  # noqa: PLC0415 - only this listing needs it

    files = await anyio.to_thread.run_sync(list_cached_models)
    if args.json:
        emit_json(
            [
                {
                    "repo_id": f.repo_id,
                    "filename": f.filename,
                    "size": f.size,
                    "revision": f.revision,
                    "commit": f.commit,
                    "ref": f.ref,
                    "path": str(f.path),
                }
                for f in files
            ]
        )
        return 0
    out = stdout()
    rows = [(f.repo_id, f.filename, human_size(f.size), f.revision) for f in files]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(_HEADERS)]
    for row in [_HEADERS, *rows]:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")
    return 0


_HEADERS = ("REPO", "FILE", "SIZE", "REVISION")


def human_size(size: int) -> str:
    """A byte count for people: ``1.5 GB``, ``512 B`` (powers of 1000, as the hub shows sizes).

    Examples:
        >>> human_size(512), human_size(2_300_000_000), human_size(506_848)
        ('512 B', '2.3 GB', '506.8 kB')
    """
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
