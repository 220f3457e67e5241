"""The child process's plumbing: draining its output, and signalling and reaping its process group."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import threading
import time
from typing import IO

import anyio

__all__ = ["OutputTail", "kill_group", "signal_group", "wait_exit"]


class OutputTail:
    """Drains a child's combined output in a thread, keeping only the last lines.

    The server's pipe must always be read: a full pipe blocks the server's own writes.
    """

    def __init__(self, stream: IO[bytes], *, max_lines: int) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._lock = threading.Lock()
        self._stream = stream
        self._thread = threading.Thread(target=self._drain, name="inference-server-output", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            for raw in self._stream:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                with self._lock:
                    self._lines.append(line)

    @property
    def draining(self) -> bool:
        """Whether the pipe is still open: the child, or a process it started, may write more."""
        return self._thread.is_alive()

    def lines(self) -> list[str]:
        """The lines kept so far, oldest first."""
        with self._lock:
            return list(self._lines)

    def close(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the drain to end, then close the pipe."""
        # The pipe reaches EOF once every process holding it has exited; after that the thread ends.
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._stream.close()


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
