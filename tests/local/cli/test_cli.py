"""The command line, run in-process with ``main([...])`` against respx-mocked servers and the embedded engine."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from botticelli.cli import main
from botticelli.cli.main import build_parser
from botticelli.testing import write_tiny_gguf
from tests.local.hybrid.fakes import SSE_HEADERS, completion, sse_stream

BASE = "http://cli.test"
CHAT = f"{BASE}/v1/chat/completions"
STUB_SERVER = Path(__file__).parents[1] / "server" / "_stub_server.py"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "botticelli.toml"
    path.write_text(
        f'[model]\nprovider = "local"\n[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\nmax_retries = 0\n'
    )
    return path


@pytest.fixture
def server() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", base_url=BASE, assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def test_generate_prints_the_answer(config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]) -> None:
    route = server.post("/v1/chat/completions").respond(json=completion("Hello there"))
    assert main(["generate", "Say hi", "--max-tokens", "8", "--temperature", "0.5"]) == 0
    assert capsys.readouterr().out == "Hello there\n"
    sent = json.loads(route.calls.last.request.content)
    assert (sent["model"], sent["max_tokens"], sent["temperature"]) == ("phi", 8, 0.5)
    assert sent["messages"][-1]["content"] == "Say hi"


def test_generate_json_is_machine_readable(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.post("/v1/chat/completions").respond(json=completion("Hi", model="phi-3.5"))
    assert main(["generate", "Say hi", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {k: result[k] for k in ("provider", "model", "text", "finish_reason")} == {
        "provider": "local",
        "model": "phi-3.5",
        "text": "Hi",
        "finish_reason": "stop",
    }
    assert result["usage"]["output_tokens"] == 3


def test_generate_streams_text_as_it_arrives(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.post("/v1/chat/completions").respond(content=sse_stream("Hel", "lo"), headers=SSE_HEADERS)
    assert main(["generate", "--stream", "Say hello"]) == 0
    assert capsys.readouterr().out == "Hello\n"


def test_generate_stream_json_prints_one_object_per_chunk(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.post("/v1/chat/completions").respond(content=sse_stream("Hel", "lo"), headers=SSE_HEADERS)
    assert main(["generate", "--stream", "--json", "Say hello"]) == 0
    chunks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [c.get("text", "") for c in chunks] == ["Hel", "lo", ""]
    assert chunks[-1]["is_final"] is True
    assert chunks[-1]["finish_reason"] == "stop"


def test_generate_reads_the_prompt_from_stdin(
    config: Path, server: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    route = server.post("/v1/chat/completions").respond(json=completion("ok"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("from a pipe\n"))
    assert main(["generate"]) == 0
    assert json.loads(route.calls.last.request.content)["messages"][-1]["content"] == "from a pipe\n"


def test_model_and_config_options_override_the_file(
    tmp_path: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(f'[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\n')
    route = server.post("/v1/chat/completions").respond(json=completion("ok"))
    assert main(["generate", "Hi", "--config", str(other), "--model", "qwen"]) == 0
    assert json.loads(route.calls.last.request.content)["model"] == "qwen"


def test_a_server_error_is_one_line_on_stderr_and_exit_1(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.post("/v1/chat/completions").respond(
        503, json={"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    )
    assert main(["generate", "Hi"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("botticelli: ServerUnavailableError (local): HTTP 503:")
    assert "Traceback" not in captured.err


def test_an_unreachable_server_is_exit_1(config: Path, server: respx.MockRouter) -> None:
    server.post("/v1/chat/completions").mock(side_effect=httpx.ConnectError("refused"))
    assert main(["generate", "Hi"]) == 1


def test_a_configuration_mistake_is_exit_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "botticelli.toml"
    path.write_text('[model]\nprovider = "openai"\n')
    assert main(["generate", "Hi"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"botticelli: ConfigurationError (botticelli): {path}: model.provider: unknown provider")
    assert err.count("\n") == 1


def test_no_configuration_at_all_explains_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "Hi"]) == 2
    assert "model.local.model is missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["generate", "--max-tokens", "zero", "Hi"], ["frobnicate"], ["generate", "--provider", "openai", "Hi"]],
    ids=["bad-value", "unknown-command", "unknown-provider"],
)
def test_usage_mistakes_are_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("botticelli: error:")


def test_no_command_prints_help_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "generate" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--help"]) == 0
    assert "--stream" in capsys.readouterr().out


def test_ctrl_c_exits_130_quietly(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(prompt: str | None) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("botticelli.cli.generate.read_prompt", interrupted)
    assert main(["generate", "Hi"]) == 130
    assert capsys.readouterr().err == ""


def test_models_lists_what_the_server_serves(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.get("/v1/models").respond(json={"object": "list", "data": [{"id": "phi", "owned_by": "me"}]})
    assert main(["models"]) == 0
    assert capsys.readouterr().out == "phi  (me)\n"
    assert main(["models", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == "phi"


def test_health_exits_0_when_ready_and_1_when_not(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    health = server.get("/health")
    health.respond(json={"status": "ok"})
    assert main(["health"]) == 0
    assert capsys.readouterr().out.startswith("local: ok in ")
    health.respond(503, json={"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})
    assert main(["health", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert (result["ready"], result["status"]) == (False, "loading")


def test_health_of_hybrid_shows_each_backend(
    tmp_path: Path, server: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-cli-test")
    (tmp_path / "botticelli.toml").write_text(
        f'[model]\nprovider = "hybrid"\n[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\n'
        '[model.gemini]\nbase_url = "http://gemini.test"\n'
    )
    server.get("/health").respond(json={"status": "ok"})
    with respx.mock(using="httpx", base_url="http://gemini.test", assert_all_mocked=True) as gemini:
        gemini.get("/v1beta/models/gemini-2.5-flash").mock(side_effect=httpx.ConnectError("no network"))
        assert main(["health"]) == 0
    out = capsys.readouterr().out
    assert "local: ok" in out
    assert "gemini: not ready (unreachable)" in out
    assert "hybrid: degraded" in out
    assert "AIza-cli-test" not in out


def test_bench_reports_a_table_and_json(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.post("/v1/chat/completions").respond(content=sse_stream("a", "b", "c"), headers=SSE_HEADERS)
    assert main(["bench", "--requests", "4", "--concurrency", "2", "--max-tokens", "3"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["provider", "model", "ok/total", "ttft", "p50", "tok/s", "p50", "p90", "p99"]
    assert table[1].split()[:3] == ["local", "phi", "4/4"]
    assert main(["bench", "--requests", "2", "--json", "--provider", "local"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert (result["provider"], result["requests"], result["errors"]) == ("local", 2, 0)
    assert result["latency_p50_s"] >= result["ttft_p50_s"] >= 0


def test_bench_exits_1_when_requests_fail(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.post("/v1/chat/completions").respond(500, json={"error": {"message": "boom"}})
    assert main(["bench", "--requests", "2"]) == 1
    assert "local: 2 failed, first: ServerUnavailableError" in capsys.readouterr().out


# -- the embedded engine, with a tiny model --------------------------------------------------------


def test_generate_with_the_embedded_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = write_tiny_gguf(tmp_path / "tiny.gguf", seed=0)
    assert main(["generate", "Hi", "--provider", "embedded", "--max-tokens", "5", "--json"]) == 2
    assert "model.embedded.model_path is missing" in capsys.readouterr().err
    (tmp_path / "botticelli.toml").write_text(f'[model.embedded]\nmodel_path = "{model.name}"\n')
    assert main(["generate", "Hi", "--provider", "embedded", "--max-tokens", "5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["provider"], result["finish_reason"], result["usage"]["output_tokens"]) == (
        "embedded",
        "length",
        5,
    )


def test_demo_streams_from_the_embedded_engine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--engine", "embedded", "--max-tokens", "6"]) == 0
    out = capsys.readouterr().out
    assert "gibberish" in out
    assert "finish reason: length; usage: " in out
    assert "+ 6 output tokens; time to first token: " in out
    assert "tokens/s" in out


def test_demo_without_any_engine_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("botticelli.demo.available_engines", list)
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "botticelli[server]" in err
    assert "botticelli[embedded]" in err


# -- serve, as a real process receiving a real Ctrl-C ----------------------------------------------


def test_serve_without_a_server_table_is_exit_2(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    assert "the [server] table is missing" in capsys.readouterr().err


def test_serve_with_an_unknown_preset_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "botticelli.toml").write_text('[server]\npreset = "llamafile"\n')
    assert main(["serve"]) == 2
    assert "server.preset cannot be used: unknown inference server preset 'llamafile'" in capsys.readouterr().err


def test_serve_runs_until_ctrl_c_then_stops_the_server(tmp_path: Path) -> None:
    config = tmp_path / "serve.toml"
    command = json.dumps(["{python}", str(STUB_SERVER), "--host", "{host}", "--port", "{port}"])
    config.write_text(f"[server]\ncommand = {command}\nalias = 'stub'\nstartup_timeout = 30\n")
    with subprocess.Popen(
        [sys.executable, "-m", "botticelli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            line = process.stdout.readline()
            assert line.startswith("serving 'stub' at http://127.0.0.1:"), line
            server_pid = int(line.split("(pid ")[1].split(")")[0])
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 130
            assert "Traceback" not in process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)


@pytest.mark.parametrize(
    "argv",
    [["generate", "hi"], ["embed", "a"], ["tokens", "a"], ["models"], ["health"], ["serve"], ["bench"], ["demo"]],
    ids=lambda argv: argv[0],
)
def test_verbose_is_taken_before_or_after_any_command(argv: list[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["-v", *argv]).verbose is True
    assert parser.parse_args([*argv, "-v"]).verbose is True
    assert parser.parse_args([*argv, "--verbose"]).verbose is True
    assert parser.parse_args(argv).verbose is False
