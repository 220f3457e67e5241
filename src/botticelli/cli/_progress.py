"""The progress bar of ``botticelli generate --batch``: on a terminal only, silent when piped."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["Progress"]


class Progress:
    """Done and failed counts, output tokens per second and the ETA, drawn by tqdm on ``stream``.

    Nothing is drawn (and tqdm is not imported) unless ``stream`` is a terminal, so a
    redirected or piped standard error gets no control characters.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None) -> None:
        stream = sys.stderr if stream is None else stream
        self.done = 0
        self.failed = 0
        self.tokens = 0
        self._started = time.monotonic()
        self._bar: Any = None
        if stream is not None and _is_terminal(stream):
            from tqdm import tqdm  # noqa: PLC0415 - only a terminal needs it

            self._bar = tqdm(total=total, file=stream, unit="req", dynamic_ncols=True, leave=True)

    @property
    def tokens_per_second(self) -> float:
        """Output tokens generated per second of wall time so far."""
        elapsed = time.monotonic() - self._started
        return self.tokens / elapsed if elapsed > 0 else 0.0

    def update(self, *, failed: bool, tokens: int) -> None:
        """Count one finished request."""
        self.done += 1
        self.failed += failed
        self.tokens += tokens
        if self._bar is not None:
            self._bar.set_postfix_str(f"failed={self.failed}, {self.tokens_per_second:.1f} tok/s", refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        """Leave the finished bar on the terminal."""
        if self._bar is not None:
            self._bar.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False
