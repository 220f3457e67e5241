"""Undoing a body's ``content-encoding`` in bounded steps, so a small compressed body cannot inflate at once.

httpx decompresses each piece read from the socket whole: a 64 KiB piece of a gzip
"bomb" becomes 64 MiB before anyone can look at it, and a body held in memory becomes
gigabytes. Here zlib is asked for at most ``step`` bytes at a time, and the caller stops
as soon as its own cap is passed. botticelli asks only for ``gzip`` and ``deflate``
(``accept-encoding``); a server that answers in another encoding gets a typed error
rather than a guess.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator

from botticelli_error import ResponseDecodeError

__all__ = ["ACCEPT_ENCODING", "Inflater", "inflated", "inflater_for"]

ACCEPT_ENCODING = "gzip, deflate"
"""What the transport asks for: the encodings it can undo in bounded steps."""
# zlib's window bits: 16 + 15 reads a gzip header, 15 a zlib one, -15 raw deflate.
_GZIP = 31
_ZLIB = 15
_RAW_DEFLATE = -15


class Inflater:
    """One body's decompressor, handing out at most ``step`` bytes of output at a time.

    Examples:
        >>> import gzip
        >>> inflater = inflater_for("gzip", provider="local")
        >>> [len(piece) for piece in inflater.pieces(gzip.compress(b"x" * 10), step=4)]
        [4, 4, 2]
    """

    __slots__ = ("_deflate", "_provider", "_zlib")

    def __init__(self, wbits: int, *, provider: str) -> None:
        self._zlib = zlib.decompressobj(wbits)
        self._deflate = wbits == _ZLIB  # "deflate" is zlib-wrapped by the standard, raw by some servers
        self._provider = provider

    def pieces(self, data: bytes, *, step: int) -> Iterator[bytes]:
        """The output ``data`` inflates to, in pieces of at most ``step`` bytes.

        Raises:
            ResponseDecodeError: ``data`` is not valid for the encoding.
        """
        while data:
            corrupt = False
            try:
                out = self._zlib.decompress(data, step)
            except zlib.error:
                corrupt = True
            if corrupt:
                if not self._deflate:
                    # Raised outside the except block: zlib's error is not left on its chain.
                    raise self._corrupt()
                # The first bytes say which deflate it is; start over as raw deflate.
                self._deflate = False
                self._zlib = zlib.decompressobj(_RAW_DEFLATE)
                continue
            self._deflate = False
            if out:
                yield out
            data = self._zlib.unconsumed_tail

    def _corrupt(self) -> ResponseDecodeError:
        return ResponseDecodeError("the server's compressed body is corrupt", provider=self._provider, retryable=False)


def inflater_for(content_encoding: str, *, provider: str) -> Inflater | None:
    """The decompressor for a ``content-encoding`` header; ``None`` for a body sent as it is.

    Raises:
        ResponseDecodeError: An encoding botticelli did not ask for and cannot undo safely.
    """
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return Inflater(_GZIP, provider=provider)
    if encoding == "deflate":
        return Inflater(_ZLIB, provider=provider)
    raise ResponseDecodeError(
        f"the server answered in content-encoding {content_encoding!r}, which was not asked for "
        f"(accept-encoding: {ACCEPT_ENCODING})",
        provider=provider,
        retryable=False,
    )


async def inflated(raw: AsyncIterator[bytes], inflater: Inflater, *, step: int) -> AsyncGenerator[bytes, None]:
    """A compressed stream's bytes, inflated ``step`` bytes at a time at most."""
    try:
        async for data in raw:
            for piece in inflater.pieces(data, step=step):
                yield piece
    finally:
        aclose = getattr(raw, "aclose", None)
        if aclose is not None:
            await aclose()
