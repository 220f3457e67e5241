"""Standard output that reports a failed write as one typed error, so the CLI can exit like other tools.

A reader that goes away (``botticelli generate ... | head -c 5``) makes the next write
fail with ``EPIPE``; a full disk fails with ``ENOSPC``. Either would otherwise surface as
a traceback from wherever the write happened, or as "Exception ignored" when the
interpreter flushes at exit. :class:`GuardedOutput` turns them into :class:`OutputError`,
which :func:`botticelli.cli.main.main` reports (or, for a closed pipe, does not).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import Any

__all__ = ["GuardedOutput", "OutputError", "silence_stdout"]


class OutputError(Exception):
    """Writing to standard output failed.

    Args:
        error: The ``OSError`` the write or flush raised.

    Examples:
        >>> OutputError(BrokenPipeError(errno.EPIPE, "Broken pipe")).broken_pipe
        True
        >>> str(OutputError(OSError(errno.ENOSPC, "No space left on device")))
        'cannot write to standard output: No space left on device'
    """

    def __init__(self, error: OSError) -> None:
        super().__init__(f"cannot write to standard output: {error.strerror or error}")
        self.error = error

    @property
    def broken_pipe(self) -> bool:
        """Whether the reader closed its end (``EPIPE``): a normal way for a pipeline to end."""
        return isinstance(self.error, BrokenPipeError) or self.error.errno == errno.EPIPE


class GuardedOutput:
    """A text stream's ``write`` and ``flush``, raising :class:`OutputError` instead of ``OSError``.

    Everything else (``isatty``, ``encoding``...) is the wrapped stream's own.

    Args:
        stream: The stream to write to, usually ``sys.stdout``.

    Examples:
        >>> import io
        >>> out = GuardedOutput(io.StringIO())
        >>> out.write("hi")
        2
        >>> class Full(io.StringIO):
        ...     def write(self, text: str) -> int:
        ...         raise OSError(errno.ENOSPC, "No space left on device")
        >>> GuardedOutput(Full()).write("hi")
        Traceback (most recent call last):
        ...
        botticelli.cli._output.OutputError: cannot write to standard output: No space left on device
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write ``text``; see the class for errors."""
        try:
            written: int = self._open().write(text)
        except OSError as exc:
            raise OutputError(exc) from None
        return written

    def flush(self) -> None:
        """Flush the stream; see the class for errors."""
        try:
            self._open().flush()
        except OSError as exc:
            raise OutputError(exc) from None

    def _open(self) -> Any:
        # Python sets sys.stdout to None when descriptor 1 was closed at start (`botticelli ... >&-`).
        if self._stream is None:
            raise OSError(errno.EBADF, "standard output is closed")
        return self._stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def silence_stdout() -> None:
    """Point the standard output file descriptor at ``/dev/null``.

    After a failed write, text may still sit in ``sys.stdout``'s buffer; the interpreter
    flushes it at exit and would print "Exception ignored ... BrokenPipeError" (or
    ``OSError``) and exit 120. Nothing can reach the reader any more, so the rest goes
    nowhere. Does nothing when standard
    output is not a real file (captured by a test, say).
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):  # AttributeError: sys.stdout is None
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)
