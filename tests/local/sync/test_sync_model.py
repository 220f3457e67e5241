"""The blocking facade: calls, streams, threads, event loops, closing."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest
import respx

from botticelli.batch import BatchResult
from botticelli.sync import BlockingCallInEventLoopError, SyncModel
from botticelli_core import FinishReason, GenerateRequest, HealthStatus, StreamChunk, Usage
from botticelli_error import ConfigurationError, ServerUnavailableError, StreamInterruptedError, UnsupportedInputError
from botticelli_interface import ManagedStream, call_options
from tests.local.batch.fakes import CountingModel
from tests.local.server import wire
from tests.local.server.support import make_client


class StreamingModel(CountingModel):
    """CountingModel with streams of ``n`` chunks and a health check; records streams closed early."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(delay)
        self.streams_closed = 0
        self.closed = False

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        text = request.messages[-1].text or ""
        return ManagedStream(self._chunks(text))

    async def _chunks(self, text: str) -> AsyncGenerator[StreamChunk, None]:
        try:
            for i in range(int(text or "3")):
                await anyio.lowlevel.checkpoint()
                yield StreamChunk.delta(f"w{i} ")
            if text == "0":
                raise StreamInterruptedError("broke off", provider="fake", partial_text="")
            yield StreamChunk(
                is_final=True, finish_reason=FinishReason.STOP, usage=Usage(input_tokens=1, output_tokens=3)
            )
        finally:
            self.streams_closed += 1

    async def health(self) -> HealthStatus:
        return HealthStatus(ready=True, status="ok")

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def fake() -> StreamingModel:
    return StreamingModel(delay=0.2)


@pytest.fixture
def sync_model(fake: StreamingModel) -> Iterator[SyncModel]:
    with SyncModel(fake) as model:
        yield model


def test_generate_blocks_until_the_answer(sync_model: SyncModel) -> None:
    assert sync_model.generate(GenerateRequest.from_prompt("hello")).text == "HELLO"
    assert (sync_model.provider_name, sync_model.model_name) == ("fake", "fake")


def test_eight_threads_at_once_run_concurrently(sync_model: SyncModel, fake: StreamingModel) -> None:
    results: dict[int, str] = {}
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        results[i] = sync_model.generate(GenerateRequest.from_prompt(f"t{i}")).text

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == {i: f"T{i}" for i in range(8)}
    assert fake.most_in_flight == 8  # one loop, eight calls in flight together


def test_a_stream_is_an_iterator(sync_model: SyncModel, fake: StreamingModel) -> None:
    with sync_model.generate_stream(GenerateRequest.from_prompt("3")) as stream:
        chunks = list(stream)
    assert "".join(c.text for c in chunks) == "w0 w1 w2 "
    assert chunks[-1].is_final
    assert fake.streams_closed == 1


def test_closing_a_stream_early_releases_it(sync_model: SyncModel, fake: StreamingModel) -> None:
    stream = sync_model.generate_stream(GenerateRequest.from_prompt("1000"))
    assert next(stream).text == "w0 "
    stream.close()
    assert fake.streams_closed == 1
    assert list(stream) == []
    stream.close()  # twice is fine


def test_a_stream_error_is_raised_by_the_iteration(sync_model: SyncModel) -> None:
    with sync_model.generate_stream(GenerateRequest.from_prompt("0")) as stream, pytest.raises(StreamInterruptedError):
        next(stream)


def test_closing_the_model_closes_open_streams_and_the_model(fake: StreamingModel) -> None:
    model = SyncModel(fake)
    stream = model.generate_stream(GenerateRequest.from_prompt("1000"))
    next(stream)
    portal_threads = threading.active_count()
    model.close()
    assert fake.streams_closed == 1
    assert fake.closed
    assert threading.active_count() < portal_threads  # the portal's thread is gone
    with pytest.raises(ConfigurationError, match="closed"):
        model.generate(GenerateRequest.from_prompt("late"))
    model.close()


def test_health_passes_through_and_missing_capabilities_are_typed(sync_model: SyncModel) -> None:
    assert sync_model.health().ready
    with pytest.raises(UnsupportedInputError) as caught:
        sync_model.embed(["a"])
    assert caught.value.input_type == "embed"
    with pytest.raises(UnsupportedInputError):
        sync_model.count_tokens(GenerateRequest.from_prompt("a"))


def test_generate_many_blocks_for_every_result(sync_model: SyncModel) -> None:
    results = sync_model.generate_many(map(GenerateRequest.from_prompt, ["a", "bad", "c"]), concurrency=3)
    assert [r.ok for r in results] == [True, False, True]


def test_generate_many_reports_each_result_as_it_completes(sync_model: SyncModel) -> None:
    # The fake answers longer prompts sooner, so completion order is not input order.
    texts = ["a", "bb", "ccc", "bad", "eeeee"]
    seen: list[tuple[int, bool]] = []
    results = sync_model.generate_many(
        map(GenerateRequest.from_prompt, texts), concurrency=5, on_result=lambda r: seen.append((r.index, r.ok))
    )
    assert [r.index for r in results] == [0, 1, 2, 3, 4]  # the list is in input order, as before
    assert sorted(seen) == [(0, True), (1, True), (2, True), (3, False), (4, True)]
    assert [index for index, _ in seen] != [0, 1, 2, 3, 4]  # but each was reported when it finished
    assert seen[0][0] == 4


def test_generate_many_awaits_an_async_on_result_and_raises_what_it_raises(sync_model: SyncModel) -> None:
    seen: list[int] = []

    async def record(result: BatchResult) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(result.index)

    sync_model.generate_many(map(GenerateRequest.from_prompt, ["a", "b"]), concurrency=2, on_result=record)
    assert sorted(seen) == [0, 1]

    def fail(result: BatchResult) -> None:
        raise ValueError("a bug in the callback")

    # As for the async generate_many: the callback's error ends the batch, raised as it is.
    with pytest.raises(ValueError, match="a bug in the callback"):
        sync_model.generate_many(map(GenerateRequest.from_prompt, ["a", "b"]), concurrency=2, on_result=fail)


@pytest.mark.anyio
async def test_a_call_from_a_running_event_loop_is_refused_and_a_worker_thread_works(
    sync_model: SyncModel,
) -> None:
    request = GenerateRequest.from_prompt("hi")
    with pytest.raises(BlockingCallInEventLoopError):
        sync_model.generate(request)
    with pytest.raises(BlockingCallInEventLoopError):
        sync_model.generate_stream(request)
    # From a worker thread, while this loop keeps running, it is fine.
    response = await anyio.to_thread.run_sync(sync_model.generate, request)
    assert response.text == "HI"


def test_a_real_client_and_the_calling_threads_call_options() -> None:
    ok = httpx.Response(200, json=wire.OPENAI_COMPLETION)
    busy = httpx.Response(503, json={"error": {"message": "busy"}})
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).mock(side_effect=[busy, ok])
        with SyncModel(make_client(max_retries=2, backoff_initial=0.0)) as model:
            with call_options(max_retries=0), pytest.raises(ServerUnavailableError):
                model.generate(GenerateRequest.from_prompt("hi"))
            assert route.call_count == 1
            route.side_effect = [busy, ok]
            assert model.generate(GenerateRequest.from_prompt("hi")).text
    assert route.call_count == 3


def test_from_config_builds_the_configured_client(tmp_path: Path) -> None:
    config = tmp_path / "botticelli.toml"
    config.write_text('[model.local]\nbase_url = "http://127.0.0.1:9"\nmodel = "phi"\n')
    with SyncModel.from_config(config) as model:
        assert (model.provider_name, model.model_name) == ("local", "phi")


def test_a_facade_nobody_closed_does_not_keep_the_process_alive() -> None:
    script = (
        "from botticelli.sync import SyncModel\n"
        "from botticelli_server import ServerClient, ServerConfig\n"
        "model = SyncModel(ServerClient(ServerConfig(base_url='http://127.0.0.1:9', model='x')))\n"
        "print(model.model_name)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout) == (0, "x\n")
