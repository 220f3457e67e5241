"""The child process's plumbing: draining its output, and signalling and reaping its process group."""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from typing import IO

import anyio

__all__ = ["NOTABLE", "OutputTail", "kill_group", "signal_group", "wait_exit"]

NOTABLE = re.compile(
    r"errors?\b|\bfail|exception\b|\bfatal\b|\bpanic|\baborte?d?\b|\bkilled\b|out of memory|segmentation fault",
    re.IGNORECASE,
)
"""Lines that may explain an exit, kept even once they have scrolled out of the tail.

Matched at word edges where a name could hold the word: llama.cpp logs ``set_abort_callback``
on every load, while ``ValueError:``, ``failed to load`` and ``ERROR:`` are what a crash says."""


class OutputTail:
    """Drains a child's combined output in a thread, keeping the last lines and the notable ones.

    The server's pipe must always be read: a full pipe blocks the server's own writes.

    Args:
        stream: The child's output pipe.
        max_lines: How many of the last lines are kept.
        notable_lines: How many of the latest lines matching :data:`NOTABLE` are kept besides.
        echo: Where each line is also written as it arrives (``botticelli serve -v``), if anywhere.
    """

    def __init__(
        self, stream: IO[bytes], *, max_lines: int, notable_lines: int = 0, echo: IO[str] | None = None
    ) -> None:
        # Numbered, so an excerpt can say where each line was and where lines were left out.
        self._lines: collections.deque[tuple[int, str]] = collections.deque(maxlen=max_lines)
        self._notable: collections.deque[tuple[int, str]] = collections.deque(maxlen=notable_lines)
        self._count = 0
        self._lock = threading.Lock()
        self._stream = stream
        self._echo = echo
        self._thread = threading.Thread(target=self._drain, name="inference-server-output", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        echo = self._echo
        with contextlib.suppress(OSError, ValueError):
            for raw in self._stream:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                with self._lock:
                    self._count += 1
                    self._lines.append((self._count, line))
                    if self._notable.maxlen and NOTABLE.search(line):
                        self._notable.append((self._count, line))
                if echo is not None:
                    echo = _pass_on(echo, line)

    @property
    def draining(self) -> bool:
        """Whether the pipe is still open: the child, or a process it started, may write more."""
        return self._thread.is_alive()

    @property
    def line_count(self) -> int:
        """How many lines the child has written so far."""
        with self._lock:
            return self._count

    def lines(self) -> list[str]:
        """The last lines kept so far, oldest first."""
        with self._lock:
            return [line for _, line in self._lines]

    def excerpt(self, *, last: int, width: int) -> str:
        """The lines that explain an exit, numbered, after one line saying which were kept.

        Those are the ``last`` lines, and before them the notable lines (errors, failures,
        exceptions...) that scrolled out of that window; each cut to ``width`` characters.
        Without any output, the one line says so.
        """
        with self._lock:
            count, tail = self._count, list(self._lines)[-last:] if last > 0 else []
            first_kept = tail[0][0] if tail else count + 1
            earlier = [(n, line) for n, line in self._notable if n < first_kept]
        if count == 0:
            return "the server wrote no output"
        kept = [*earlier, *tail]
        cut = any(len(line) > width for _, line in kept)
        parts = []
        if earlier:
            some = "1 earlier line that mentions" if len(earlier) == 1 else f"{len(earlier)} earlier lines that mention"
            parts.append(f"{some} an error or a failure")
        parts.append(f"the last {len(tail)}" if len(tail) < count else f"all {count}")
        header = f"the server's output ({count} line{'s' * (count > 1)}; kept: {', then '.join(parts)}"
        header += f"; lines cut at {width} characters):" if cut else "):"
        digits = len(str(kept[-1][0]))
        shown = [f"{n:>{digits}} | {line if len(line) <= width else line[:width] + ' ...'}" for n, line in kept]
        return "\n".join([header, *shown])

    def close(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the drain to end, then close the pipe."""
        # The pipe reaches EOF once every process holding it has exited; after that the thread ends.
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._stream.close()


def _pass_on(echo: IO[str], line: str) -> IO[str] | None:
    """Write one line to ``echo`` at once; ``None`` once it fails, so echoing stops."""
    try:
        echo.write(line + "\n")
        echo.flush()
    except (OSError, ValueError):
        # The terminal went away or the stream was closed: stop echoing but keep draining,
        # since a pipe nobody reads would block the server.
        return None
    return echo


def kill_group(pgid: int) -> None:
    """Last resort when an InferenceServer is dropped or the interpreter exits without stop()."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to a process group, if it still exists."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def wait_exit(process: subprocess.Popen[bytes], within: float | None) -> bool:
    """Poll until the process has exited (and is reaped); ``False`` if ``within`` seconds passed first."""
    deadline = None if within is None else time.monotonic() + within
    while process.poll() is None:
        if deadline is not None and time.monotonic() >= deadline:
            return False
        await anyio.sleep(0.02)
    return True
