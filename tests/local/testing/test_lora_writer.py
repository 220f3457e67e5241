"""The tiny LoRA adapter: the metadata and tensor shapes llama.cpp checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from botticelli.testing import TinyModelSpec, write_tiny_lora
from botticelli_error import ConfigurationError

gguf = pytest.importorskip("gguf")


def test_the_adapter_carries_lora_metadata_and_a_b_pairs_shaped_for_each_weight(tmp_path: Path) -> None:
    spec = TinyModelSpec(feed_forward_length=96)
    path = write_tiny_lora(tmp_path / "lora.gguf", rank=3, alpha=6.0, targets=("attn_q", "ffn_up"), spec=spec)
    reader = gguf.GGUFReader(path)

    def text(key: str) -> str:
        field = reader.fields[key]
        return bytes(field.parts[field.data[0]]).decode()

    assert text("general.architecture") == "llama"
    assert text("general.type") == "adapter"
    assert text("adapter.type") == "lora"
    alpha = reader.fields["adapter.lora.alpha"]
    assert float(alpha.parts[alpha.data[0]][0]) == 6.0
    # GGUF lists dimensions innermost first: numpy (rank, n_in) is ne [n_in, rank].
    shapes = {t.name: [int(n) for n in t.shape] for t in reader.tensors}
    assert shapes["blk.0.attn_q.weight.lora_a"] == [64, 3]
    assert shapes["blk.0.attn_q.weight.lora_b"] == [3, 64]
    assert shapes["blk.1.ffn_up.weight.lora_a"] == [64, 3]
    assert shapes["blk.1.ffn_up.weight.lora_b"] == [3, 96]
    assert len(shapes) == 2 * 2 * spec.block_count


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = write_tiny_lora(tmp_path / "a.gguf", seed=5).read_bytes()
    assert write_tiny_lora(tmp_path / "b.gguf", seed=5).read_bytes() == first
    assert write_tiny_lora(tmp_path / "c.gguf", seed=6).read_bytes() != first


@pytest.mark.parametrize(
    ("options", "problem"),
    [({"targets": ("attn_x",)}, "cannot adapt attn_x"), ({"targets": ()}, "no weights"), ({"rank": 0}, "rank")],
)
def test_bad_options_are_configuration_errors(tmp_path: Path, options: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        write_tiny_lora(tmp_path / "lora.gguf", **options)  # type: ignore[arg-type]


def test_a_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="directory does not exist"):
        write_tiny_lora(tmp_path / "nowhere" / "lora.gguf")
