"""Write a tiny LoRA adapter for the tiny model, as a GGUF file llama.cpp loads with ``--lora``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from botticelli.testing._gguf_writer import _import_gguf
from botticelli.testing._spec import TinyModelSpec
from botticelli_error import ConfigurationError

__all__ = ["DEFAULT_LORA_TARGETS", "write_tiny_lora"]

DEFAULT_LORA_TARGETS: tuple[str, ...] = ("attn_q", "attn_v", "ffn_up")
"""The weights of each block the adapter changes, by their GGUF names (``blk.N.<name>.weight``)."""


def _shapes(spec: TinyModelSpec) -> dict[str, tuple[int, int]]:
    """(n_out, n_in) of each weight an adapter may target, as the tiny model's writer shapes them."""
    n_embd, n_ff = spec.embedding_length, spec.feed_forward_length
    return {
        "attn_q": (n_embd, n_embd),
        "attn_k": (n_embd, n_embd),
        "attn_v": (n_embd, n_embd),
        "attn_output": (n_embd, n_embd),
        "ffn_gate": (n_ff, n_embd),
        "ffn_up": (n_ff, n_embd),
        "ffn_down": (n_embd, n_ff),
    }


def write_tiny_lora(
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
    rank: int = 4,
    alpha: float = 4.0,
    strength: float = 1.0,
    targets: Sequence[str] = DEFAULT_LORA_TARGETS,
    spec: TinyModelSpec | None = None,
) -> Path:
    """Write a random LoRA adapter for the model :func:`write_tiny_gguf` writes with the same ``spec``.

    For each targeted weight ``W`` of each block it holds ``W.lora_a`` (numpy shape
    ``(rank, n_in)``) and ``W.lora_b`` (``(n_out, rank)``); llama.cpp adds
    ``scale * alpha / rank * B @ A`` to ``W``. The metadata says ``general.type = "adapter"``,
    ``adapter.type = "lora"`` and ``adapter.lora.alpha``. Its effect is random, and large
    enough (``strength``) to change what the tiny model generates.

    Args:
        path: Where to write the adapter (the directory must exist).
        seed: Seed for the random weights; the same seed gives the same bytes.
        rank: The adapter's rank.
        alpha: ``adapter.lora.alpha``; the update is scaled by ``alpha / rank``.
        strength: Standard deviation of the update's entries, before scaling.
        targets: Which weights of each block to adapt (see :data:`DEFAULT_LORA_TARGETS`).
        spec: The base model's dimensions; the defaults match ``write_tiny_gguf``'s.

    Returns:
        The path written.

    Raises:
        ConfigurationError: ``gguf`` or ``numpy`` is missing, the directory does not exist,
            a target is not a weight of the model, or ``rank`` is not positive.

    Examples:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     lora = write_tiny_lora(pathlib.Path(tmp) / "lora.gguf")
        ...     lora.name, lora.stat().st_size > 10_000
        ('lora.gguf', True)
    """
    gguf = _import_gguf()
    import numpy as np  # noqa: PLC0415  (optional dependency, imported on use)

    spec = spec or TinyModelSpec()
    shapes = _shapes(spec)
    unknown = sorted(set(targets) - set(shapes))
    if unknown or not targets:
        raise ConfigurationError(
            f"cannot adapt {', '.join(unknown) or 'no weights'}: targets must be among {', '.join(shapes)}"
        )
    if rank < 1:
        raise ConfigurationError(f"a LoRA adapter's rank must be positive (got {rank})")
    target = Path(path)
    if not target.parent.is_dir():
        raise ConfigurationError(f"cannot write the tiny LoRA adapter to {target}: its directory does not exist")
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(target, arch="llama")
    try:
        writer.add_string("general.type", "adapter")
        writer.add_string("adapter.type", "lora")
        writer.add_float32("adapter.lora.alpha", float(alpha))
        # B @ A has entries of standard deviation `strength` when A's and B's are strength**0.5 / rank**0.25.
        std = (strength**0.5) / (rank**0.25)
        for layer in range(spec.block_count):
            for name in targets:
                n_out, n_in = shapes[name]
                weight = f"blk.{layer}.{name}.weight"
                writer.add_tensor(f"{weight}.lora_a", (rng.standard_normal((rank, n_in)) * std).astype(np.float32))
                writer.add_tensor(f"{weight}.lora_b", (rng.standard_normal((n_out, rank)) * std).astype(np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    except OSError as exc:
        raise ConfigurationError(f"cannot write the tiny LoRA adapter to {target}: {exc.strerror}") from exc
    finally:
        writer.close()
    return target
