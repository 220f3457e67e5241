"""Building a model from values that are already valid, without a second validation pass.

Backends parse the wire with pydantic-core and then map the result into botticelli's
models; validating those values again would cost more than the parse. What pydantic's
constructor would set besides the fields is set here too (fields set, extra, private), so
the result compares, copies, dumps and pickles like one that was validated.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["new_model", "set_fields_set", "set_no_extra", "set_no_private", "trusted"]

M = TypeVar("M", bound=BaseModel)

# object's allocator and BaseModel's own slot descriptors: each is cheaper than a generic
# setattr, which on a frozen model would go through pydantic's __setattr__ and refuse.
new_model = object.__new__
set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
set_no_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
set_no_private = BaseModel.__dict__["__pydantic_private__"].__set__


def trusted(cls: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """``cls(**values)`` for ``values`` that hold every field, each already valid for it.

    ``fields_set`` names the fields the validating constructor would have been passed,
    so ``model_fields_set`` is the same either way. ``values`` is copied into the new
    object's own ``__dict__`` (filling it in place is cheaper than assigning a dict).

    Examples:
        >>> from botticelli_core import TextOutput
        >>> made = trusted(TextOutput, {"type": "text", "text": "Hi"}, {"text"})
        >>> made == TextOutput(text="Hi"), made.model_fields_set
        (True, {'text'})
    """
    model = new_model(cls)
    model.__dict__.update(values)
    set_fields_set(model, fields_set)
    set_no_extra(model, None)
    set_no_private(model, None)
    return model
