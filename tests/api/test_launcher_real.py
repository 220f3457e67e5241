"""InferenceServer against a real engine: llama.cpp's Python server with the tiny model."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from botticelli_core import FinishReason, GenerateRequest, Message
from botticelli_error import ServerUnavailableError
from botticelli_server.client import ServerClient
from botticelli_server.launcher import InferenceServer
from tests.api._engine import TINY_MODEL_NAME, tiny_llama_server

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("llama_cpp_server")]


def group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.anyio
async def test_starts_serves_the_tiny_model_and_stops_without_leaving_a_process(tiny_model: Path) -> None:
    server = tiny_llama_server(tiny_model)
    async with server:
        pid = server.pid
        assert pid is not None
        assert server.returncode is None
        async with ServerClient(server.config) as client:
            health = await client.health()
            models = await client.list_models()
        assert health.ready
        assert TINY_MODEL_NAME in [m.id for m in models]
    assert server.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


@pytest.mark.anyio
async def test_a_model_path_that_does_not_exist_fails_fast_with_the_server_output(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model.gguf"
    server = tiny_llama_server(missing, startup_timeout=120.0)
    with anyio.fail_after(60), pytest.raises(ServerUnavailableError) as caught:
        await server.start()
    message = str(caught.value)
    assert "exited with status" in message
    assert "llama_cpp.server" in message
    assert str(missing) in server.output_tail()  # the server's own complaint names the file
    assert server.returncode not in (None, 0)
    assert server.pid is not None
    assert group_is_gone(server.pid)


@pytest.mark.anyio
async def test_cancelling_while_the_server_runs_still_stops_it(tiny_model: Path) -> None:
    server = tiny_llama_server(tiny_model)
    with anyio.move_on_after(30) as scope:
        async with server:
            scope.deadline = anyio.current_time()  # cancel the body right away
            await anyio.sleep(30)
    assert scope.cancelled_caught
    assert server.pid is not None
    assert group_is_gone(server.pid)


@pytest.mark.anyio
async def test_the_preset_lets_concurrent_streams_all_finish(tiny_model: Path) -> None:
    # Without --interrupt_requests False, each new request aborts the stream that is running.
    server = InferenceServer(
        "llama-cpp-python", model=tiny_model, model_name=TINY_MODEL_NAME, extra_args=["--n_ctx", "512"]
    )
    request = GenerateRequest(messages=[Message.user("Count to twenty.")], max_tokens=24, temperature=0.0)
    finals: list[FinishReason | None] = []

    async def stream_one(client: ServerClient) -> None:
        async with client.generate_stream(request) as stream:
            chunks = [chunk async for chunk in stream]
        finals.append(chunks[-1].finish_reason if chunks and chunks[-1].is_final else None)

    async with server, ServerClient(server.config) as client:
        with anyio.fail_after(120):
            async with anyio.create_task_group() as group:
                for _ in range(4):
                    group.start_soon(stream_one, client)
                    await anyio.sleep(0.05)  # each arrives while an earlier one is streaming
    assert len(finals) == 4
    assert all(final in (FinishReason.LENGTH, FinishReason.STOP) for final in finals), finals
