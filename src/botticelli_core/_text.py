"""Field types that keep request data sendable: text that encodes as UTF-8, numbers that are not booleans."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

__all__ = ["NotBool", "UnicodeText", "check_unicode", "is_unicode"]


def check_unicode(text: str) -> str:
    r"""Refuse text holding a lone surrogate, which no request body can carry.

    Python turns a byte that is not UTF-8 (in a command line argument, a file read with
    ``errors="surrogateescape"``) into a lone surrogate such as ``"\udcff"``. Sending it
    would fail only later, while the request is serialised; botticelli refuses it where
    the text enters, and does not guess a replacement for the caller.

    Args:
        text: The text to check.

    Returns:
        The text, unchanged.

    Raises:
        ValueError: Naming the first lone surrogate and its index (pydantic reports it
            as the field's error).

    Examples:
        >>> check_unicode("héllo")
        'héllo'
        >>> try:
        ...     check_unicode("caf\udce9")
        ... except ValueError as exc:
        ...     print(str(exc)[:49])
        holds a lone surrogate (U+DCE9 at index 3), so it
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"holds a lone surrogate (U+{ord(text[exc.start]):04X} at index {exc.start}), so it is not valid "
            "Unicode text; the input was probably not UTF-8 (decode it as UTF-8 before building the request)"
        ) from None
    return text


def is_unicode(text: str) -> bool:
    r"""Whether :func:`check_unicode` accepts ``text``: it holds no lone surrogate.

    Examples:
        >>> is_unicode("héllo"), is_unicode("caf\udce9")
        (True, False)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_bool(value: Any) -> Any:
    # bool is a subclass of int, and pydantic's lax mode would take True as 1.
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


UnicodeText = Annotated[str, AfterValidator(check_unicode)]
"""A ``str`` field that refuses lone surrogates (see :func:`check_unicode`)."""

NotBool = BeforeValidator(_refuse_bool)
"""Metadata for a numeric field: ``Annotated[int, NotBool]`` refuses ``True`` and ``False``."""
