"""The error of a server botticelli started itself and that has since died.

It is a :class:`~botticelli_error.ServerUnavailableError`, so a caller that handles an
unavailable server in general handles this one too; a caller that wants to know why reads
``exit_code`` and ``output_tail``.
"""

from __future__ import annotations

from typing import Any

from botticelli_error.errors import ServerUnavailableError
from botticelli_error.scrubbing import scrub

__all__ = ["ServerCrashedError"]


class ServerCrashedError(ServerUnavailableError):
    """The inference server botticelli started (``[server] autostart``) exited on its own.

    Args:
        message: What exited, and what to do.
        exit_code: The process's exit status; negative when a signal killed it (``-9``: SIGKILL).
        output_tail: The server's last output lines, secrets scrubbed.
        restarts: How many times it had been restarted before this exit.
        **kwargs: The common attributes of :class:`~botticelli_error.BotticelliError`.

    ``retryable`` is false: nothing restarts the server unless a restart policy says so, and
    then the policy has run out when this is raised.

    Examples:
        >>> err = ServerCrashedError("the server exited", exit_code=-9, output_tail="loading...")
        >>> err.exit_code, err.retryable, isinstance(err, ServerUnavailableError)
        (-9, False, True)
    """

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        exit_code: int | None,
        output_tail: str = "",
        restarts: int = 0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("provider", "local")
        super().__init__(message, **kwargs)
        self.__dict__.update(exit_code=exit_code, output_tail=scrub(output_tail), restarts=restarts)
        self.exit_code: int | None
        self.output_tail: str
        self.restarts: int
