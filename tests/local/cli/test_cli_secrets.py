"""The command line never prints a key the server echoes, with or without ``-v``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx

from botticelli.cli import main
from botticelli.config import ENV_CONFIG, ENV_OVERRIDES
from tests.local.hybrid.fakes import SSE_HEADERS

BASE = "http://cli-secrets.test"
KEY = "sk-cli-echo-61f0a2d94c7b"


@pytest.fixture(autouse=True)
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*ENV_OVERRIDES, ENV_CONFIG]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "botticelli.toml").write_text(
        f'[model]\nprovider = "local"\n[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\nmax_retries = 0\n'
    )
    monkeypatch.setenv("INFERENCE_SERVER_API_KEY", KEY)


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["quiet", "verbose"])
def test_a_key_echoed_in_a_stream_error_is_not_printed(verbose: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    event = {"error": {"message": f"key {KEY} was revoked", "type": "authentication_error"}}
    with respx.mock(using="httpx", base_url=BASE, assert_all_mocked=True) as server:
        server.post("/v1/chat/completions").respond(
            content=f"data: {json.dumps(event)}\n\n".encode(), headers=SSE_HEADERS
        )
        assert main([*verbose, "generate", "--stream", "Hi"]) == 1
    captured = capsys.readouterr()
    assert "revoked" in captured.err
    assert KEY[:8] not in captured.err + captured.out
