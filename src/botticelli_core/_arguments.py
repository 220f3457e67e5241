"""The checks every backend runs on the arguments of ``generate``, ``count_tokens`` and ``embed``.

A model's public methods are called with whatever a caller's code holds: a prompt ``str``
where a :class:`~botticelli_core.GenerateRequest` belongs, ``None`` from a lookup that
missed, ``bytes`` read from a file. Without a check, each of these fails somewhere deep
inside a backend as a builtin ``AttributeError`` or ``TypeError`` (or, worse, works: a
``str`` is a ``Sequence[str]``, so ``embed("a cat")`` sent five one-letter texts). These
functions turn them into a :class:`~botticelli_error.ConfigurationError` naming the method,
the argument and the type that came, before anything is sent (docs/design.md, "Bad input
from users").

Two conveniences are decided here, once for every backend:

- ``embed`` takes a single ``str`` as one text (one vector back), as well as a sequence;
- ``count_tokens`` takes a ``str`` as a one-turn prompt
  (:meth:`GenerateRequest.from_prompt <botticelli_core.GenerateRequest.from_prompt>`).

``generate`` and ``generate_stream`` do not take a ``str``: a generation needs its
parameters (``max_tokens`` above all), and the :class:`~botticelli_interface.GenerativeModel`
protocol every backend and router implements takes a request; the error says how to build one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet

from botticelli_core._text import is_unicode
from botticelli_core.request import GenerateRequest
from botticelli_error import ConfigurationError

__all__ = ["checked_texts", "embed_options", "prompt_request", "request_argument"]


def _kind(value: object) -> str:
    """How a message names the type that came: ``None``, ``a str``, ``an int``, ``a list``..."""
    if value is None:
        return "None"
    if isinstance(value, (bytes, bytearray)):
        return type(value).__name__
    name = type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def request_argument(request: object, method: str, *, provider: str) -> GenerateRequest:
    """``request`` itself if it is a :class:`~botticelli_core.GenerateRequest`, else a typed error.

    Args:
        request: What the caller passed.
        method: The method, as the message names it (``"ServerClient.generate"``).
        provider: The backend's provider name, for the error.

    Raises:
        ConfigurationError: ``request`` is not a ``GenerateRequest``; for a ``str``, the
            message says to wrap it with ``GenerateRequest.from_prompt``.

    Examples:
        >>> request = GenerateRequest.from_prompt("hi")
        >>> request_argument(request, "ServerClient.generate", provider="local") is request
        True
        >>> try:
        ...     request_argument("hi", "ServerClient.generate", provider="local")
        ... except ConfigurationError as exc:
        ...     print(exc.message)
        ServerClient.generate takes a GenerateRequest, not a str; wrap a prompt with GenerateRequest.from_prompt(text)
    """
    if isinstance(request, GenerateRequest):
        return request
    hint = "; wrap a prompt with GenerateRequest.from_prompt(text)" if isinstance(request, str) else ""
    raise ConfigurationError(f"{method} takes a GenerateRequest, not {_kind(request)}{hint}", provider=provider)


def prompt_request(request: object, method: str, *, provider: str) -> GenerateRequest:
    """A request to count: ``request`` itself, or a ``str`` taken as a one-turn prompt.

    Args:
        request: A :class:`~botticelli_core.GenerateRequest` or a prompt.
        method: The method, as the message names it (``"GeminiClient.count_tokens"``).
        provider: The backend's provider name, for the error.

    Raises:
        ConfigurationError: ``request`` is neither, or the prompt is not valid text.

    Examples:
        >>> prompt_request("hello", "ServerClient.count_tokens", provider="local").messages[0].text
        'hello'
        >>> prompt_request(None, "ServerClient.count_tokens", provider="local")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [local] ServerClient.count_tokens takes a GenerateRequest or ...
    """
    if isinstance(request, GenerateRequest):
        return request
    if isinstance(request, str):
        try:
            return GenerateRequest.from_prompt(request)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{method}'s prompt is not valid: {exc.message}", provider=provider) from None
    raise ConfigurationError(
        f"{method} takes a GenerateRequest or a prompt str, not {_kind(request)}", provider=provider
    )


def checked_texts(texts: object, method: str, *, provider: str) -> list[str]:
    """The texts to embed, as a list: a ``str`` is one text, an ordered collection holds one per item.

    Any ordered iterable of ``str`` is taken (a list, a tuple, a generator, a numpy array or
    a pandas Series of strings); a set is not, since its order is arbitrary and the vectors
    come back in input order, nor a dict. Each text must be a ``str`` that encodes as UTF-8
    (no lone surrogate, which no request body can carry); the error names the first that is
    not, by its index.

    Args:
        texts: What the caller passed as ``texts``.
        method: The method, as the message names it (``"ServerClient.embed"``).
        provider: The backend's provider name, for the error.

    Raises:
        ConfigurationError: ``texts`` is neither a ``str`` nor an ordered collection of them.

    Examples:
        >>> checked_texts("a cat", "ServerClient.embed", provider="local")
        ['a cat']
        >>> checked_texts(("a cat", "a dog"), "ServerClient.embed", provider="local")
        ['a cat', 'a dog']
        >>> checked_texts(["a cat", 7], "ServerClient.embed", provider="local")
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [local] ServerClient.embed's texts[1] is an int, not a str
    """
    if isinstance(texts, str):
        items: list[object] = [texts]
    # bytes are a sequence of ints, never texts; a set or a dict has no input order to keep.
    elif isinstance(texts, Iterable) and not isinstance(texts, (bytes, bytearray, AbstractSet, Mapping)):
        items = list(texts)
    else:
        if isinstance(texts, (bytes, bytearray)):
            hint = " (decode it first)"
        elif isinstance(texts, AbstractSet):
            hint = " (a set has no order, and the vectors come back in input order: pass a list)"
        else:
            hint = ""
        raise ConfigurationError(
            f"{method} takes a str or a sequence of str as texts, not {_kind(texts)}{hint}", provider=provider
        )
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise ConfigurationError(f"{method}'s texts[{index}] is {_kind(text)}, not a str", provider=provider)
        # isascii() first: it is a flag read, and most texts need no encoding to be checked.
        if not text.isascii() and not is_unicode(text):
            raise ConfigurationError(
                f"{method}'s texts[{index}] holds a lone surrogate, so it is not valid Unicode text; the input "
                "was probably not UTF-8 (decode it as UTF-8 first)",
                provider=provider,
            )
    return items  # type: ignore[return-value]  # every item was checked to be a str above


def embed_options(
    method: str,
    *,
    model: object,
    dimensions: object,
    task: object,
    truncate: object,
    provider: str,
) -> None:
    """Check the keyword arguments every ``embed`` takes, before anything is sent.

    Raises:
        ConfigurationError: ``model`` or ``task`` is not ``None`` or a non-empty ``str``,
            ``dimensions`` not ``None`` or a positive ``int``, or ``truncate`` not a ``bool``.

    Examples:
        >>> options = {"model": None, "task": None, "truncate": False, "provider": "gemini"}
        >>> embed_options("GeminiClient.embed", dimensions=256, **options)
        >>> try:
        ...     embed_options("GeminiClient.embed", dimensions=True, **options)
        ... except ConfigurationError as exc:
        ...     print(exc.message)
        GeminiClient.embed's dimensions must be a positive int or None, not a bool
    """
    for name, value in (("model", model), ("task", task)):
        if value is not None and not (isinstance(value, str) and value):
            shown = "an empty str" if value == "" else _kind(value)
            raise ConfigurationError(
                f"{method}'s {name} must be a non-empty str or None, not {shown}", provider=provider
            )
    # bool is an int to Python: dimensions=True would ask for vectors of one float.
    if dimensions is not None and (isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1):
        shown = (
            _kind(dimensions) if isinstance(dimensions, bool) or not isinstance(dimensions, int) else str(dimensions)
        )
        raise ConfigurationError(
            f"{method}'s dimensions must be a positive int or None, not {shown}", provider=provider
        )
    if not isinstance(truncate, bool):
        raise ConfigurationError(f"{method}'s truncate must be a bool, not {_kind(truncate)}", provider=provider)
