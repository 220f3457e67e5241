"""[server] autostart against the real llama-cpp-python server with the tiny model.

The client starts the server from a botticelli.toml, generates, and stops it; a SIGKILL of
the server is a ServerCrashedError on the next call, or, with a restart policy, a restart.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import anyio
import pytest

from botticelli import ModelProvider
from botticelli.autostart import AutostartedClient
from botticelli_core import GenerateRequest
from botticelli_error import ServerCrashedError, ServerUnavailableError
from tests.api._engine import TINY_CONTEXT, TINY_MODEL_NAME

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("llama_cpp_server")]

PROMPT = GenerateRequest.from_prompt("Hello", max_tokens=4, temperature=0.0, seed=1)


def write_config(directory: Path, model: Path, *, restart: str = "") -> Path:
    path = directory / "botticelli.toml"
    path.write_text(
        f"""
[model]
provider = "local"

[model.local]
max_retries = 0

[server]
preset = "llama-cpp-python"
model = "{model}"
alias = "{TINY_MODEL_NAME}"
port = 0
autostart = true
extra_args = ["--n_ctx", "{TINY_CONTEXT}"]
{restart}
"""
    )
    return path


def group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


async def kill_server(client: AutostartedClient) -> int:
    server = client.server
    assert server is not None
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    with anyio.fail_after(10):
        while server.returncode is None:  # noqa: ASYNC110 - a child process can only be polled
            await anyio.sleep(0.05)
    return pid


def autostarted(config: Path) -> AutostartedClient:
    client = ModelProvider.from_config(config, env={}).create_client()
    assert isinstance(client, AutostartedClient)
    return client


@pytest.mark.anyio
async def test_autostart_generates_then_a_killed_server_is_a_typed_error(tiny_model: Path, tmp_path: Path) -> None:
    async with autostarted(write_config(tmp_path, tiny_model)) as client:
        response = await client.generate(PROMPT)
        assert response.usage is not None
        assert response.usage.output_tokens == 4
        pid = await kill_server(client)
        with pytest.raises(ServerCrashedError) as caught:
            await client.generate(PROMPT)
        assert caught.value.exit_code == -signal.SIGKILL
        assert "exited with status -9" in caught.value.message
        assert caught.value.output_tail  # the server's own last lines (uvicorn's, at least)
        # Final without a policy: the next call says the same, and starts nothing.
        with pytest.raises(ServerCrashedError):
            await client.generate(PROMPT)
    assert group_is_gone(pid)


@pytest.mark.anyio
async def test_with_restarts_on_the_call_after_a_kill_restarts_the_server(tiny_model: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, tiny_model, restart="restart = { max_restarts = 1, backoff = 0.1 }")
    async with autostarted(config) as client:
        first = await client.generate(PROMPT)
        old_pid = await kill_server(client)
        again = await client.generate(PROMPT)
        assert client.restarts == 1
        assert client.server is not None
        new_pid = client.server.pid
        assert new_pid is not None
        assert new_pid != old_pid
        # Greedy and seeded: the restarted server says what the first one said.
        assert again.text == first.text
        await kill_server(client)
        with pytest.raises(ServerCrashedError) as caught:
            await client.generate(PROMPT)
        assert caught.value.restarts == 1
    assert group_is_gone(new_pid)


@pytest.mark.anyio
async def test_a_server_that_cannot_start_leaves_no_process(tmp_path: Path) -> None:
    missing = tmp_path / "missing.gguf"
    client = autostarted(write_config(tmp_path, missing))
    with pytest.raises(ServerUnavailableError) as caught:
        await client.open()
    assert "exited with status" in str(caught.value)
    server = client.server
    assert server is not None
    assert server.pid is not None
    assert group_is_gone(server.pid)
    await client.aclose()
