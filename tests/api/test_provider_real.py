"""The provider, the CLI and the demo end to end, against a real llama.cpp server from a botticelli.toml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botticelli.cli import main
from botticelli.config import ENV_CONFIG, ENV_OVERRIDES
from botticelli.provider import ModelProvider
from botticelli_core import GenerateRequest
from botticelli_server import ServerConfig

pytestmark = pytest.mark.api


@pytest.fixture
def toml(tmp_path: Path, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A botticelli.toml in a fresh folder, pointing at the real server, with no variables to override it."""
    for name in [*ENV_OVERRIDES, ENV_CONFIG]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "botticelli.toml"
    path.write_text(
        f'[model]\nprovider = "local"\n[model.local]\nbase_url = "{server_config.base_url}"\n'
        f'model = "{server_config.model}"\nread_timeout = 120\n'
    )
    return path


@pytest.mark.anyio
async def test_the_provider_from_the_file_streams_a_real_answer(toml: Path) -> None:
    provider = ModelProvider.from_config()  # found in the working directory
    assert provider.settings.source == toml
    request = GenerateRequest.from_prompt("Hi", max_tokens=6)
    async with provider.create_client() as client, client.generate_stream(request) as stream:
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].is_final
    assert chunks[-1].finish_reason == "length"
    assert "".join(c.text for c in chunks)


def test_generate_json_end_to_end(toml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "Tell me a story", "--max-tokens", "5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["provider"], result["finish_reason"]) == ("local", "length")
    assert result["usage"]["output_tokens"] == 5


def test_generate_stream_end_to_end(toml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--stream", "Tell me a story", "--max-tokens", "5"]) == 0
    assert capsys.readouterr().out.strip()


def test_health_and_models_end_to_end(
    toml: Path, server_config: ServerConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["health"]) == 0
    assert capsys.readouterr().out.startswith("local: ok")
    assert main(["models", "--json"]) == 0
    assert server_config.model in [m["id"] for m in json.loads(capsys.readouterr().out)]


def test_the_demo_streams_through_llama_cpp(llama_cpp_server: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--engine", "llama-cpp", "--max-tokens", "8"]) == 0
    out = capsys.readouterr().out
    assert "engine: llama-cpp, provider: local" in out
    assert "gibberish" in out
    assert "finish reason: length" in out
    assert "time to first token" in out
