"""stream_object: partial objects as the JSON arrives, the validated object last, and streams that always close."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from typing import Annotated, Any, Literal, TypeVar

import anyio
import pytest
import respx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PydanticUserError, RootModel, field_validator

from botticelli_core import GenerateRequest, StreamChunk, Usage
from botticelli_error import OutputValidationError, ResponseDecodeError, UnsupportedInputError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import ManagedStream, ObjectStream, stream_object
from botticelli_interface import object_stream as module
from tests.local.gemini import wire as gemini_wire
from tests.local.server import wire
from tests.local.server.support import Exchange, loopback, make_client, socket_released

pytestmark = pytest.mark.anyio

M = TypeVar("M", bound=BaseModel)
REQUEST = GenerateRequest.from_prompt("Who wrote the first program?")


class Person(BaseModel):
    name: str
    age: int = Field(ge=0)
    languages: list[str] = []

    @field_validator("name")
    @classmethod
    def _title(cls, name: str) -> str:
        return name.title()


class Canned:
    """A backend whose stream writes the given pieces of text, then a final chunk."""

    provider_name, model_name = "canned", "canned"

    def __init__(self, pieces: Sequence[str], usage: Usage | None = None) -> None:
        self.pieces = pieces
        self.usage = usage
        self.requests: list[GenerateRequest] = []
        self.closed = False

    async def generate(self, request: GenerateRequest) -> Any:
        raise NotImplementedError

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        self.requests.append(request)
        return ManagedStream(self._chunks())

    async def _chunks(self) -> AsyncGenerator[StreamChunk, None]:
        try:
            for piece in self.pieces:
                yield StreamChunk(text=piece)
            yield StreamChunk(is_final=True, finish_reason="stop", usage=self.usage)
        finally:
            self.closed = True


async def objects(model: Any, output: type[M]) -> tuple[list[M], ObjectStream[M]]:
    async with stream_object(model, REQUEST, output) as stream:
        items = [item async for item in stream]
    return items, stream


async def collect(stream: ObjectStream[M], into: list[M]) -> None:
    """Read ``stream`` to its end into ``into``, which keeps what came before an error."""
    async with stream:
        async for item in stream:
            into.append(item)


def by_character(text: str) -> list[str]:
    return list(text)


# -- what comes out ------------------------------------------------------------------------------


async def test_pieces_of_json_yield_growing_partial_objects_then_the_validated_one() -> None:
    pieces = ['{"name": "Ad', "a lovelace", '", "ag', 'e": 3', '6, "languages": ["Analytical', ' Engine"]}']
    model = Canned(pieces, usage=Usage(input_tokens=12, output_tokens=20))
    items, stream = await objects(model, Person)
    assert [item.model_dump() for item in items] == [
        {"name": "Ad", "age": None, "languages": None},
        {"name": "Ada lovelace", "age": None, "languages": None},
        {"name": "Ada lovelace", "age": 3, "languages": None},
        {"name": "Ada lovelace", "age": 36, "languages": ["Analytical"]},
        {"name": "Ada lovelace", "age": 36, "languages": ["Analytical Engine"]},
        # The last one ran the class's validators; the partial ones did not.
        {"name": "Ada Lovelace", "age": 36, "languages": ["Analytical Engine"]},
    ]
    assert all(type(item) is Person for item in items)
    assert items[0].model_fields_set == {"name"}
    assert stream.result is items[-1]
    assert (stream.finish_reason, stream.usage) == ("stop", Usage(input_tokens=12, output_tokens=20))
    assert stream.text == "".join(pieces)
    # The schema was asked for, as generate_object asks for it.
    assert model.requests[0].output_schema == Person.model_json_schema()
    assert model.closed


async def test_a_partial_equal_to_the_previous_one_is_not_yielded() -> None:
    pieces = ['{"name": "Ada"', " ", ",", ' "a', "ge", '": ', "36", "}"]
    items, _ = await objects(Canned(pieces), Person)
    assert [(item.name, item.age) for item in items] == [("Ada", None), ("Ada", 36), ("Ada", 36)]


async def test_the_final_object_is_yielded_even_when_equal_to_the_last_partial() -> None:
    class Plain(BaseModel):
        name: str

    items, stream = await objects(Canned(['{"name": "Ada"}']), Plain)
    assert items == [Plain(name="Ada"), Plain(name="Ada")]
    assert stream.result is items[1]


async def test_an_invalid_final_answer_raises_the_typed_error_after_the_partials() -> None:
    seen: list[Person] = []
    model = Canned(['{"name": "Ada", "age": -', "1}"], usage=Usage(input_tokens=5, output_tokens=9))
    stream = stream_object(model, REQUEST, Person)
    with pytest.raises(OutputValidationError) as caught:
        await collect(stream, seen)
    # -1 breaks the bound: never shown in a partial, and the final validation names it.
    assert [p.model_dump() for p in seen] == [{"name": "Ada", "age": None, "languages": None}]
    error = caught.value
    assert isinstance(error, ResponseDecodeError)
    assert error.raw_text == '{"name": "Ada", "age": -1}'
    assert [p["loc"] for p in error.problems] == [("age",)]
    assert error.usage == Usage(input_tokens=5, output_tokens=9)
    assert [a.raw_text for a in error.attempts] == [error.raw_text]
    assert stream.result is None
    assert model.closed


async def test_prose_instead_of_json_yields_nothing_then_the_typed_error() -> None:
    seen: list[Person] = []
    with pytest.raises(OutputValidationError, match="Invalid JSON"):
        await collect(stream_object(Canned(["Sure! ", "Ada Lovelace, 36."]), REQUEST, Person), seen)
    assert seen == []


async def test_a_value_that_does_not_validate_stops_the_partial_objects_until_the_end() -> None:
    pieces = ['{"name": "Ada", ', '"age": "old"', ', "languages": ["Note', ' G"]}']
    seen: list[Person] = []
    with pytest.raises(OutputValidationError):
        await collect(stream_object(Canned(pieces), REQUEST, Person), seen)
    # "old" is written whole and is no integer: from then on no partial object is valid.
    assert [p.model_dump() for p in seen] == [{"name": "Ada", "age": None, "languages": None}]


async def test_past_4_kib_partial_objects_come_as_the_text_grows_by_a_64th() -> None:
    class Notes(BaseModel):
        notes: list[str]

    text = json.dumps({"notes": [f"note {i:05}" for i in range(2000)]})  # 26 KB
    pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
    items, _ = await objects(Canned(pieces), Notes)
    lengths = [len(item.notes or ()) for item in items[:-1]]
    assert lengths == sorted(lengths)
    # Every chunk up to 4 KiB, then about 64 * ln(26 / 4) more: not one per chunk.
    assert len(items) < 1024 + 130 < len(pieces)
    assert items[-1].notes[-1] == "note 01999"


# -- the partial objects of richer classes --------------------------------------------------------


class Address(BaseModel):
    city: str
    postcode: str = Field(min_length=4)


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    name: str


class Owner(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    full_name: str = Field(alias="fullName")
    nickname: str = Field(validation_alias=AliasChoices("nickname", "nick"))
    home: Address
    pets: list[Annotated[Cat | Dog, Field(discriminator="kind")]]


OWNER = {
    "fullName": "Ada Lovelace",
    "nick": " Ada ",
    "home": {"city": "London", "postcode": "W1J 7NT"},
    "pets": [{"kind": "cat", "lives": 9}, {"kind": "dog", "name": "Rex"}],
}


async def test_nested_models_lists_aliases_and_tagged_unions_are_partial_objects_too() -> None:
    text = json.dumps(OWNER)
    items, _ = await objects(Canned(by_character(text)), Owner)
    assert items[-1] == Owner.model_validate(OWNER)
    dumps = [item.model_dump() for item in items]
    # The nested model fills in as the outer one does, as an instance of its own class.
    assert {"city": "Lon", "postcode": None} in [d["home"] for d in dumps]
    assert any(isinstance(item.home, Address) and item.home.city == "Lon" for item in items)
    # A postcode shorter than its min_length is left out until it is long enough.
    postcodes = [d["home"]["postcode"] for d in dumps if d["home"] and d["home"]["postcode"]]
    assert postcodes[0] == "W1J "
    # The class's settings apply (str_strip_whitespace), and its aliases ("nick") are read.
    assert {d["nickname"] for d in dumps} == {None, "", "A", "Ad", "Ada"}
    pets = [d["pets"] for d in dumps if d["pets"]]
    # The tagged union picks its member once the whole tag is written, and fills it in.
    assert [p[1] for p in pets if len(p) == 2][:3] == [
        {"kind": "dog", "name": None},
        {"kind": "dog", "name": ""},
        {"kind": "dog", "name": "R"},
    ]
    assert isinstance(items[-1].pets[1], Dog)
    # full_name is written under its alias, fullName.
    assert "Ada Love" in {d["full_name"] for d in dumps}


async def test_a_class_nested_in_itself_is_a_partial_object_at_every_level() -> None:
    class Node(BaseModel):
        name: str
        children: list[Node] = []

    tree = {"name": "a", "children": [{"name": "b", "children": [{"name": "c", "children": [{"name": "d"}]}]}]}
    items, _ = await objects(Canned(by_character(json.dumps(tree))), Node)
    assert items[-1] == Node.model_validate(tree)
    # Four levels are mirrored; each shows up with its name while it is being written.
    deepest = [i.children[0].children[0].children[0].name for i in items[:-1] if _depth(i) == 4]
    assert deepest == [None, "", "d"]


def _depth(node: Any) -> int:
    return 1 + max((_depth(child) for child in node.children or ()), default=0)


async def test_a_root_model_of_a_list_streams_its_items() -> None:
    class Cities(RootModel[list[Address]]):
        pass

    text = json.dumps([{"city": "Oslo", "postcode": "0150"}, {"city": "Bergen", "postcode": "5003"}])
    items, _ = await objects(Canned(by_character(text)), Cities)
    assert [len(item.root) for item in items].count(2) > 1
    assert any(item.root and item.root[-1].city == "Ber" for item in items)
    assert items[-1] == Cities.model_validate_json(text)


async def test_a_class_whose_mirror_cannot_be_built_streams_straight_to_its_final_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(model: Any, path: Any) -> Any:
        raise PydanticUserError("no schema for this type", code=None)

    class Unusual(BaseModel):
        name: str

    monkeypatch.setattr(module, "_mirror_model", refuse)
    items, _ = await objects(Canned(['{"name": ', '"Ada"}']), Unusual)
    assert items == [Unusual(name="Ada")]


# -- streams that close ----------------------------------------------------------------------------


def sse_of(*pieces: str) -> bytes:
    return wire.sse(
        wire.openai_chunk("", role="assistant"),
        *(wire.openai_chunk(piece) for piece in pieces),
        wire.openai_chunk(finish="stop"),
        wire.openai_usage_chunk(14, 9),
    )


async def test_a_local_server_stream_becomes_partial_objects_and_sends_the_schema() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(
            200, headers=wire.SSE, content=sse_of('{"name": "ad', 'a", "age": ', "36}")
        )
        async with make_client(max_retries=0) as client:
            items, stream = await objects(client, Person)
    assert [(p.name, p.age) for p in items] == [("ad", None), ("ada", None), ("ada", 36), ("Ada", 36)]
    assert stream.usage is not None
    assert (stream.usage.input_tokens, stream.usage.output_tokens) == (14, 9)
    body = json.loads(route.calls.last.request.content)
    assert body["stream"] is True
    assert body["response_format"]["json_schema"]["schema"] == Person.model_json_schema()


async def test_a_gemini_stream_becomes_partial_objects() -> None:
    events = [
        gemini_wire.response(gemini_wire.text_candidate('{"name": "Ad'), meta=gemini_wire.usage(9)),
        gemini_wire.response(gemini_wire.text_candidate('a", "age": 3'), meta=gemini_wire.usage(9)),
        gemini_wire.response(gemini_wire.text_candidate("6}", finish="STOP"), meta=gemini_wire.usage(9, 11)),
    ]
    config = GeminiConfig(api_key=gemini_wire.API_KEY, base_url=gemini_wire.BASE_URL, model=gemini_wire.MODEL)
    with respx.mock(using="httpx", base_url=gemini_wire.BASE_URL, assert_all_mocked=True) as mock:
        route = mock.post(gemini_wire.STREAM_PATH).respond(
            200, headers={"content-type": "text/event-stream"}, content=gemini_wire.sse(*events)
        )
        async with GeminiClient(config) as model:
            items, stream = await objects(model, Person)
    assert [(p.name, p.age) for p in items] == [("Ad", None), ("Ada", 3), ("Ada", 36), ("Ada", 36)]
    assert stream.usage == Usage(input_tokens=9, output_tokens=11)
    assert json.loads(route.calls.last.request.content)["generationConfig"]["responseMimeType"] == "application/json"


async def endless_list(exchange: Exchange) -> None:
    await exchange.start()
    await exchange.send(wire.sse(wire.openai_chunk('{"languages": ['), done=False))
    while True:
        await exchange.send(wire.sse(wire.openai_chunk('"Note G", '), done=False))
        await asyncio.sleep(0.005)


async def test_leaving_the_block_mid_stream_closes_the_connection() -> None:
    async with loopback(endless_list) as server, make_client(server.url) as client:
        async with stream_object(client, REQUEST, Person) as stream:
            async for person in stream:
                if len(person.languages or ()) == 3:
                    break
        await socket_released(server)


async def test_cancelling_the_consuming_task_mid_stream_closes_the_connection() -> None:
    received = anyio.Event()

    async with loopback(endless_list) as server, make_client(server.url) as client:

        async def consume() -> None:
            async with stream_object(client, REQUEST, Person) as stream:
                async for _person in stream:
                    received.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await received.wait()
            tg.cancel_scope.cancel()
        await socket_released(server)


class Unread:
    """A backend's chunk stream that records being closed and must never be read."""

    def __init__(self) -> None:
        self.closed = 0

    def __aiter__(self) -> Unread:
        return self

    async def __anext__(self) -> StreamChunk:
        raise AssertionError("read")

    async def __aenter__(self) -> Unread:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self.closed += 1


async def test_a_stream_closed_before_it_was_iterated_closes_the_backends_stream() -> None:
    chunks = Unread()

    class Lazy(Canned):
        def generate_stream(self, request: GenerateRequest) -> Any:
            return chunks

    stream = stream_object(Lazy([]), REQUEST, Person)
    await stream.aclose()
    assert chunks.closed == 1
    await stream.aclose()  # safe twice; the backend's stream is asked again, as its protocol allows
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_a_request_the_backend_refuses_fails_on_the_call_with_nothing_sent() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, headers=wire.SSE, content=sse_of("{}"))
        async with make_client(max_retries=0, dialect="llama-cpp-python") as client:
            request = REQUEST.model_copy(update={"adapter": "not-loaded"})
            with pytest.raises(UnsupportedInputError) as caught:
                stream_object(client, request, Person)
    assert caught.value.input_type == "adapter"
    assert not route.called
