"""Keeping secrets out of errors: a process-wide registry of the values botticelli sends.

Clients register the secrets they send (API keys, passwords in a base URL) when they are
built; every :class:`~botticelli_error.BotticelliError` then scrubs its text fields
against the registry as they are set, so no code path that builds an error can forget.

Rules (docs/errors.md has the reasoning):

* Whole tokens only. A token is a run of ``A-Z a-z 0-9 _ -``; a registered value is
  replaced where it stands as a whole token, so a one-character key ``k`` turns
  ``"key k"`` into ``"key ***"`` but leaves ``"kind"`` alone. A value of
  :data:`SUBSTRING_LENGTH` characters or more cannot occur by chance, so it is also
  replaced inside longer tokens (``"key=sk-..."`` glued to other text).
* A token that is the first :data:`MIN_SECRET_LENGTH` or more characters of a secret
  is replaced too: text cut short for a message must not leak half a key.
* Each value is also looked for JSON-escaped and percent-encoded, the forms servers
  echo it in.
* Values shorter than :data:`MIN_SECRET_LENGTH` are accepted with a warning naming the
  setting (never the value): they are scrubbed as whole tokens, but cannot be told apart
  from ordinary words.

Registration is thread-safe; scrubbing reads an immutable snapshot and takes no lock.
A value registered with an ``owner`` stays registered while any owner that registered
it is alive; without one it stays for the life of the process.

Examples:
    >>> register_secret("sk-doc-0123456789abcdef", setting="api_key")
    >>> scrub("rejected key sk-doc-0123456789abcdef, and sk-doc-0123 too")
    'rejected key ***, and *** too'
    >>> unregister_secret("sk-doc-0123456789abcdef")
    >>> scrub("a k b", ("k",)), scrub("kind", ("k",))
    ('a *** b', 'kind')
"""

from __future__ import annotations

import json
import logging
import re
import threading
import weakref
from collections import deque
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "SUBSTRING_LENGTH",
    "redact_url",
    "register_secret",
    "register_url_credentials",
    "scrub",
    "unregister_secret",
]

MASK = "***"
"""What a secret is replaced with."""
MIN_SECRET_LENGTH = 8
"""Shorter secrets are scrubbed as whole tokens only, with a warning at registration."""
SUBSTRING_LENGTH = 16
"""Secrets at least this long are also scrubbed inside longer tokens."""

_TOKEN = "A-Za-z0-9_\\-"  # noqa: S105 - the characters of a token, not a password
_logger = logging.getLogger("botticelli")


class _SecretLike(Protocol):
    def get_secret_value(self) -> str: ...


# value -> how many live registrations hold it; None in _counts means "forever".
_counts: dict[str, int | None] = {}
_lock = threading.Lock()
# Finalizers run inside the garbage collector, possibly while this thread holds _lock:
# they only queue the release, which the next registry operation applies.
_released: deque[str] = deque()
# (head, pattern) per form of each value, longest value first; swapped whole on each change.
_patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()


def register_secret(value: str | _SecretLike | None, *, setting: str, owner: object | None = None) -> None:
    """Scrub ``value`` from every error built from now on.

    Args:
        value: The secret as it is sent (a key, ``"Bearer <key>"``); ``None`` or blank is ignored.
        setting: Where the value came from (``"api_key"``), for the warning about short values.
        owner: The object that sends it (it must support weak references); the value is
            released once every owner that registered it has been garbage collected.
            ``None`` keeps it for the process.

    Examples:
        >>> class Client: ...
        >>> client = Client()
        >>> register_secret("sk-owned-0123456789", setting="api_key", owner=client)
        >>> scrub("sk-owned-0123456789")
        '***'
        >>> del client
        >>> scrub("sk-owned-0123456789")
        'sk-owned-0123456789'
    """
    if value is not None and not isinstance(value, str):
        value = value.get_secret_value()
    if value is None or not value.strip():
        return
    value = value.strip()
    with _lock:
        _apply_releases()
        known = value in _counts
        count = _counts.get(value, 0)
        if count is None:  # already kept for the process
            return
        if owner is not None:
            weakref.finalize(owner, _released.append, value)  # first: it raises for an owner without weak references
        if not known and len(value) < MIN_SECRET_LENGTH:
            _logger.warning(
                "the secret in %s is shorter than %d characters: it is scrubbed from errors only "
                "where it stands as a whole word; use a longer one",
                setting,
                MIN_SECRET_LENGTH,
            )
        _counts[value] = None if owner is None else count + 1
        _rebuild()


def unregister_secret(value: str) -> None:
    """Stop scrubbing ``value`` whoever registered it (after a key rotation, or in tests)."""
    with _lock:
        _apply_releases()
        if _counts.pop(value.strip(), 0) != 0:
            _rebuild()


def register_url_credentials(url: str, *, setting: str, owner: object | None = None) -> None:
    """Register the password (or lone user name, often a token) of ``url``, as written and decoded.

    Examples:
        >>> register_url_credentials("http://bob:pa%24%24word-12@host", setting="base_url")
        >>> scrub("connect to http://bob:pa%24%24word-12@host failed; pa$$word-12 rejected")
        'connect to http://bob:***@host failed; *** rejected'
        >>> unregister_secret("pa%24%24word-12"); unregister_secret("pa$$word-12")
    """
    for secret in _url_credentials(url):
        register_secret(secret, setting=setting, owner=owner)
        if (decoded := unquote(secret)) != secret:
            register_secret(decoded, setting=setting, owner=owner)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every registered secret, and each of ``secrets``, replaced by ``***``.

    Examples:
        >>> scrub("key sk-123 rejected", ("sk-123",))
        'key *** rejected'
        >>> scrub("nothing to hide")
        'nothing to hide'
    """
    if _released:
        with _lock:
            _apply_releases()
    if _patterns:
        text = _apply(_patterns, text)
    if secrets:
        extra = tuple(s.strip() for s in secrets if s and s.strip())
        text = _apply(_compile(extra), text)
    return text


def redact_url(url: str) -> str:
    """``url`` fit to show: a password, or a lone user name, becomes ``***``.

    Examples:
        >>> redact_url("http://user:pass@127.0.0.1:8080/v1")
        'http://user:***@127.0.0.1:8080/v1'
        >>> redact_url("https://token@example.com"), redact_url("http://localhost:8080")
        ('https://***@example.com', 'http://localhost:8080')
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        # Not even parseable: hide everything between the scheme and the last "@".
        return re.sub(r"(?<=//)[^/]*@", f"{MASK}@", url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:{MASK}" if colon else MASK
    return urlunsplit(parts._replace(netloc=f"{shown}@{host}"))


def _url_credentials(url: str) -> list[str]:
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        match = re.search(r"//([^/]*)@", url)
        netloc = f"{match.group(1)}@" if match else ""
    userinfo, at, _ = netloc.rpartition("@")
    if not at:
        return []
    user, colon, password = userinfo.partition(":")
    return [password] if colon else [user]


def _apply_releases() -> None:
    """Apply the releases queued by finalizers; the caller holds ``_lock``."""
    changed = False
    while _released:
        value = _released.popleft()
        count = _counts.get(value)
        if count is None:  # kept forever, or already unregistered
            continue
        if count <= 1:
            del _counts[value]
        else:
            _counts[value] = count - 1
        changed = True
    if changed:
        _rebuild()


def _rebuild() -> None:
    global _patterns  # noqa: PLW0603 - one snapshot, swapped whole so readers need no lock
    _patterns = _compile(tuple(_counts))


def _apply(patterns: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> str:
    # A substring test per form (C speed) skips the regex for every secret not in the text.
    for head, pattern in patterns:
        if head in text:
            text = pattern.sub(MASK, text)
    return text


@lru_cache(maxsize=64)
def _compile(values: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    forms = {form for value in values for form in _forms(value)}
    # Longest first, so "Bearer <key>" goes whole rather than leaving "Bearer" behind.
    ordered = sorted(forms, key=lambda f: (-len(f), f))
    return tuple((form[:MIN_SECRET_LENGTH], re.compile(_pattern_for(form))) for form in ordered)


def _forms(value: str) -> set[str]:
    """The value and the escaped forms a server may echo it in."""
    return {value, json.dumps(value)[1:-1], quote(value, safe="")}


def _pattern_for(value: str) -> str:
    """The regex for one form of a secret.

    It starts with the value's head as a literal, which the regex engine searches for at
    C speed; then comes either the rest of a long value, or a whole token made of the
    longest prefix of the value present.
    """
    head = re.escape(value[:MIN_SECRET_LENGTH])
    # Taken atomically, so that a whole value glued to more token characters is not cut
    # back to a shorter prefix that happens to end at a token boundary.
    tail = ""
    for char in reversed(value[MIN_SECRET_LENGTH:]):
        tail = f"(?:{re.escape(char)}{tail})?"
    # The lookbehind, read after the head, checks the character before the head.
    token = f"(?<![{_TOKEN}]{head})(?>{tail})(?![{_TOKEN}])"
    if len(value) >= SUBSTRING_LENGTH:
        return f"{head}(?:{re.escape(value[MIN_SECRET_LENGTH:])}|{token})"
    return f"{head}{token}"
