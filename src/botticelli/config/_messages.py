"""Validating settings so that each problem says where it is, what was given and what was expected.

pydantic's own words for a value of the wrong shape ("Input should be a valid tuple", or
"expected a table" with nothing about what came instead) name neither what the user wrote
nor what to write: settings come as TOML and as Python dicts, and a ``tuple`` is neither's
word. :func:`validate_named` says both: ``model.local: expected a table (a dict, from
Python), got a list``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from botticelli_core._base import is_secret_name, validate_settings, validation_problems
from botticelli_error import redact_url

__all__ = ["describe_value", "validate_named"]

M = TypeVar("M", bound=BaseModel)

_KINDS: tuple[tuple[type, str], ...] = (
    # bool before int: True is an int to Python, and "an integer True" would mislead.
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "a list"),
    (tuple, "a tuple"),
    (Mapping, "a dict"),
)

# pydantic's error types for a value that should have been a table, or an array.
_NOT_A_TABLE = frozenset({"model_type", "model_attributes_type", "dict_type"})
_NOT_AN_ARRAY = frozenset({"tuple_type", "list_type", "set_type", "frozen_set_type"})
_TABLE = "a table (a dict, from Python)"
_ARRAY = "an array (a list, from Python)"


def describe_value(value: Any, *, show: bool = True) -> str:
    """What ``value`` is, for a message saying what was given: its kind, and a short scalar itself.

    Only a plain scalar is shown, cut to 60 characters, and only with ``show`` (the caller
    passes ``False`` for a key named like a credential); a list or a dict is named by its
    kind alone, so a message never echoes a whole input.

    Examples:
        >>> describe_value("local"), describe_value(["a"]), describe_value(None)
        ("a string 'local'", 'a list', 'None')
        >>> describe_value("sk-123", show=False), describe_value(True)
        ('a string', 'a boolean True')
    """
    if value is None:
        return "None"
    kind = next((name for cls, name in _KINDS if isinstance(value, cls)), f"a {type(value).__name__}")
    if not show or not isinstance(value, bool | int | float | str):
        return kind
    shown = repr(redact_url(value) if isinstance(value, str) else value)
    return f"{kind} {shown if len(shown) <= 60 else shown[:57] + '...'}"


def validate_named(model: type[M], data: Mapping[str, Any], *, label: Callable[[str], str]) -> M:
    """Validate ``data`` as ``model``; every problem starts with ``label(dotted location)``.

    Raises:
        ConfigurationError: One message listing each problem, joined by ``"; "``.

    Examples:
        >>> from botticelli_error import ConfigurationError
        >>> class Section(BaseModel):
        ...     base_urls: tuple[str, ...] = ()
        >>> try:
        ...     validate_named(Section, {"base_urls": "http://a"}, label=lambda key: f"settings: {key}")
        ... except ConfigurationError as exc:
        ...     print(exc.message)
        settings: base_urls: expected an array (a list, from Python), got a string 'http://a'
    """
    return validate_settings(model, data, label=label, problems=_problems)


def _problems(exc: ValidationError, model: type[BaseModel]) -> list[tuple[str, str]]:
    """``validation_problems``, with a wrong-typed table or array said as given and expected."""
    problems = []
    errors = exc.errors(include_url=False)
    for error, (where, what) in zip(errors, validation_problems(exc, model), strict=True):
        kind = error["type"]
        if kind in _NOT_A_TABLE or kind in _NOT_AN_ARRAY:
            # Never show the value of a key named like a credential, as validation_problems does.
            show = not any(is_secret_name(str(part)) for part in error["loc"])
            given = describe_value(error.get("input"), show=show)
            problems.append((where, f"expected {_TABLE if kind in _NOT_A_TABLE else _ARRAY}, got {given}"))
        else:
            problems.append((where, what))
    return problems
