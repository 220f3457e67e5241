"""The one pydantic configuration every core model shares."""

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from botticelli_error import ConfigurationError


class FrozenModel(BaseModel):
    """An immutable, strictly-shaped data model: unknown fields are an error.

    Invalid data raises :class:`~botticelli_error.ConfigurationError` (also a
    ``ValueError``) naming each bad field, so callers catch one hierarchy.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigurationError(describe_validation_error(type(self).__name__, exc)) from None


def describe_validation_error(owner: str, exc: ValidationError) -> str:
    """One line per problem: ``Owner.field: what was wrong (got value)``."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "(model)"
        got = repr(error.get("input"))
        got = got if len(got) <= 60 else got[:57] + "..."
        problems.append(f"{owner}.{where}: {error['msg']} (got {got})")
    return "invalid " + owner + ": " + "; ".join(problems)
