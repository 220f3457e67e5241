"""``botticelli embed`` and ``botticelli tokens``, in-process against a respx-mocked local server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from botticelli.cli import main

BASE = "http://cli.test"


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


def embeddings(*vectors: list[float]) -> dict[str, object]:
    return {
        "object": "list",
        "model": "nomic",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }


def test_embed_prints_one_json_line_per_text_in_order(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    route = server.post("/v1/embeddings").respond(json=embeddings([0.5, 0.25], [1.0, 0.0]))
    assert main(["embed", "a cat", "a dog", "--dimensions", "2"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        {"index": 0, "model": "nomic", "embedding": [0.5, 0.25]},
        {"index": 1, "model": "nomic", "embedding": [1.0, 0.0]},
    ]
    sent = json.loads(route.calls.last.request.content)
    assert (sent["input"], sent["dimensions"], sent["model"]) == (["a cat", "a dog"], 2, "phi")
    assert "truncate_prompt_tokens" not in sent


def test_embed_truncate_asks_the_server_to_truncate(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    route = server.post("/v1/embeddings").respond(json=embeddings([0.5, 0.25]))
    assert main(["embed", "a long text", "--truncate"]) == 0
    assert json.loads(route.calls.last.request.content)["truncate_prompt_tokens"] == -1


def test_embed_of_token_level_vectors_fails_with_the_typed_error(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.post("/v1/embeddings").respond(json={"data": [{"index": 0, "embedding": [[1.0], [2.0]]}]})
    assert main(["embed", "hello"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("botticelli: EmbeddingShapeError (local): ")


def test_the_token_level_error_names_the_setting_the_command_reads(
    tmp_path: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    # `botticelli embed` has no pooling option: its fix is the setting, which the message must name.
    (tmp_path / "botticelli.toml").write_text(
        f'[model]\nprovider = "local"\n[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\n'
        'dialect = "llama-cpp-python"\n'
    )
    server.post("/v1/embeddings").respond(json={"data": [{"index": 0, "embedding": [[1.0], [2.0]]}]})
    assert main(["embed", "hello", "--config", str(tmp_path / "botticelli.toml")]) == 1
    err = capsys.readouterr().err
    assert 'embed_pooling = "mean" under [model.local]' in err
    assert "llama-cpp-python's server has no pooling option" in err


def test_embed_pooling_comes_from_the_configuration(
    tmp_path: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "botticelli.toml").write_text(
        f'[model]\nprovider = "local"\n[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\nembed_pooling = "mean"\n'
    )
    server.post("/v1/embeddings").respond(json={"data": [{"index": 0, "embedding": [[1.0], [3.0]]}]})
    assert main(["embed", "hello"]) == 0
    assert json.loads(capsys.readouterr().out)["embedding"] == [2.0]


def test_embed_on_a_backend_without_embeddings_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "model.gguf").write_bytes(b"")
    (tmp_path / "botticelli.toml").write_text(
        '[model]\nprovider = "embedded"\n[model.embedded]\nmodel_path = "model.gguf"\n'
    )
    # The engine is never started: the capability check comes first.
    assert main(["embed", "hello"]) == 2
    assert (
        capsys.readouterr().err == "botticelli: ConfigurationError (embedded): the embedded backend has no embeddings\n"
    )
    assert main(["tokens", "hello"]) == 2
    assert "cannot count tokens" in capsys.readouterr().err


def test_tokens_prints_an_exact_count(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.post("/apply-template").respond(json={"prompt": "<|user|>hi<|end|>"})
    server.post("/tokenize").respond(json={"tokens": [1, 2, 3, 4, 5]})
    assert main(["tokens", "hi"]) == 0
    assert capsys.readouterr().out == "5\n"


def test_tokens_marks_a_raw_text_count_as_a_lower_bound_and_json_says_exact_false(
    config: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    server.post("/apply-template").respond(404)
    server.post("/tokenize").respond(404)
    server.post("/extras/tokenize/count").respond(json={"count": 9})
    assert main(["tokens", "hello world"]) == 0
    assert capsys.readouterr().out.startswith("9 (at least")
    assert main(["tokens", "hello world", "--system", "Be terse.", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"input_tokens": 9, "exact": False}


def test_embed_needs_a_text(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["embed"]) == 2
    assert main(["embed", ""]) == 2
    assert "empty" in capsys.readouterr().err


def test_embed_and_tokens_work_through_the_hybrid_provider(
    tmp_path: Path, server: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "model.gguf").write_bytes(b"")
    (tmp_path / "botticelli.toml").write_text(
        '[model]\nprovider = "hybrid"\n[model.embedded]\nmodel_path = "model.gguf"\n'
        f'[model.local]\nbase_url = "{BASE}"\nmodel = "phi"\nmax_retries = 0\n'
        '[model.hybrid]\nprefer = "embedded"\nfallback = "local"\n'
    )
    # The embedded engine has neither capability: both go to the local server, and the engine is never started.
    server.post("/v1/embeddings").respond(json=embeddings([0.5, 0.25]))
    assert main(["embed", "a cat"]) == 0
    assert json.loads(capsys.readouterr().out) == {"index": 0, "model": "nomic", "embedding": [0.5, 0.25]}
    server.post("/apply-template").respond(json={"prompt": "<|user|>hi<|end|>"})
    server.post("/tokenize").respond(json={"tokens": [1, 2, 3, 4, 5]})
    # Counted by the other backend's tokenizer than the routed one: a lower bound at best.
    assert main(["tokens", "hi", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"input_tokens": 5, "exact": False}
