"""[server] autostart on the stub server: start on open, stop on close, crashes and restarts."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from botticelli import ModelProvider
from botticelli.autostart import AutostartedClient
from botticelli_core import GenerateRequest
from botticelli_error import ConfigurationError, ServerCrashedError, ServerUnavailableError
from botticelli_server.launcher import InferenceServer

STUB = str(Path(__file__).parents[1] / "server" / "_stub_server.py")
PROMPT = GenerateRequest.from_prompt("hi")


def settings(*flags: str, restart: dict[str, Any] | None = None, **server: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "command": [
            sys.executable,
            STUB,
            "--host",
            "{host}",
            "--port",
            "{port}",
            "--model-name",
            "{model_name}",
            *flags,
        ],
        "alias": "stub",
        "port": 0,
        "autostart": True,
        "startup_timeout": 15.0,
        **server,
    }
    if restart is not None:
        table["restart"] = restart
    return {"model": {"provider": "local", "local": {"max_retries": 0}}, "server": table}


def autostarted(*flags: str, **options: Any) -> AutostartedClient:
    client = ModelProvider.from_dict(settings(*flags, **options)).create_client()
    assert isinstance(client, AutostartedClient)
    return client


def group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def running(client: AutostartedClient) -> InferenceServer:
    server = client.server
    assert server is not None
    assert server.pid is not None
    return server


async def kill(server: InferenceServer) -> None:
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    with anyio.fail_after(10):
        while server.returncode is None:  # noqa: ASYNC110 - a child process can only be polled
            await anyio.sleep(0.02)


def answered_pid(text: str) -> int:
    return int(text.removeprefix("pid "))


@pytest.mark.anyio
async def test_async_with_starts_the_server_points_the_client_at_it_and_stops_it() -> None:
    client = autostarted()
    assert client.server is None  # nothing starts before the client is opened
    async with client:
        server = running(client)
        assert server.returncode is None
        response = await client.generate(PROMPT)
        assert answered_pid(response.text) == server.pid
        assert response.model == "stub"
    assert server.returncode is not None
    assert server.pid is not None
    assert group_is_gone(server.pid)


@pytest.mark.anyio
async def test_without_async_with_the_first_call_starts_it_and_aclose_stops_it() -> None:
    client = autostarted()
    try:
        chunks = [chunk async for chunk in client.generate_stream(PROMPT)]
        server = running(client)
        assert answered_pid("".join(c.text for c in chunks)) == server.pid
        assert (await client.health()).ready
        assert [m.id for m in await client.list_models()] == ["stub"]
    finally:
        await client.aclose()
    assert server.pid is not None
    assert group_is_gone(server.pid)
    await client.aclose()  # twice is fine
    with pytest.raises(ConfigurationError, match="closed"):
        await client.generate(PROMPT)


@pytest.mark.anyio
async def test_a_killed_server_is_a_server_crashed_error_with_its_exit_code_and_output() -> None:
    async with autostarted() as client:
        server = running(client)
        await kill(server)
        with pytest.raises(ServerCrashedError) as caught:
            await client.generate(PROMPT)
        error = caught.value
        assert error.exit_code == -signal.SIGKILL
        assert "listening on" in error.output_tail
        assert error.restarts == 0
        assert not error.retryable
        assert "restart" in error.message  # it says how to opt in
        health = await client.health()
        assert (health.ready, health.status) == (False, "crashed")
        assert client.server is server  # nothing was started again


@pytest.mark.anyio
async def test_a_server_dying_during_a_call_is_reported_as_a_crash() -> None:
    async with autostarted("--die-on-chat", "3") as client:
        with pytest.raises(ServerCrashedError) as caught:
            await client.generate(PROMPT)
        assert caught.value.exit_code == 3
        assert "dying on a chat request" in caught.value.output_tail


@pytest.mark.anyio
async def test_a_crash_message_keeps_the_lines_that_explain_it_not_the_load_noise() -> None:
    # 20 KB of output before serving, as a model load writes; the crash's own words come last.
    async with autostarted("--noise-bytes", "20000", "--die-on-chat", "3") as client:
        with pytest.raises(ServerCrashedError) as caught:
            await client.generate(PROMPT)
    error = caught.value
    tail_header = error.message.split("\n")[0]
    assert "exited with status 3" in tail_header
    assert "kept: the last 12" in tail_header  # it says what it kept
    assert error.message.rstrip().endswith("dying on a chat request")
    assert error.message.count("x" * 99) <= 12
    assert len(error.message) < 2_000  # the 40-line tail was over 4 KB
    # The attribute keeps the raw tail, for a caller who wants more.
    assert len(error.output_tail.splitlines()) == 40


@pytest.mark.anyio
async def test_a_stream_cut_by_the_servers_death_is_reported_as_a_crash() -> None:
    async with autostarted("--die-on-chat", "4") as client:

        async def drain() -> None:
            async with client.generate_stream(PROMPT) as stream:
                async for _ in stream:
                    pass

        with pytest.raises(ServerCrashedError) as caught:
            await drain()
        assert caught.value.exit_code == 4


@pytest.mark.anyio
async def test_with_a_restart_policy_the_next_call_restarts_it_boundedly_and_logs_each_restart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="botticelli")
    async with autostarted(restart={"max_restarts": 2, "backoff": 0.01}) as client:
        pids = []
        for _ in range(2):
            server = running(client)
            pids.append(server.pid)
            await kill(server)
            response = await client.generate(PROMPT)
            assert answered_pid(response.text) == running(client).pid
        assert client.restarts == 2
        assert len({*pids, running(client).pid}) == 3
        await kill(running(client))
        with pytest.raises(ServerCrashedError) as caught:
            await client.generate(PROMPT)
        assert caught.value.restarts == 2
        assert "spent" in caught.value.message
    restarts = [r for r in caplog.records if "inference_server_restarting" in r.getMessage()]
    assert len(restarts) == 2
    assert all(pid is not None and group_is_gone(pid) for pid in pids)


@pytest.mark.anyio
async def test_a_failure_after_the_server_started_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import botticelli.autostart as autostart  # noqa: PLC0415

    def broken(config: object) -> object:
        raise RuntimeError("cannot build the client")

    monkeypatch.setattr(autostart, "ServerClient", broken)
    client = autostarted()
    with pytest.raises(RuntimeError, match="cannot build"):
        await client.open()
    server = running(client)
    assert server.pid is not None
    assert group_is_gone(server.pid)
    await client.aclose()


@pytest.mark.anyio
async def test_a_server_that_never_becomes_ready_leaves_no_process() -> None:
    client = autostarted("--loading-probes", "100000", startup_timeout=1.0)
    with pytest.raises(ServerUnavailableError, match="not ready within"):
        async with client:
            pass  # pragma: no cover - never entered
    server = running(client)
    assert server.pid is not None
    assert group_is_gone(server.pid)


@pytest.mark.anyio
async def test_cancelling_the_open_leaves_no_process() -> None:
    client = autostarted("--loading-probes", "100000")
    with anyio.move_on_after(1.0):
        await client.open()
    server = running(client)
    assert server.pid is not None
    assert group_is_gone(server.pid)
    await client.aclose()
