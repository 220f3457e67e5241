"""The one pydantic configuration every core model shares, and the one translation of its errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from botticelli_error import ConfigurationError, ResponseDecodeError, redact_url

__all__ = [
    "FrozenModel",
    "describe_validation_error",
    "is_secret_name",
    "keep_validation_errors",
    "parse_wire",
    "validate_settings",
    "validation_problems",
]

M = TypeVar("M", bound=BaseModel)

# Set while a loader validates settings it will name itself (by file and key): FrozenModel's
# __init__ then lets pydantic's error through, locations intact, instead of translating it.
_KEEP_VALIDATION_ERRORS: ContextVar[bool] = ContextVar("botticelli_keep_validation_errors", default=False)


class FrozenModel(BaseModel):
    """The base of botticelli's immutable data and settings models: unknown fields are an error.

    Invalid data raises :class:`~botticelli_error.ConfigurationError` naming each bad
    field, so callers catch one hierarchy, also when the model is built with
    ``model_validate`` or nested inside another. Settings
    models of a backend set ``error_provider`` so the error names that backend.

    Examples:
        >>> class Point(FrozenModel):
        ...     x: int
        >>> try:
        ...     Point(x="one")
        ... except ConfigurationError as err:
        ...     print(type(err).__name__, "|", err.message[:33])
        ConfigurationError | invalid Point: Point.x: Input sho
    """

    model_config = ConfigDict(frozen=True, defer_build=True, extra="forbid")
    error_provider: ClassVar[str] = "botticelli"

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            if _KEEP_VALIDATION_ERRORS.get():
                raise
            error = ConfigurationError(
                describe_validation_error(type(self).__name__, exc, model=type(self)), provider=self.error_provider
            )
        else:
            return
        # Outside the except block: pydantic's exception holds the input (an API key among
        # the settings), and would stay on the error's __context__ even with "from None".
        raise error


# The words that make a name a credential. A name is split into words on anything that is not
# a letter or digit ("--api-key", "hf_token", "x-goog-api-key"); counts such as max_tokens and
# paths such as --ssl-keyfile are not credentials.
_SECRET_LAST_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "passwd", "credential", "credentials"})
_SECRET_ANY_WORDS = frozenset({"secret", "password", "passwd", "credential", "credentials", "authorization"})
_WORD = re.compile(r"[a-z0-9]+")


def is_secret_name(name: str) -> bool:
    """Whether a field, key, header or command-line flag name says its value is a credential.

    The one rule behind every place that hides a value by its name: error messages,
    configuration warnings and the argv the launcher logs.

    Examples:
        >>> [is_secret_name(n) for n in ("api_key", "--hf-token", "x-goog-api-key", "Authorization")]
        [True, True, True, True]
        >>> [is_secret_name(n) for n in ("max_tokens", "--ssl-keyfile", "model", "--port")]
        [False, False, False, False]
    """
    words = _WORD.findall(name.lower())
    return bool(words) and (words[-1] in _SECRET_LAST_WORDS or not _SECRET_ANY_WORDS.isdisjoint(words))


def validation_problems(exc: ValidationError, model: type[BaseModel] | None = None) -> list[tuple[str, str]]:
    """Each of pydantic's errors as ``(dotted location, what was wrong)``, safe to show.

    The offending value is added (``(got 3)``) only when it is a plain scalar and no part
    of its location is named like a credential (:func:`is_secret_name`), so a message can
    never carry an API key or echo a whole input mapping. An unknown key lists the keys
    ``model`` accepts at that place.

    Args:
        exc: What pydantic raised.
        model: The model that was validated, for listing accepted keys.

    Examples:
        >>> class Limits(FrozenModel):
        ...     retries: int
        >>> try:
        ...     with keep_validation_errors():
        ...         Limits(retries="many", retry=1)
        ... except ValidationError as exc:
        ...     for where, what in validation_problems(exc, Limits):
        ...         print(where, "|", what)
        retries | Input should be a valid integer, unable to parse string as an integer (got 'many')
        retry | unknown key; expected one of retries
    """
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(str(part) for part in error["loc"])
        problems.append((".".join(loc), _explain(error, loc, model)))
    return problems


def _explain(error: Any, loc: tuple[str, ...], model: type[BaseModel] | None) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(model, loc) if model is not None else []
        return "unknown key" + (f"; expected one of {', '.join(known)}" if known else "")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "expected a table (a mapping of keys to values)"
    elif kind == "value_error":
        # Our own validators' words, without pydantic's "Value error, " in front.
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    else:
        message = error["msg"]
    value = error.get("input")
    secret = any(is_secret_name(part) for part in loc)
    if kind != "missing" and loc and not secret and (value is None or isinstance(value, str | int | float | bool)):
        shown = repr(redact_url(value) if isinstance(value, str) else value)
        if not (isinstance(value, str) and shown in message):  # our validators may quote it already
            message += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
    return message


def _known_keys(root: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    """The keys the table at ``loc`` accepts, found by walking the models from ``root``."""
    model = root
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        candidates = [a for a in (annotation, *get_args(annotation)) if isinstance(a, type)]
        nested = next((a for a in candidates if issubclass(a, BaseModel)), None)
        if nested is None:
            return []
        model = nested
    # Fields excluded from dumps (bookkeeping such as where settings came from) are not keys to write.
    return sorted(name for name, field in model.model_fields.items() if not field.exclude)


def describe_validation_error(owner: str, exc: ValidationError, *, model: type[BaseModel] | None = None) -> str:
    r"""One line per problem: ``Owner.field: what was wrong (got value)``.

    The offending value is shown only when it is a plain scalar of a field whose name
    does not suggest a secret (see :func:`validation_problems`).

    Examples:
        >>> from pydantic import BaseModel
        >>> class Settings(BaseModel):
        ...     api_key: bool
        ...     retries: bool
        >>> try:
        ...     Settings(api_key="sk-live-123", retries="many")
        ... except ValidationError as exc:
        ...     print(describe_validation_error("Settings", exc).replace("; ", "\n"))
        invalid Settings: Settings.api_key: Input should be a valid boolean, unable to interpret input
        Settings.retries: Input should be a valid boolean, unable to interpret input (got 'many')
    """
    problems = [f"{owner}.{where or '(model)'}: {what}" for where, what in validation_problems(exc, model)]
    return "invalid " + owner + ": " + "; ".join(problems)


@contextmanager
def keep_validation_errors() -> Iterator[None]:
    """Within this block, invalid :class:`FrozenModel` data raises pydantic's own ``ValidationError``.

    For loaders that name each problem by where it came from (a file and a key) rather
    than by the model; :func:`validate_settings` is the usual way in.
    """
    token = _KEEP_VALIDATION_ERRORS.set(True)
    try:
        yield
    finally:
        _KEEP_VALIDATION_ERRORS.reset(token)


def validate_settings(
    model: type[M],
    data: Mapping[str, Any],
    *,
    label: Callable[[str], str],
    provider: str = "botticelli",
    problems: Callable[[ValidationError, type[BaseModel]], list[tuple[str, str]]] | None = None,
) -> M:
    """Validate ``data`` as ``model``; every problem is named by ``label(dotted location)``.

    Args:
        model: The settings model.
        data: Its values.
        label: Turns a location inside ``data`` (``""`` for the whole) into the words
            that start its problem, e.g. ``"botticelli.toml: model.local.max_retries"``.
        provider: The ``provider`` of the error.
        problems: What each problem is, as ``(dotted location, words)``; by default
            :func:`validation_problems`.

    Raises:
        ConfigurationError: One message listing each problem, joined by ``"; "``.

    Examples:
        >>> class Limits(FrozenModel):
        ...     retries: int = 0
        >>> validate_settings(Limits, {"retries": -1.5}, label=lambda key: f"env: limits.{key}")
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] env: limits.retries: Input should be a valid integer...
    """
    try:
        with keep_validation_errors():
            return model.model_validate(data)
    except ValidationError as exc:
        found = []
        for where, what in (problems or validation_problems)(exc, model):
            name = label(where)
            found.append(f"{name}: {what}" if name else what)
    # Outside the except block, like every error made of pydantic's (see FrozenModel).
    raise ConfigurationError("; ".join(found), provider=provider)


def parse_wire(model: type[M], data: bytes | str, *, provider: str, what: str) -> M:
    """Parse a server's JSON reply into ``model``; a reply of another shape is a ``ResponseDecodeError``.

    The error names where the reply went wrong (field locations only); the reply itself is
    kept in ``body`` for diagnosis. A body nested too deep is a decode error like any other.

    Args:
        model: The wire model of the reply.
        data: The reply's body.
        provider: The backend, for the error.
        what: What the reply is, for the message (``"chat completion"``, ``"model list"``).

    Raises:
        ResponseDecodeError: The body is not JSON of the model's shape.

    Examples:
        >>> class Reply(BaseModel):
        ...     n: int
        >>> parse_wire(Reply, b'{"n": 1}', provider="local", what="reply").n
        1
        >>> parse_wire(Reply, b'{"n": "x"}', provider="local", what="reply")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ResponseDecodeError: [local] the server sent a reply that does not follow ...
    """
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        first = problems[0]
        where = ".".join(str(part) for part in first["loc"]) or "the top"
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        error = ResponseDecodeError(
            f"the server sent a {what} that does not follow its wire format ({count}, at {where}: {first['msg']})",
            provider=provider,
            body=data if isinstance(data, str) else data.decode("utf-8", "replace"),
        )
    except RecursionError:
        error = ResponseDecodeError(
            f"the server sent a {what} nested too deep to read",
            provider=provider,
            body=(data if isinstance(data, str) else data.decode("utf-8", "replace"))[:2000],
        )
    raise error
