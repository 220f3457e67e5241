"""``python -m botticelli.testing PATH``: write the tiny random-weight model to ``PATH``.

The first step after the demo (README.md): a model file a real server can load in well
under a second, for ``botticelli serve`` to start. Missing parent folders are created.

The path written is the command's one line of standard output, so a shell can capture it
(``MODEL=$(python -m botticelli.testing models/tiny.gguf)``); argparse's usage errors go to
standard error, as every message for a human should.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Write the model, print its path on standard output, and return the exit status (0)."""
    parser = argparse.ArgumentParser(
        prog="python -m botticelli.testing", description="Write botticelli's tiny random-weight GGUF model."
    )
    parser.add_argument("path", type=Path, help="where to write the model, e.g. models/tiny.gguf")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (the same seed, the same file)")
    args = parser.parse_args(argv)
    from botticelli.testing import write_tiny_gguf  # noqa: PLC0415 - numpy and gguf load only when asked

    path: Path = args.path
    path.parent.mkdir(parents=True, exist_ok=True)
    written = write_tiny_gguf(path, seed=args.seed)
    # Standard output, not error: it is the command's result, which `$(...)` captures.
    sys.stdout.write(f"{written}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
