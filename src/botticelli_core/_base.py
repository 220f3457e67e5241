"""The one pydantic configuration every core model shares."""

import re
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


# A field named like a credential (api_key, hf_token, secret...), not a count (max_tokens).
_SECRET_FIELD = re.compile(r"(?:^|_)(?:api_?key|key|token|secret|password|credentials?)$", re.IGNORECASE)


def describe_validation_error(owner: str, exc: ValidationError) -> str:
    r"""One line per problem: ``Owner.field: what was wrong (got value)``.

    The offending value is shown only when it is a plain scalar of a field whose name
    does not suggest a secret, so an error can never carry an API key or echo a whole
    input mapping.

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
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        problem = f"{owner}.{where or '(model)'}: {error['msg']}"
        value = error.get("input")
        secret = any(_SECRET_FIELD.search(str(part)) for part in error["loc"])
        if where and not secret and (value is None or isinstance(value, str | int | float | bool)):
            shown = repr(value)
            problem += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
        problems.append(problem)
    return "invalid " + owner + ": " + "; ".join(problems)
