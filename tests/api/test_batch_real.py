"""Batches and the sync facade against a real OpenAI-compatible server (llama.cpp's by default).

About a hundred prompts go through ``generate_many`` and through ``botticelli generate
--batch``; the model's words are not ours to predict, so the tests assert on structure:
every id answered once, finish reasons, token counts, a rerun sending nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botticelli import generate_many
from botticelli.cli import main
from botticelli.sync import SyncModel
from botticelli_core import FinishReason, GenerateRequest
from botticelli_server import ServerClient, ServerConfig

pytestmark = pytest.mark.api

PROMPTS = 100


def prompts(count: int = PROMPTS) -> list[GenerateRequest]:
    return [GenerateRequest.from_prompt(f"Say the number {i}.", max_tokens=4, temperature=0.0) for i in range(count)]


@pytest.mark.anyio
async def test_a_hundred_prompts_through_generate_many(server_config: ServerConfig) -> None:
    async with ServerClient(server_config) as client:
        results = await generate_many(client, prompts(), concurrency=4)
    assert [r.index for r in results] == list(range(PROMPTS))
    failed = [r.error for r in results if not r.ok]
    assert failed == []
    for result in results:
        response = result.unwrap()
        assert response.finish_reason in (FinishReason.LENGTH, FinishReason.STOP)
        assert response.usage is not None
        assert 0 < response.usage.output_tokens <= 4


def test_the_batch_command_answers_every_line_and_resumes(
    server_config: ServerConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "botticelli.toml"
    config.write_text(f'[model.local]\nbase_url = "{server_config.base_url}"\nmodel = "{server_config.model}"\n')
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": f"q{i}", "prompt": f"Say the number {i}.", "temperature": 0.0}) for i in range(PROMPTS)]
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    args = ["generate", "--config", str(config), "--batch", str(source), "--out", str(out), "--max-tokens", "4"]
    assert main([*args, "--concurrency", "4"]) == 0
    answers = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(a["id"] for a in answers) == sorted(f"q{i}" for i in range(PROMPTS))
    assert all("error" not in a and a["usage"]["output_tokens"] <= 4 for a in answers)
    written = out.read_text()
    assert main(args) == 0  # everything is answered: nothing is sent, nothing appended
    assert out.read_text() == written


def test_the_sync_facade_generates_and_streams(server_config: ServerConfig) -> None:
    request = GenerateRequest.from_prompt("Count to ten.", max_tokens=8, temperature=0.0)
    with SyncModel(ServerClient(server_config)) as model:
        whole = model.generate(request)
        with model.generate_stream(request) as stream:
            chunks = list(stream)
        assert model.health().ready
    assert whole.usage is not None
    assert chunks[-1].is_final
    assert chunks[-1].finish_reason == whole.finish_reason
