"""What a user types: prompts that are not UTF-8, and commands that need only a server's base URL."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from botticelli.cli import main
from tests.local.hybrid.fakes import completion

BASE = "http://cli.test"


@pytest.fixture
def server() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx", base_url=BASE, assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture
def url_only(tmp_path: Path) -> Path:
    """A configuration that names the server and nothing else."""
    path = tmp_path / "botticelli.toml"
    path.write_text(f'[model.local]\nbase_url = "{BASE}"\nmax_retries = 0\n')
    return path


def _stdin_bytes(data: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("argv", "stdin", "expected"),
    [
        (["generate", "caf\udce9"], None, "the prompt is not valid UTF-8: byte 0xe9 at offset 3"),
        (["generate", "Hi", "--system", "\udcff"], None, "--system is not valid UTF-8: byte 0xff at offset 0"),
        (["generate"], b"caf\xe9 au lait", "standard input is not valid UTF-8: byte 0xe9 at offset 3"),
        (["generate", "-"], b"\xc3", "standard input is not valid UTF-8: byte 0xc3 at offset 0"),
        (["generate", "a\ud800"], None, "the prompt holds a lone surrogate"),
    ],
    ids=["argv", "system", "stdin", "stdin-truncated", "typed-surrogate"],
)
def test_a_prompt_that_is_not_utf8_is_a_usage_error(
    url_only: Path,
    server: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: bytes | None,
    expected: str,
) -> None:
    route = server.post("/v1/chat/completions").respond(json=completion("never"))
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", _stdin_bytes(stdin))
    assert main([*argv, "--model", "phi"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("botticelli: error: ")
    assert expected in err
    assert "Traceback" not in err
    assert not route.called


class _BrokenTerminal:
    """Standard input whose terminal went away: every read fails with EIO."""

    def isatty(self) -> bool:
        return False

    @property
    def buffer(self) -> _BrokenTerminal:
        return self

    def read(self) -> bytes:
        raise OSError(5, "Input/output error")


def test_standard_input_that_cannot_be_read_is_a_usage_error(
    url_only: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _BrokenTerminal())
    assert main(["generate", "--model", "phi"]) == 2
    assert "cannot read the prompt from standard input: Input/output error" in capsys.readouterr().err


def test_a_utf8_prompt_on_stdin_is_sent_as_is(
    url_only: Path, server: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    route = server.post("/v1/chat/completions").respond(json=completion("ok"))
    monkeypatch.setattr(sys, "stdin", _stdin_bytes("café 🦜\n".encode()))
    assert main(["generate", "--model", "phi"]) == 0
    assert json.loads(route.calls.last.request.content)["messages"][-1]["content"] == "café 🦜\n"


def test_models_needs_only_a_base_url(
    url_only: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.get("/v1/models").respond(json={"object": "list", "data": [{"id": "qwen"}]})
    assert main(["models"]) == 0
    assert capsys.readouterr().out == "qwen\n"
    assert main(["models", "--model", "qwen", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == "qwen"


def test_health_needs_only_a_base_url(
    url_only: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.get("/health").respond(json={"status": "ok"})
    assert main(["health"]) == 0
    assert capsys.readouterr().out.startswith("local: ok in ")
    assert main(["health", "--model", "qwen", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ready"] is True


def test_health_and_models_take_the_url_from_the_environment_alone(
    server: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INFERENCE_SERVER_BASE_URL", BASE)
    server.get("/health").respond(json={"status": "ok"})
    assert main(["health"]) == 0


def test_generate_still_needs_a_model(url_only: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "Hi"]) == 2
    assert "model.local.model is missing" in capsys.readouterr().err


def test_hybrid_health_without_a_local_model_checks_both_backends(
    tmp_path: Path, server: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-cli-test")
    (tmp_path / "botticelli.toml").write_text(
        f'[model]\nprovider = "hybrid"\n[model.local]\nbase_url = "{BASE}"\n[model.gemini]\nbase_url = "http://gemini.test"\n'
    )
    server.get("/health").respond(json={"status": "ok"})
    with respx.mock(using="httpx", base_url="http://gemini.test", assert_all_mocked=True) as gemini:
        gemini.get("/v1beta/models/gemini-2.5-flash").respond(json={"name": "models/gemini-2.5-flash"})
        assert main(["health"]) == 0
    out = capsys.readouterr().out
    assert "local: ok" in out
    assert "hybrid: " in out


def test_a_model_override_cannot_name_one_of_hybrids_two_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-cli-test")
    (tmp_path / "botticelli.toml").write_text(f'[model]\nprovider = "hybrid"\n[model.local]\nbase_url = "{BASE}"\n')
    assert main(["models", "--model", "x"]) == 2
    assert "hybrid uses two" in capsys.readouterr().err
