"""Reading everything a raised error drags along: its ``__cause__``/``__context__`` chain.

A ``raise ... from None`` only hides ``__context__`` from the default traceback printer;
the exception is still there for a debugger, ``traceback.TracebackException`` and the
logging frameworks that print whole chains. Tests of secret handling therefore look at
every exception reachable from the error, not at the error alone.
"""

from __future__ import annotations

from botticelli_error.scrubbing import MIN_SECRET_LENGTH

__all__ = ["exception_chain", "secret_leaks"]


def exception_chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception reachable from it, each once, ``error`` first.

    Follows both ``__cause__`` and ``__context__`` (whether or not ``__suppress_context__``
    hides the latter), recursively, and the members of exception groups.
    """
    seen: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if any(current is known for known in seen):
            continue
        seen.append(current)
        linked = [current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            linked.extend(current.exceptions)
        pending.extend(reversed([e for e in linked if e is not None]))
    return seen


def secret_leaks(error: BaseException, secret: str) -> list[str]:
    """Where on ``error``'s chain ``secret`` (or its first characters) shows, e.g. ``"ValidationError.str"``.

    Looks at each exception's ``str()``, ``repr()``, ``args`` and text attributes. The
    start of the secret is enough to count: a message cut short must not show half a key.
    """
    head = secret[:MIN_SECRET_LENGTH]
    found: list[str] = []
    for exc in exception_chain(error):
        texts = {"str": str(exc), "repr": repr(exc), "args": repr(exc.args)}
        texts.update({name: value for name, value in getattr(exc, "__dict__", {}).items() if isinstance(value, str)})
        found.extend(f"{type(exc).__name__}.{where}" for where, text in texts.items() if head in text)
    return found
