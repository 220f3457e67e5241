"""Where the bytes of an image, audio clip, video or document come from."""

import base64 as _b64
import binascii
from typing import Self

from pydantic import model_validator

from botticelli_core._base import FrozenModel
from botticelli_core._text import UnicodeText

__all__ = ["MediaSource"]


class MediaSource(FrozenModel):
    """Exactly one of a URL, base64 text or raw bytes.

    Build one with :meth:`from_url`, :meth:`from_base64` or :meth:`from_bytes`.

    Examples:
        >>> src = MediaSource.from_bytes(b"GIF89a")
        >>> src.kind, src.to_base64()
        ('bytes', 'R0lGODlh')
        >>> MediaSource.from_base64("R0lGODlh").to_bytes()
        b'GIF89a'
    """

    url: UnicodeText | None = None
    base64: str | None = None
    data: bytes | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name in ("url", "base64", "data") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a MediaSource needs exactly one of url, base64 or data; got {given or 'none'}")
        if self.base64 is not None:
            try:
                _b64.b64decode(self.base64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError("MediaSource.base64 is not valid base64") from exc
        return self

    @classmethod
    def from_url(cls, url: str) -> "MediaSource":
        """A source the provider fetches itself (``https://...``, ``gs://...``, a file URI)."""
        return cls(url=url)

    @classmethod
    def from_base64(cls, data: str) -> "MediaSource":
        """A source given as standard base64 text."""
        return cls(base64=data)

    @classmethod
    def from_bytes(cls, data: bytes) -> "MediaSource":
        """A source given as raw bytes."""
        return cls(data=data)

    @property
    def kind(self) -> str:
        """``"url"``, ``"base64"`` or ``"bytes"``."""
        if self.url is not None:
            return "url"
        return "base64" if self.base64 is not None else "bytes"

    def to_base64(self) -> str:
        """The content as base64 text.

        Raises:
            ValueError: For a URL source, whose bytes botticelli never fetches.
        """
        if self.base64 is not None:
            return self.base64
        if self.data is not None:
            return _b64.b64encode(self.data).decode("ascii")
        raise ValueError("a URL MediaSource has no inline content")

    def to_bytes(self) -> bytes:
        """The content as raw bytes (decoding base64 when needed).

        Raises:
            ValueError: For a URL source.
        """
        if self.data is not None:
            return self.data
        return _b64.b64decode(self.to_base64())

    def inline_size(self) -> int:
        """Bytes this source adds to a request body when sent inline (0 for a URL)."""
        if self.data is not None:
            return (len(self.data) + 2) // 3 * 4
        return len(self.base64) if self.base64 is not None else 0

    def __repr__(self) -> str:
        # Media can be megabytes: show its size, not its content.
        if self.url is not None:
            return f"MediaSource(url={self.url!r})"
        return f"MediaSource({self.kind}, {self.inline_size()} base64 chars)"
