"""Starting an inference server's process in a session of its own, and stopping its whole group.

The server runs as a process-group leader, so stopping it (SIGTERM, then SIGKILL after a
grace period) reaches anything it spawned too, and a finalizer kills the group if its
owner is dropped or the interpreter exits without stopping it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import weakref
from collections.abc import Mapping
from typing import IO

import anyio

from botticelli_error import ConfigurationError
from botticelli_server._child import OutputTail, kill_group, signal_group, wait_exit
from botticelli_server._presets import redact_argv

__all__ = ["ServerProcess"]


class ServerProcess:
    """A started server process: its handle, the tail of its output, and the finalizer that kills its group.

    Args:
        argv: The command line.
        env: Extra environment variables, on top of this process's own.
        owner: The object whose collection kills the group, if it was never stopped.
        tail_lines: How many of the last lines of output are kept.
        notable_lines: How many earlier lines that look like errors are kept besides.
        echo: Where each line of output is also written as it arrives, if anywhere.

    Raises:
        ConfigurationError: The command cannot be run.
    """

    __slots__ = ("_finalizer", "output", "process")

    def __init__(
        self,
        argv: list[str],
        env: Mapping[str, str],
        *,
        owner: object,
        tail_lines: int,
        notable_lines: int = 0,
        echo: IO[str] | None = None,
    ) -> None:
        try:
            # Popen is called inline: fork+exec returns at once, and keeping it in the caller's task
            # means a cancellation can never separate it from the handle of a process already started.
            self.process = subprocess.Popen(  # noqa: S603  (the argv is the caller's own command)
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                start_new_session=True,
            )
        except OSError as exc:
            raise ConfigurationError(
                f"cannot run the inference server command {redact_argv(argv)[0]!r}: {exc.strerror or exc}"
            ) from exc
        assert self.process.stdout is not None  # stdout=PIPE guarantees it
        self.output = OutputTail(self.process.stdout, max_lines=tail_lines, notable_lines=notable_lines, echo=echo)
        self._finalizer = weakref.finalize(owner, kill_group, self.process.pid)

    async def stop(self, grace: float) -> str | None:
        """SIGTERM to the group, SIGKILL after ``grace`` seconds; waits until reaped, even when cancelled.

        Returns:
            The signal that ended the server (``"SIGTERM"``, ``"SIGKILL"``), or ``None``
            if it had exited already.
        """
        process = self.process
        signal_used: str | None = None
        with anyio.CancelScope(shield=True):
            if process.poll() is None:
                signal_used = "SIGTERM"
                signal_group(process.pid, signal.SIGTERM)
                if not await wait_exit(process, grace):
                    signal_used = "SIGKILL"
                    signal_group(process.pid, signal.SIGKILL)
                    await wait_exit(process, None)
            # The leader may be gone while children it spawned still run; sweep the group.
            signal_group(process.pid, signal.SIGKILL)
            self._finalizer.detach()
            await anyio.to_thread.run_sync(self.output.close, 2.0)
        return signal_used
