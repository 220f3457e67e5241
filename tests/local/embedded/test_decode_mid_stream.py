"""An engine chunk botticelli cannot read, after some text: a ``ResponseDecodeError`` holding that text."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from botticelli_core import GenerateRequest
from botticelli_embedded import EmbeddedConfig, EmbeddedModel
from botticelli_embedded._engine import Engine, EngineStream
from botticelli_error import ResponseDecodeError
from botticelli_interface import ChunkStream

from ._fakes import FakeChoice, FakeChunk, FakeDelta, FakeUsage

GOOD = [FakeChunk([FakeChoice(FakeDelta(content="Hel"))]), FakeChunk([FakeChoice(FakeDelta(content="lo"))])]
UNREADABLE = {
    "a delta that is not text": FakeChunk([FakeChoice(FakeDelta(content=42))]),  # type: ignore[arg-type]
    "negative token counts": FakeChunk([FakeChoice(FakeDelta(), "stop")], usage=FakeUsage(prompt_tokens=-7)),
}


def _script(monkeypatch: pytest.MonkeyPatch, chunks: Iterator[FakeChunk]) -> None:
    monkeypatch.setattr(Engine, "load", lambda self: None)
    monkeypatch.setattr(Engine, "open_stream", lambda self, kwargs: EngineStream(chunks))


async def drain(stream: ChunkStream, into: list[str]) -> None:
    """Read ``stream`` to its end, keeping each chunk's text as it arrives."""
    async with stream:
        async for chunk in stream:
            into.append(chunk.text)


@pytest.mark.anyio
@pytest.mark.parametrize("bad", UNREADABLE.values(), ids=UNREADABLE.keys())
async def test_a_stream_keeps_the_text_delivered_before_an_unreadable_chunk(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch, bad: FakeChunk
) -> None:
    _script(monkeypatch, iter([*GOOD, bad]))
    received: list[str] = []
    model = EmbeddedModel(EmbeddedConfig(model_path=tiny_gguf))
    with pytest.raises(ResponseDecodeError) as caught:
        await drain(model.generate_stream(GenerateRequest.from_prompt("Hi")), received)
    assert "".join(received) == "Hello"
    assert caught.value.partial_text == "Hello"
    assert caught.value.provider == "embedded"


@pytest.mark.anyio
async def test_generate_reports_an_unreadable_chunk_as_a_decode_error(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script(monkeypatch, iter([*GOOD, UNREADABLE["a delta that is not text"]]))
    model = EmbeddedModel(EmbeddedConfig(model_path=tiny_gguf))
    with pytest.raises(ResponseDecodeError) as caught:
        await model.generate(GenerateRequest.from_prompt("Hi"))
    assert caught.value.partial_text == "Hello"
