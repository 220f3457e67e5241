"""The one pydantic configuration every core model shares."""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from botticelli_error import ConfigurationError


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

    model_config = ConfigDict(frozen=True, extra="forbid")
    error_provider: ClassVar[str] = "botticelli"

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigurationError(
                describe_validation_error(type(self).__name__, exc), provider=self.error_provider
            ) from None


def describe_validation_error(owner: str, exc: ValidationError) -> str:
    """One line per problem: ``Owner.field: what was wrong (got value)``."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "(model)"
        got = repr(error.get("input"))
        got = got if len(got) <= 60 else got[:57] + "..."
        problems.append(f"{owner}.{where}: {error['msg']} (got {got})")
    return "invalid " + owner + ": " + "; ".join(problems)
