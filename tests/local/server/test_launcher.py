"""InferenceServer: building commands, waiting for readiness, and never leaving a process behind."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import anyio
import pytest

from botticelli_error import ConfigurationError, ServerUnavailableError
from botticelli_server._presets import PRESETS, get_preset
from botticelli_server.config import ServerConfig
from botticelli_server.launcher import OUTPUT_TAIL_LINES, InferenceServer, find_free_port

STUB = str(Path(__file__).with_name("_stub_server.py"))


def stub_server(*flags: str, **options: object) -> InferenceServer:
    """An InferenceServer running the stub script, with short timeouts suited to tests."""
    options.setdefault("startup_timeout", 15.0)
    options.setdefault("stop_grace", 2.0)
    options.setdefault("poll_interval", 0.05)
    return InferenceServer(
        [sys.executable, STUB, "--host", "{host}", "--port", "{port}", "--model-name", "{model_name}", *flags],
        model_name="stub",
        **options,  # type: ignore[arg-type]
    )


def is_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a container's init may be slow to reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


async def output_shows(server: InferenceServer, text: str, count: int = 1, within: float = 5.0) -> bool:
    """Whether the server's output shows ``text`` ``count`` times within ``within`` seconds.

    The output is read by a background thread, so a line the stub printed just before
    start() returned may not be in the tail yet.
    """
    for _ in range(int(within / 0.02)):
        if server.output_tail().count(text) >= count:
            break
        await anyio.sleep(0.02)
    return server.output_tail().count(text) == count


async def wait_gone(pid: int, within: float = 5.0) -> bool:
    with anyio.move_on_after(within):
        # Another process's state has no event to wait on, so poll it.
        while is_alive(pid):  # noqa: ASYNC110
            await anyio.sleep(0.02)
    return not is_alive(pid)


# -- command lines --------------------------------------------------------------------------------


def test_llama_cpp_python_preset_runs_the_module_with_alias_host_and_port() -> None:
    server = InferenceServer("llama-cpp-python", model="models/tiny.gguf", model_name="tiny", port=8123)
    assert server.argv == [
        sys.executable, "-m", "llama_cpp.server", "--model", "models/tiny.gguf",
        "--host", "127.0.0.1", "--port", "8123", "--model_alias", "tiny",
        "--interrupt_requests", "False",
    ]  # fmt: skip


def test_llama_server_preset_passes_model_alias_host_and_port() -> None:
    server = InferenceServer("llama-server", model="m/tiny.gguf", model_name="tiny", host="127.0.0.2", port=9)
    assert server.argv == ["llama-server", "-m", "m/tiny.gguf", "--host", "127.0.0.2", "--port", "9", "--alias", "tiny"]


def test_mistralrs_presets_split_the_model_path_into_directory_and_file() -> None:
    serve = InferenceServer("mistralrs", model="models/tiny.gguf", port=1234)
    legacy = InferenceServer("mistralrs-server", model="models/tiny.gguf", port=1234)
    assert serve.argv[:2] == ["mistralrs", "serve"]
    assert serve.argv[serve.argv.index("-m") + 1] == "models"
    assert serve.argv[serve.argv.index("-f") + 1] == "tiny.gguf"
    assert legacy.argv == [
        "mistralrs-server", "--serve-ip", "127.0.0.1", "--port", "1234", "gguf", "-m", "models", "-f", "tiny.gguf",
    ]  # fmt: skip


def test_mistralrs_presets_always_serve_the_model_as_default() -> None:
    assert InferenceServer("mistralrs", model="tiny.gguf").model_name == "default"
    with pytest.raises(ConfigurationError, match="default"):
        InferenceServer("mistralrs-server", model="tiny.gguf", model_name="tiny")


def test_vllm_preset_names_the_served_model() -> None:
    server = InferenceServer("vllm", model="Qwen/Qwen3-0.6B", model_name="qwen", port=8000)
    assert server.argv == [
        "vllm", "serve", "Qwen/Qwen3-0.6B", "--host", "127.0.0.1", "--port", "8000", "--served-model-name", "qwen",
    ]  # fmt: skip


def test_model_name_defaults_to_the_model_file_stem() -> None:
    assert InferenceServer("llama-server", model="dir/phi-3.5.Q4.gguf").model_name == "phi-3.5.Q4"


def test_extra_args_are_appended_after_the_preset() -> None:
    server = InferenceServer("llama-server", model="t.gguf", port=1, extra_args=["-c", "512"])
    assert server.argv[-2:] == ["-c", "512"]


def test_custom_argv_fills_every_placeholder() -> None:
    server = InferenceServer(
        ["srv", "--listen={host}:{port}", "{model_dir}", "{model_file}", "{model}", "{model_name}", "{python}"],
        model="a/b.gguf",
        model_name="m",
        port=77,
    )
    assert server.argv == ["srv", "--listen=127.0.0.1:77", "a", "b.gguf", "a/b.gguf", "m", sys.executable]


def test_custom_argv_with_an_unknown_placeholder_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"\{modle\}"):
        InferenceServer(["srv", "{modle}"])


def test_custom_argv_keeps_json_and_doubled_braces_literal() -> None:
    server = InferenceServer(["srv", '--kwargs={"think": false}', "{{port}}", "{port}"], port=5)
    assert server.argv == ["srv", '--kwargs={"think": false}', "{port}", "5"]


def test_unknown_preset_is_a_configuration_error_listing_the_presets() -> None:
    with pytest.raises(ConfigurationError) as caught:
        InferenceServer("llama.cpp", model="t.gguf")
    for name in PRESETS:
        assert name in str(caught.value)


def test_a_preset_that_needs_a_model_refuses_to_build_without_one() -> None:
    with pytest.raises(ConfigurationError, match="model"):
        InferenceServer("llama-server")


def test_every_preset_names_host_and_port_placeholders() -> None:
    for name in PRESETS:
        argv = get_preset(name).argv_for(model="d/m.gguf", model_name="n", host="127.0.0.9", port=4321)
        assert "127.0.0.9" in argv
        assert "4321" in argv


def test_base_url_is_unknown_until_a_port_is_chosen() -> None:
    server = InferenceServer("llama-server", model="t.gguf")
    assert server.port is None
    with pytest.raises(ConfigurationError):
        _ = server.base_url


def test_config_is_refused_before_the_server_is_ready() -> None:
    with pytest.raises(ConfigurationError, match="not ready"):
        _ = InferenceServer("llama-server", model="t.gguf", port=1).config


def test_find_free_port_returns_a_bindable_loopback_port() -> None:
    port = find_free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


# -- running ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_waits_through_loading_503s_until_health_says_ok() -> None:
    async with stub_server("--loading-probes", "3") as server:
        assert server.port is not None
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.returncode is None
        assert await output_shows(server, "request /health", count=4)


@pytest.mark.anyio
async def test_config_points_a_client_at_the_ready_server() -> None:
    async with stub_server() as server:
        assert server.config == ServerConfig(base_url=server.base_url, model="stub")
    with pytest.raises(ConfigurationError, match="not ready"):
        _ = server.config


@pytest.mark.anyio
async def test_an_api_key_reaches_the_client_config_but_not_the_repr() -> None:
    async with stub_server(api_key="sk-launcher-secret") as server:
        assert server.config.api_key is not None
        assert server.config.api_key.get_secret_value() == "sk-launcher-secret"
        assert "sk-launcher-secret" not in repr(server)
        assert repr(server).startswith("InferenceServer(")


@pytest.mark.anyio
async def test_falls_back_to_the_model_list_when_there_is_no_health_route() -> None:
    async with stub_server("--no-health") as server:
        assert await output_shows(server, "request /v1/models")


@pytest.mark.anyio
async def test_a_server_that_exits_early_fails_fast_with_its_last_output() -> None:
    # Doubled braces are literal braces in a command template.
    script = "import sys\nfor i in range(100): print(f'line {{i}}')\nprint('error: model file not found')\nsys.exit(3)"
    server = InferenceServer([sys.executable, "-c", script, "{port}"], startup_timeout=30)
    with anyio.fail_after(10), pytest.raises(ServerUnavailableError) as caught:
        await server.start()
    message = str(caught.value)
    assert "exited with status 3" in message
    assert "error: model file not found" in message
    assert "line 99" in message
    assert "line 10\n" not in message  # only the tail is kept
    assert caught.value.retryable is False
    assert server.returncode == 3
    assert len(server.output_tail().splitlines()) == OUTPUT_TAIL_LINES


@pytest.mark.anyio
async def test_a_server_never_ready_times_out_with_the_command_and_timeout_named_and_is_killed() -> None:
    server = InferenceServer(
        [sys.executable, "-c", "import time; print('warming up', flush=True); time.sleep(600)", "{port}"],
        startup_timeout=0.5,
        stop_grace=0.5,
    )
    with pytest.raises(ServerUnavailableError) as caught:
        await server.start()
    message = str(caught.value)
    assert "within 0.5 s" in message
    assert "time.sleep(600)" in message
    assert "warming up" in message
    assert server.pid is not None
    assert await wait_gone(server.pid)


@pytest.mark.anyio
async def test_api_keys_on_the_command_line_are_hidden_in_errors() -> None:
    server = InferenceServer(
        [sys.executable, "-c", "raise SystemExit(1)", "--api-key", "sk-very-secret", "--hf-token=hf_secret", "{port}"]
    )
    with pytest.raises(ServerUnavailableError) as caught:
        await server.start()
    assert "sk-very-secret" not in str(caught.value)
    assert "hf_secret" not in str(caught.value)
    assert "--api-key ***" in str(caught.value)


@pytest.mark.anyio
async def test_a_missing_executable_is_a_configuration_error() -> None:
    server = InferenceServer(["botticelli-no-such-server-binary", "--port", "{port}"])
    with pytest.raises(ConfigurationError, match="botticelli-no-such-server-binary"):
        await server.start()
    assert server.pid is None


@pytest.mark.anyio
async def test_a_chatty_server_is_not_blocked_by_a_full_output_pipe() -> None:
    # 2 MB is far more than a pipe buffer (64 KB): the server only gets to listen if we keep reading.
    async with stub_server("--noise-bytes", str(2_000_000)) as server:
        assert len(server.output_tail().splitlines()) <= OUTPUT_TAIL_LINES


@pytest.mark.anyio
async def test_stop_sends_sigterm_and_the_server_exits_cleanly() -> None:
    server = stub_server()
    await server.start()
    pid = server.pid
    assert pid is not None
    await server.stop()
    assert server.returncode == -signal.SIGTERM
    assert not is_alive(pid)
    assert group_is_gone(pid)


@pytest.mark.anyio
async def test_a_server_ignoring_sigterm_is_killed_after_the_grace_period() -> None:
    server = stub_server("--ignore-sigterm", stop_grace=0.3)
    await server.start()
    with anyio.fail_after(5):
        await server.stop()
    assert server.returncode == -signal.SIGKILL


@pytest.mark.anyio
async def test_children_of_the_server_die_with_it() -> None:
    async with stub_server("--spawn-child", "--ignore-sigterm", stop_grace=0.3) as server:
        assert await output_shows(server, "child-pid=")
        tail = server.output_tail()
        child_pid = int(tail.split("child-pid=", 1)[1].split()[0])
        assert is_alive(child_pid)
    assert await wait_gone(child_pid)


@pytest.mark.anyio
async def test_the_server_is_stopped_when_the_body_raises() -> None:
    server = stub_server()
    with pytest.raises(RuntimeError, match="body failed"):
        async with server:
            raise RuntimeError("body failed")
    assert server.returncode is not None
    assert server.pid is not None
    assert group_is_gone(server.pid)


@pytest.mark.anyio
async def test_the_server_is_stopped_when_startup_is_cancelled() -> None:
    server = stub_server("--loading-probes", "1000000")
    with anyio.move_on_after(0.5) as scope:
        async with server:
            pytest.fail("the server should never have become ready")
    assert scope.cancelled_caught
    assert server.pid is not None
    assert server.returncode is not None
    assert group_is_gone(server.pid)


@pytest.mark.anyio
async def test_the_server_is_stopped_when_the_body_is_cancelled() -> None:
    server = stub_server()
    with anyio.move_on_after(0.2):
        async with server:
            await anyio.sleep(30)
    assert server.pid is not None
    assert server.returncode is not None
    assert group_is_gone(server.pid)


@pytest.mark.anyio
async def test_stop_is_idempotent_and_the_server_can_be_started_again() -> None:
    server = stub_server()
    await server.start()
    first_pid = server.pid
    await server.stop()
    await server.stop()
    await server.start()
    try:
        assert server.pid != first_pid
        assert server.returncode is None
    finally:
        await server.stop()


@pytest.mark.anyio
async def test_starting_a_running_server_again_is_refused() -> None:
    async with stub_server() as server:
        with pytest.raises(ConfigurationError, match="already running"):
            await server.start()


def test_only_flags_named_like_credentials_have_their_values_hidden() -> None:
    from botticelli_server._presets import redact_argv  # noqa: PLC0415 - the rule under test is private

    argv = ["srv", "--max-tokens", "512", "--api-key", "sk-1", "--hf-token=hf_2", "--ssl-keyfile", "k.pem"]
    assert redact_argv(argv) == [
        "srv",
        "--max-tokens",
        "512",
        "--api-key",
        "***",
        "--hf-token=***",
        "--ssl-keyfile",
        "k.pem",
    ]
