"""Structured output, streamed: partial objects while the JSON arrives, then the validated one.

Partial objects come from pydantic's own partial validation
(``TypeAdapter.validate_json(..., experimental_allow_partial="trailing-strings")``), not from a
JSON parser of botticelli's. pydantic validates partial input of typed dicts, lists and
dicts, but not of models, so each model class of the output (the class itself, and those
nested in it) is mirrored as a ``TypedDict`` whose keys are all optional and whose values keep
their types, constraints and aliases; an after-validator builds the model's instance from the
validated values with ``model_construct``. pydantic then ignores an error only in the value
still being written (the last one), which is exactly the rule a stream needs: ``"Ad"`` is
kept while a name is written, a ``zip`` shorter than its ``min_length`` is left out until it
is long enough, and an earlier value that does not validate stops the partial objects.
"""

from __future__ import annotations

import functools
import types
from collections.abc import AsyncGenerator
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, Field, PydanticUserError, RootModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.fields import FieldInfo
from typing_extensions import TypedDict

from botticelli_core import FinishReason, GenerateRequest, GenerateResponse, TextOutput, Usage
from botticelli_error import OutputValidationError
from botticelli_interface.protocols import ChunkStream, GenerativeModel
from botticelli_interface.stream import ManagedStream
from botticelli_interface.structured import _exhausted, _validated

__all__ = ["ObjectStream", "stream_object"]

M = TypeVar("M", bound=BaseModel)

# The model settings that change how values validate, carried over to each mirror. The others
# describe the class (frozen, title) or apply to the whole object, which the final validation
# checks: ``extra="forbid"`` in particular, since a key being written is not yet a known key.
_VALUE_SETTINGS = (
    "allow_inf_nan",
    "arbitrary_types_allowed",
    "coerce_numbers_to_str",
    "populate_by_name",
    "regex_engine",
    "str_max_length",
    "str_min_length",
    "str_strip_whitespace",
    "str_to_lower",
    "str_to_upper",
    "strict",
    "use_enum_values",
    "val_json_bytes",
    "validate_by_alias",
    "validate_by_name",
)
# typing_extensions' TypedDict, which pydantic requires before Python 3.12, called with keys
# known only at run time (type checkers accept only a literal there).
_TYPED_DICT: Any = TypedDict
# Validating a partial object costs time in proportion to the text so far, so doing it on
# every chunk costs the square of the answer's length (an 8 KiB answer in 4-character chunks:
# half a second of CPU). Up to this many characters every chunk is validated; past it, once
# the text has grown by 1/_GROWTH of its length, which keeps the total cost linear.
_EVERY_CHUNK_CHARS = 4096
_GROWTH = 64
# How deep a class nested in itself (a tree) is mirrored: a mirror is built per level, since
# a TypedDict cannot name itself among its own values. Deeper, a node is validated as the
# class itself, so it shows up in partial objects once it is whole.
_MIRROR_DEPTH = 4
# What a field says about its value besides its type and constraints (those are its metadata).
_FIELD_SETTINGS = ("alias", "validation_alias", "discriminator")


class _Progress:
    """What the stream has seen, shared by the generator (which writes) and the stream (which reads)."""

    __slots__ = ("finish_reason", "result", "text", "usage")

    def __init__(self) -> None:
        self.text = ""
        self.finish_reason: FinishReason | None = None
        self.usage: Usage | None = None
        self.result: Any = None


class ObjectStream(ManagedStream[M]):
    """A streamed structured answer: partial objects as the JSON arrives, then the validated one.

    Iterating yields instances of the model class. All but the last are **partial**: built
    from the JSON received so far, each value checked against its field's type and
    constraints, without running the class's own validators. A field not written yet is
    ``None`` (``model_fields_set`` names those written), and the value being written last
    may still grow: a string gets more characters, a number more digits. A partial equal to
    the previous one is not yielded. Past 4 KiB of text, a partial is made each time the text
    has grown by a 64th, rather than on every chunk, so its cost stays in proportion to the
    answer's length. The **last** item is the whole answer validated as the
    class (validators included); it is also :attr:`result`.

    Made by :func:`stream_object`. Like every stream of botticelli, use it with ``async with``:
    leaving the block, breaking out of the loop, :meth:`aclose` or cancelling the task closes
    the underlying stream and releases its connection.

    Examples:
        >>> import asyncio
        >>> from botticelli_core import StreamChunk
        >>> class Point(BaseModel):
        ...     x: int
        >>> async def chunks():
        ...     yield StreamChunk(text='{"x": 3}')
        ...     yield StreamChunk(is_final=True, finish_reason="stop")
        >>> class Canned:
        ...     provider_name, model_name = "canned", "canned"
        ...     def generate_stream(self, request): return ManagedStream(chunks())
        >>> async def main():
        ...     async with stream_object(Canned(), GenerateRequest.from_prompt("A point?"), Point) as stream:
        ...         points = [point async for point in stream]
        ...     return points, stream.result, stream.finish_reason
        >>> asyncio.run(main())
        ([Point(x=3), Point(x=3)], Point(x=3), <FinishReason.STOP: 'stop'>)
    """

    __slots__ = ("_chunks", "_progress")

    def __init__(self, objects: AsyncGenerator[M, None], chunks: ChunkStream, progress: _Progress) -> None:
        super().__init__(objects)
        self._chunks = chunks
        self._progress = progress

    @property
    def result(self) -> M | None:
        """The validated answer, once the stream has yielded it; ``None`` before."""
        result: M | None = self._progress.result
        return result

    @property
    def text(self) -> str:
        """The answer's text received so far, exactly as the model wrote it."""
        return self._progress.text

    @property
    def finish_reason(self) -> FinishReason | None:
        """Why generation stopped, once the final chunk has arrived."""
        return self._progress.finish_reason

    @property
    def usage(self) -> Usage | None:
        """The answer's token counts, once the final chunk has brought them (if the backend reports them)."""
        return self._progress.usage

    async def aclose(self) -> None:
        """Stop the stream and close the underlying one; safe to call more than once."""
        try:
            await super().aclose()
        finally:
            # The generator closes the chunk stream when it leaves its ``async with``; one never
            # iterated has not entered it, and the chunk stream is closed here all the same.
            await self._chunks.aclose()


def stream_object(model: GenerativeModel, request: GenerateRequest, output: type[M]) -> ObjectStream[M]:
    """Stream an answer that follows ``output``'s JSON Schema: partial objects, then the validated one.

    The request's ``output_schema`` is set from ``output``, as :func:`~botticelli_interface.generate_object`
    does, and the answer is streamed. Not a coroutine: use ``async with`` and ``async for``.
    An invalid answer is not re-asked about (partial objects of a second answer would
    contradict those of the first); use ``generate_object(..., retries=N)`` for that.

    Args:
        model: Any backend.
        request: The conversation; its ``output_schema`` is replaced by ``output``'s.
        output: The pydantic model class the answer must validate as.

    Raises:
        UnsupportedInputError: ``model`` has no structured output (``input_type="output_schema"``);
            on this call, or on the first iteration for a backend that only learns it then.
        OutputValidationError: At the end of the iteration, when the whole answer is not JSON
            or does not validate; it keeps the raw text, and ``usage`` when the backend reported it.
        BotticelliError: Any other typed error of ``model.generate_stream``.

    Examples:
        >>> import asyncio
        >>> from botticelli_core import StreamChunk
        >>> from botticelli_interface import ManagedStream
        >>> class Person(BaseModel):
        ...     name: str
        ...     age: int
        >>> async def pieces():
        ...     for text in ['{"name": "Ad', 'a", "a', 'ge": 3', '6}']:
        ...         yield StreamChunk(text=text)
        ...     yield StreamChunk(is_final=True, finish_reason="stop")
        >>> class Canned:  # any GenerativeModel will do
        ...     provider_name, model_name = "canned", "canned"
        ...     async def generate(self, request): raise NotImplementedError
        ...     def generate_stream(self, request): return ManagedStream(pieces())
        >>> async def main():
        ...     async with stream_object(Canned(), GenerateRequest.from_prompt("Who?"), Person) as stream:
        ...         async for person in stream:
        ...             print("partial" if stream.result is None else "final", person)
        >>> asyncio.run(main())
        partial name='Ad' age=None
        partial name='Ada' age=None
        partial name='Ada' age=3
        partial name='Ada' age=36
        final name='Ada' age=36
    """
    constrained = request.model_copy(update={"output_schema": output.model_json_schema()})
    chunks = model.generate_stream(constrained)
    progress = _Progress()
    return ObjectStream(_objects(chunks, output, progress), chunks, progress)


async def _objects(chunks: ChunkStream, output: type[M], progress: _Progress) -> AsyncGenerator[M, None]:
    """Partial objects while the chunks arrive, then the whole answer validated as ``output``."""
    partial = _partial_adapter(output)
    previous: M | None = None
    validated_at = 0  # the length of the text the last partial validation read
    async with chunks:
        async for chunk in chunks:
            if chunk.is_final:
                progress.finish_reason, progress.usage = chunk.finish_reason, chunk.usage
            if not chunk.text:
                continue
            progress.text += chunk.text
            length = len(progress.text)
            if partial is None or (length > _EVERY_CHUNK_CHARS and length - validated_at < length // _GROWTH):
                continue
            validated_at = length
            try:
                current: M = partial.validate_json(progress.text, experimental_allow_partial="trailing-strings")
            except (PydanticValidationError, RecursionError):
                # Not an object yet, or a value written before the last does not validate:
                # no partial until the text says more; the final validation names the problem.
                continue
            if current != previous:
                previous = current
                yield current
    answer = GenerateResponse(
        outputs=(TextOutput(text=progress.text),),
        # A backend's stream ends with a final chunk or raises; one that just stops is read as ended.
        finish_reason=progress.finish_reason or FinishReason.OTHER,
        usage=progress.usage,
    )
    value = _validated(answer, output)
    if isinstance(value, OutputValidationError):
        raise _exhausted([value], answer.usage)
    progress.result = value
    yield value


@functools.lru_cache(maxsize=128)
def _partial_adapter(output: type[BaseModel]) -> TypeAdapter[Any] | None:
    """The validator of partial answers of ``output``; ``None`` for a class it cannot mirror.

    Built once per class: a mirror and its validator cost milliseconds, a chunk microseconds.
    """
    try:
        return TypeAdapter(_mirror_model(output, ()))
    except (PydanticUserError, TypeError):
        # A field type that cannot be rebuilt around the mirrors (an unusual generic, a type
        # pydantic knows only inside a model): no partial objects, the final one still comes.
        return None


def _mirror_model(model: type[BaseModel], path: tuple[type[BaseModel], ...]) -> Any:
    """``model`` as a ``TypedDict`` of optional keys whose validated values become ``model``."""
    path = (*path, model)
    if issubclass(model, RootModel):
        root = _annotated(model.model_fields["root"], path)
        return Annotated[root, AfterValidator(functools.partial(_construct_root, model))]
    fields = {name: _annotated(info, path) for name, info in model.model_fields.items()}
    mirror = _TYPED_DICT(f"Partial{model.__name__}", fields, total=False)
    settings: dict[str, Any] = dict(model.model_config)
    mirror.__pydantic_config__ = {key: settings[key] for key in _VALUE_SETTINGS if key in settings}
    return Annotated[mirror, AfterValidator(functools.partial(_construct, model))]


def _annotated(info: FieldInfo, path: tuple[type[BaseModel], ...]) -> Any:
    """A field's type, mirrored, with its constraints and what else it says about its value."""
    annotation = _mirror_type(info.annotation, path)
    settings = {name: value for name in _FIELD_SETTINGS if (value := getattr(info, name)) is not None}
    # Not the default: a field not written yet is None in a partial object, not its default.
    metadata = [*info.metadata, *([Field(**settings)] if settings else [])]
    return Annotated[(annotation, *metadata)] if metadata else annotation


def _mirror_type(annotation: Any, path: tuple[type[BaseModel], ...]) -> Any:
    """``annotation`` with each model class in it replaced by its mirror; unchanged if none is."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation if path.count(annotation) >= _MIRROR_DEPTH else _mirror_model(annotation, path)
    origin = get_origin(annotation)
    if origin is None or origin is Literal:
        return annotation
    args = get_args(annotation)
    if origin is Annotated:
        inner = _mirror_type(args[0], path)
        return annotation if inner is args[0] else Annotated[(inner, *annotation.__metadata__)]
    mirrored = tuple(_mirror_type(arg, path) for arg in args)
    if all(new is old for new, old in zip(mirrored, args, strict=True)):
        # Rebuilt only around a mirror: any other generic stays exactly as the model wrote it.
        return annotation
    if origin is Union or origin is types.UnionType:
        return Union[mirrored]  # noqa: UP007 - built from a tuple, which the | operator cannot take
    return origin[mirrored]


def _construct(model: type[BaseModel], values: dict[str, Any]) -> BaseModel:
    # Every field is set, None where not written yet, so reading one never raises; only those
    # written count as set.
    return model.model_construct(_fields_set=set(values), **{name: values.get(name) for name in model.model_fields})


def _construct_root(model: type[BaseModel], value: Any) -> BaseModel:
    return model.model_construct(root=value)
