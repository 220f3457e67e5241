"""Stream endings the real engine does not produce on demand, fed through a scripted engine stream."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from botticelli_core import GenerateRequest, StreamChunk
from botticelli_embedded import EmbeddedConfig, EmbeddedModel
from botticelli_embedded._engine import Engine, EngineStream
from botticelli_error import ServerUnavailableError, StreamInterruptedError

from ._fakes import FakeChoice, FakeChunk, FakeDelta, FakeUsage


def _script(monkeypatch: pytest.MonkeyPatch, chunks: Iterator[FakeChunk]) -> None:
    monkeypatch.setattr(Engine, "load", lambda self: None)
    monkeypatch.setattr(Engine, "open_stream", lambda self, kwargs: EngineStream(chunks))


def _text(text: str) -> FakeChunk:
    return FakeChunk([FakeChoice(FakeDelta(content=text))])


@pytest.fixture
def scripted_model(tiny_gguf: Path) -> EmbeddedModel:
    return EmbeddedModel(EmbeddedConfig(model_path=tiny_gguf))


async def _read(model: EmbeddedModel) -> list[StreamChunk]:
    async with model.generate_stream(GenerateRequest.from_prompt("Hi")) as stream:
        return [chunk async for chunk in stream]


@pytest.mark.anyio
async def test_chunks_carrying_nothing_are_not_handed_out(
    scripted_model: EmbeddedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = FakeChunk([FakeChoice(FakeDelta(content="b"), "stop")], usage=FakeUsage())
    _script(monkeypatch, iter([FakeChunk([FakeChoice()]), _text("a"), FakeChunk([]), final]))
    assert [chunk.text for chunk in await _read(scripted_model)] == ["a", "b"]


@pytest.mark.anyio
async def test_a_stream_ending_without_a_finish_reason_is_interrupted(
    scripted_model: EmbeddedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script(monkeypatch, iter([_text("par"), _text("tial")]))
    with pytest.raises(StreamInterruptedError, match="without a finish reason") as info:
        await scripted_model.generate(GenerateRequest.from_prompt("Hi"))
    assert info.value.partial_text == "partial"


def _failing_before_output() -> Iterator[FakeChunk]:
    raise ValueError("engine panicked\n   0: backtrace")
    yield _text("never")


@pytest.mark.anyio
async def test_an_engine_failure_before_any_output_is_the_engine_unavailable(
    scripted_model: EmbeddedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script(monkeypatch, _failing_before_output())
    with pytest.raises(ServerUnavailableError, match="engine panicked") as info:
        await _read(scripted_model)
    assert info.value.server_message == "engine panicked"
