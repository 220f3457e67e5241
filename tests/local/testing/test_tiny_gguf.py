"""write_tiny_gguf: a tiny llama model that real engines load, deterministic for a seed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from botticelli.testing import CHAT_TEMPLATE, TinyModelSpec, write_tiny_gguf
from botticelli.testing._tokenizer import EOS_TOKEN, build_vocab
from botticelli_error import ConfigurationError

gguf = pytest.importorskip("gguf")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("tiny") / "tiny.gguf", seed=0)


def field(reader: Any, key: str) -> Any:
    return reader.fields[key].contents()


def test_the_file_is_a_few_hundred_kilobytes(model: Path) -> None:
    assert 200_000 < model.stat().st_size < 1_000_000


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    a = write_tiny_gguf(tmp_path / "a.gguf", seed=7)
    b = write_tiny_gguf(tmp_path / "b.gguf", seed=7)
    c = write_tiny_gguf(tmp_path / "c.gguf", seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_metadata_describes_a_small_llama_with_a_llama_bpe_tokenizer(model: Path) -> None:
    reader = gguf.GGUFReader(model)
    vocab = build_vocab()
    assert field(reader, "general.architecture") == "llama"
    assert field(reader, "llama.embedding_length") == 64
    assert field(reader, "llama.block_count") == 2
    assert field(reader, "llama.attention.head_count") == 4
    assert field(reader, "tokenizer.ggml.model") == "gpt2"
    assert field(reader, "tokenizer.ggml.pre") == "llama-bpe"
    assert field(reader, "tokenizer.chat_template") == CHAT_TEMPLATE
    assert field(reader, "tokenizer.ggml.eos_token_id") == vocab.eos_id
    assert field(reader, "tokenizer.ggml.bos_token_id") == vocab.bos_id
    assert len(field(reader, "tokenizer.ggml.tokens")) == len(vocab)
    assert 256 < len(vocab) < 512


def test_the_written_tensors_have_the_declared_shapes(model: Path) -> None:
    reader = gguf.GGUFReader(model)
    shapes = {t.name: tuple(int(n) for n in t.shape) for t in reader.tensors}
    n_vocab = len(build_vocab())
    # GGUF lists dimensions fastest-first: (columns, rows).
    assert shapes["token_embd.weight"] == (64, n_vocab)
    assert shapes["output.weight"] == (64, n_vocab)
    assert shapes["blk.1.ffn_down.weight"] == (128, 64)
    assert len([name for name in shapes if name.startswith("blk.")]) == 2 * 9


def test_a_larger_spec_changes_the_dimensions(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "wide.gguf", spec=TinyModelSpec(embedding_length=128, head_count=8))
    reader = gguf.GGUFReader(path)
    assert field(reader, "llama.embedding_length") == 128
    assert field(reader, "llama.rope.dimension_count") == 16


def test_every_merge_joins_two_existing_tokens_into_a_token() -> None:
    vocab = build_vocab()
    tokens = set(vocab.tokens)
    assert len(tokens) == len(vocab.tokens)
    for merge in vocab.merges:
        left, right = merge.split(" ")
        assert left in tokens
        assert right in tokens
        assert left + right in tokens


def test_only_printable_ascii_tokens_are_allowed_out() -> None:
    vocab = build_vocab()
    allowed = [t for t, ok in zip(vocab.tokens, vocab.printable, strict=True) if ok]
    assert EOS_TOKEN not in allowed
    assert len(allowed) == 95 + len(vocab.merges)  # bytes 32..126, then every merged token


def test_writing_leaves_no_temporary_file_behind(tmp_path: Path) -> None:
    write_tiny_gguf(tmp_path / "tiny.gguf")
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.gguf"]


def test_a_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        write_tiny_gguf(tmp_path / "nowhere" / "tiny.gguf")


def test_without_the_gguf_package_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gguf", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'botticelli\[testing\]'"):
        write_tiny_gguf(tmp_path / "tiny.gguf")
    assert list(tmp_path.iterdir()) == []


def test_mistralrs_loads_it_and_generates_printable_text_up_to_max_tokens(model: Path) -> None:
    mistralrs = pytest.importorskip("mistralrs")
    runner = mistralrs.Runner(
        which=mistralrs.Which.GGUF(quantized_model_id=str(model.parent), quantized_filename=model.name),
        token_source="none",
    )
    response = runner.send_chat_completion_request(
        mistralrs.ChatCompletionRequest(
            model="default", messages=[{"role": "user", "content": "hello"}], max_tokens=40, temperature=0.0
        )
    )
    text = response.choices[0].message.content
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 40
    assert text
    assert text.isascii()
    assert text.isprintable()


def test_llama_cpp_loads_it_and_generates_printable_text_up_to_max_tokens(model: Path) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=256, verbose=False)
    try:
        response = llm.create_chat_completion(
            messages=[{"role": "user", "content": "hello"}], max_tokens=40, temperature=0.0
        )
    finally:
        llm.close()
    text = response["choices"][0]["message"]["content"]
    assert response["choices"][0]["finish_reason"] == "length"
    assert response["usage"]["completion_tokens"] == 40
    assert text
    assert text.isascii()
    assert text.isprintable()


def test_a_pooling_spec_writes_a_mean_pooling_type_and_the_default_writes_none(model: Path, tmp_path: Path) -> None:
    pooled = write_tiny_gguf(tmp_path / "pooled.gguf", spec=TinyModelSpec(pooling="mean"))
    assert field(gguf.GGUFReader(pooled), "llama.pooling_type") == gguf.PoolingType.MEAN
    assert "llama.pooling_type" not in gguf.GGUFReader(model).fields
