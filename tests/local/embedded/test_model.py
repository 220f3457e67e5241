"""The embedded backend against the real mistral.rs engine and the tiny random model."""

import time
from pathlib import Path

import anyio
import pytest
from structlog.testing import capture_logs

from botticelli_core import FinishReason, GenerateRequest, ImageInput, MediaSource, Message, StreamChunk
from botticelli_embedded import EmbeddedConfig, EmbeddedModel
from botticelli_error import (
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    StreamInterruptedError,
    UnsupportedInputError,
)
from botticelli_interface import (
    ChunkStream,
    GenerativeModel,
    SupportsAclose,
    SupportsHealth,
    SupportsListModels,
)

# Far more tokens than the tests read: a generation left running would take seconds.
_LONG = 1800
# A short request takes milliseconds; one queued behind a forgotten long generation takes
# seconds. The bound sits between, scaled by how fast the machine is right now.
_SLACK_S = 0.5


def _request(max_tokens: int = 12, *, stop: tuple[str, ...] | None = None, model: str | None = None) -> GenerateRequest:
    return GenerateRequest.from_prompt(
        "Tell me a story.", max_tokens=max_tokens, temperature=0.0, stop=stop, model=model
    )


async def _drain(stream: ChunkStream) -> str:
    """Read a stream to its end (or its error), returning the text."""
    async with stream:
        return "".join([chunk.text async for chunk in stream])


async def _timed_generate(model: EmbeddedModel) -> float:
    started = time.perf_counter()
    response = await model.generate(_request(max_tokens=3))
    assert response.usage is not None
    assert response.usage.output_tokens == 3
    return time.perf_counter() - started


async def _short_request_bound(model: EmbeddedModel) -> float:
    """How long a short request may take now, with nothing else running on the engine."""
    return _SLACK_S + 5 * await _timed_generate(model)


@pytest.mark.anyio
async def test_the_embedded_model_implements_the_protocols(model: EmbeddedModel) -> None:
    assert isinstance(model, GenerativeModel)
    assert isinstance(model, SupportsHealth)
    assert isinstance(model, SupportsListModels)
    assert isinstance(model, SupportsAclose)
    stream = model.generate_stream(_request())
    assert isinstance(stream, ChunkStream)
    await stream.aclose()
    assert (model.provider_name, model.model_name) == ("embedded", "tiny")
    assert model.config.max_sequences == 32


@pytest.mark.anyio
async def test_generate_stops_at_max_tokens(model: EmbeddedModel) -> None:
    response = await model.generate(_request(max_tokens=7))
    assert response.finish_reason is FinishReason.LENGTH
    assert response.usage is not None
    assert response.usage.output_tokens == 7
    assert response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + 7
    assert response.text
    assert response.model == "tiny"


@pytest.mark.anyio
async def test_generation_at_temperature_zero_is_repeatable(model: EmbeddedModel) -> None:
    first = await model.generate(_request(max_tokens=16))
    second = await model.generate(_request(max_tokens=16))
    assert first.text == second.text


@pytest.mark.anyio
async def test_streamed_chunks_join_to_the_whole_answer(model: EmbeddedModel) -> None:
    whole = await model.generate(_request(max_tokens=16))
    async with model.generate_stream(_request(max_tokens=16)) as stream:
        chunks = [chunk async for chunk in stream]
    assert len(chunks) > 1
    assert "".join(chunk.text for chunk in chunks) == whole.text
    assert [chunk.is_final for chunk in chunks] == [False] * (len(chunks) - 1) + [True]


@pytest.mark.anyio
async def test_only_the_final_chunk_has_the_finish_reason_and_usage(model: EmbeddedModel) -> None:
    async with model.generate_stream(_request(max_tokens=5)) as stream:
        chunks = [chunk async for chunk in stream]
    *body, final = chunks
    assert all(chunk.finish_reason is None and chunk.usage is None for chunk in body)
    assert final.finish_reason is FinishReason.LENGTH
    assert final.usage is not None
    assert final.usage.output_tokens == 5


@pytest.mark.anyio
async def test_a_stop_sequence_ends_the_answer_early(model: EmbeddedModel) -> None:
    full = (await model.generate(_request(max_tokens=24))).text
    stop = full[8:10]
    response = await model.generate(_request(max_tokens=24, stop=(stop,)))
    assert response.finish_reason is FinishReason.STOP
    assert len(response.text) < len(full)
    assert full.startswith(response.text)


@pytest.mark.anyio
async def test_concurrent_requests_all_complete(model: EmbeddedModel) -> None:
    texts: list[str] = []

    async def one() -> None:
        texts.append((await model.generate(_request(max_tokens=10))).text)

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(one)
    assert len(texts) == 4
    assert len(set(texts)) == 1


@pytest.mark.anyio
async def test_leaving_a_stream_early_stops_its_generation(single_sequence_model: EmbeddedModel) -> None:
    bound = await _short_request_bound(single_sequence_model)
    async with single_sequence_model.generate_stream(_request(max_tokens=_LONG)) as stream:
        async for _chunk in stream:
            break
    # The engine runs one sequence at a time: had the abandoned one kept going, this would queue behind it.
    assert await _timed_generate(single_sequence_model) < bound


@pytest.mark.anyio
async def test_a_stream_closed_after_its_first_chunk_leaves_the_model_usable(model: EmbeddedModel) -> None:
    stream = model.generate_stream(_request(max_tokens=_LONG))
    first = await stream.__anext__()
    assert isinstance(first, StreamChunk)
    await stream.aclose()
    await stream.aclose()
    response = await model.generate(_request(max_tokens=4))
    assert response.usage is not None
    assert response.usage.output_tokens == 4


@pytest.mark.anyio
async def test_cancelling_a_task_mid_stream_stops_its_generation(single_sequence_model: EmbeddedModel) -> None:
    bound = await _short_request_bound(single_sequence_model)
    received: list[StreamChunk] = []

    async def consume() -> None:
        async with single_sequence_model.generate_stream(_request(max_tokens=_LONG)) as stream:
            async for chunk in stream:
                received.append(chunk)
                if len(received) == 3:
                    scope.cancel()

    with anyio.CancelScope() as scope:
        await consume()
    assert scope.cancelled_caught
    assert len(received) == 3
    assert await _timed_generate(single_sequence_model) < bound


@pytest.mark.anyio
async def test_cancelling_a_whole_generation_stops_it(single_sequence_model: EmbeddedModel) -> None:
    bound = await _short_request_bound(single_sequence_model)
    with anyio.move_on_after(0.3) as scope:
        await single_sequence_model.generate(_request(max_tokens=_LONG))
    assert scope.cancelled_caught
    assert await _timed_generate(single_sequence_model) < bound


@pytest.mark.anyio
async def test_a_request_cancelled_while_the_model_loads_leaves_it_loading(own_model: EmbeddedModel) -> None:
    with anyio.move_on_after(0.01) as scope:
        await own_model.generate(_request(max_tokens=3))
    assert scope.cancelled_caught
    response = await own_model.generate(_request(max_tokens=3))
    assert response.finish_reason is FinishReason.LENGTH
    [info] = await own_model.list_models()
    assert info.status == "loaded"


@pytest.mark.anyio
async def test_media_inputs_are_refused_before_anything_runs(model: EmbeddedModel) -> None:
    image = ImageInput(mime="image/png", source=MediaSource.from_bytes(b"\x89PNG"))
    request = GenerateRequest(messages=[Message.user([image])], max_tokens=3)
    with pytest.raises(UnsupportedInputError, match="image") as info:
        await model.generate(request)
    assert info.value.input_type == "image"
    with pytest.raises(UnsupportedInputError):
        model.generate_stream(request)


@pytest.mark.anyio
async def test_a_request_for_another_model_is_not_found(model: EmbeddedModel) -> None:
    with pytest.raises(NotFoundError, match="'other' is not loaded") as info:
        await model.generate(_request(model="other"))
    assert info.value.provider == "embedded"
    assert (await model.generate(_request(max_tokens=2, model="tiny"))).usage is not None


@pytest.mark.anyio
async def test_a_prompt_longer_than_the_context_is_a_bad_request(model: EmbeddedModel) -> None:
    request = GenerateRequest.from_prompt("a " * 5000, max_tokens=2)
    with pytest.raises(BadRequestError, match="greater than") as info:
        await model.generate(request)
    assert info.value.provider == "embedded"
    with pytest.raises(BadRequestError):
        await _drain(model.generate_stream(request))


@pytest.fixture
def junk_model(tmp_path: Path) -> EmbeddedConfig:
    path = tmp_path / "junk.gguf"
    path.write_bytes(b"this is not a GGUF file" * 4)
    return EmbeddedConfig(model_path=path)


@pytest.mark.anyio
async def test_a_file_that_is_no_model_is_a_configuration_error_naming_it(junk_model: EmbeddedConfig) -> None:
    async with EmbeddedModel(junk_model) as broken:
        with pytest.raises(ConfigurationError, match=r"junk\.gguf") as info:
            await broken.generate(_request())
        assert info.value.provider == "embedded"
        health = await broken.health()
        assert not health.ready
        assert health.status == "unavailable"
        assert health.detail is not None
        assert "junk.gguf" in health.detail


@pytest.fixture
def vanished_model(tiny_gguf: Path, tmp_path: Path) -> EmbeddedConfig:
    """Settings whose model file was there when they were made, and is gone since."""
    path = tmp_path / "gone.gguf"
    path.write_bytes(tiny_gguf.read_bytes())
    config = EmbeddedConfig(model_path=path)
    path.unlink()
    return config


@pytest.mark.anyio
async def test_a_model_file_removed_before_loading_is_a_configuration_error(vanished_model: EmbeddedConfig) -> None:
    async with EmbeddedModel(vanished_model) as gone:
        with pytest.raises(ConfigurationError, match=r"gone\.gguf"):
            await gone.generate(_request())


@pytest.mark.anyio
async def test_health_loads_the_model_and_list_models_reports_it(own_model: EmbeddedModel) -> None:
    [before] = await own_model.list_models()
    assert (before.id, before.status, before.context_length) == ("tiny", "unloaded", None)
    health = await own_model.health()
    assert (health.ready, health.status) == (True, "ok")
    assert health.latency_s is not None
    [after] = await own_model.list_models()
    assert after.status == "loaded"
    assert after.context_length == 2048
    assert after.details["file"] == "tiny.gguf"


@pytest.mark.anyio
async def test_a_closed_model_refuses_requests(own_model: EmbeddedModel) -> None:
    await own_model.generate(_request(max_tokens=2))
    await own_model.aclose()
    await own_model.aclose()
    with pytest.raises(ConfigurationError, match="closed"):
        await own_model.generate(_request())
    health = await own_model.health()
    assert (health.ready, health.status) == (False, "unavailable")
    [info] = await own_model.list_models()
    assert info.status == "unloaded"


@pytest.mark.anyio
async def test_closing_the_model_interrupts_an_open_stream(own_model: EmbeddedModel) -> None:
    delivered: list[str] = []

    async def read_all(stream: ChunkStream) -> None:
        async for chunk in stream:
            delivered.append(chunk.text)

    async with own_model.generate_stream(_request(max_tokens=_LONG)) as stream:
        delivered.append((await stream.__anext__()).text)
        await own_model.aclose()
        with pytest.raises(StreamInterruptedError) as info:
            await read_all(stream)
    assert info.value.partial_text == "".join(delivered)
    assert info.value.provider == "embedded"


@pytest.mark.anyio
async def test_each_request_logs_one_event_without_the_prompt(model: EmbeddedModel) -> None:
    with capture_logs() as logs:
        await model.generate(_request(max_tokens=4))
        async with model.generate_stream(_request(max_tokens=3)) as stream:
            async for _chunk in stream:
                pass
    events = [log for log in logs if log["event"] == "botticelli.request"]
    assert [(e["operation"], e["output_tokens"]) for e in events] == [("generate", 4), ("generate_stream", 3)]
    assert all(e["provider"] == "embedded" and e["model"] == "tiny" and "error" not in e for e in events)
    assert "Tell me a story" not in repr(logs)


@pytest.mark.anyio
async def test_a_failed_request_logs_its_error(model: EmbeddedModel) -> None:
    with capture_logs() as logs, pytest.raises(BadRequestError):
        await model.generate(GenerateRequest.from_prompt("a " * 5000, max_tokens=2))
    [event] = [log for log in logs if log["event"] == "botticelli.request"]
    assert (event["error"], event["log_level"]) == ("BadRequestError", "warning")
