"""Random weights for the tiny llama model, shaped so its output stays printable ASCII.

A llama model has no output bias, so one is built in: dimension 0 of the residual stream
holds the same large value at every position (the embeddings set it and no layer writes
to it), and column 0 of the output matrix then acts as a per-token bias. Tokens that are
not printable ASCII, end of turn included, get a large negative bias.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botticelli.testing._spec import TinyModelSpec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float32]

__all__ = ["tiny_weights"]

# The constant carried in residual dimension 0; large next to the unit-variance other dims,
# so after RMS normalisation it stays close to sqrt(embedding_length) at every position.
_CARRIER = 4.0
_ALLOWED_BIAS = 1.0
_BANNED_BIAS = -10.0


def tiny_weights(spec: TinyModelSpec, printable: tuple[bool, ...], *, seed: int) -> dict[str, Array]:
    """Draw every tensor of the tiny model, in GGUF naming and numpy (row-major) shapes.

    Args:
        spec: The model's dimensions.
        printable: For each token id, whether the model may emit it.
        seed: Seed for the random generator; the same seed gives the same weights.

    Returns:
        Tensors by GGUF name, in the order they should be written.
    """
    import numpy as np  # noqa: PLC0415  (optional dependency, imported on use)

    rng = np.random.default_rng(seed)
    n_vocab, n_embd, n_ff = len(printable), spec.embedding_length, spec.feed_forward_length

    def normal(*shape: int, scale: float) -> Array:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    tensors: dict[str, Array] = {}
    embeddings = normal(n_vocab, n_embd, scale=1.0)
    embeddings[:, 0] = _CARRIER
    tensors["token_embd.weight"] = embeddings
    proj = 1.0 / np.sqrt(n_embd)
    for layer in range(spec.block_count):
        prefix = f"blk.{layer}"
        tensors[f"{prefix}.attn_norm.weight"] = np.ones(n_embd, dtype=np.float32)
        for name in ("attn_q", "attn_k", "attn_v"):
            tensors[f"{prefix}.{name}.weight"] = normal(n_embd, n_embd, scale=proj)
        attn_out = normal(n_embd, n_embd, scale=proj)
        attn_out[0, :] = 0.0  # keeps the carrier dimension constant
        tensors[f"{prefix}.attn_output.weight"] = attn_out
        tensors[f"{prefix}.ffn_norm.weight"] = np.ones(n_embd, dtype=np.float32)
        tensors[f"{prefix}.ffn_gate.weight"] = normal(n_ff, n_embd, scale=proj)
        tensors[f"{prefix}.ffn_up.weight"] = normal(n_ff, n_embd, scale=proj)
        ffn_down = normal(n_embd, n_ff, scale=1.0 / np.sqrt(n_ff))
        ffn_down[0, :] = 0.0
        tensors[f"{prefix}.ffn_down.weight"] = ffn_down
    tensors["output_norm.weight"] = np.ones(n_embd, dtype=np.float32)
    output = normal(n_vocab, n_embd, scale=0.3)
    output[:, 0] = np.where(np.asarray(printable), _ALLOWED_BIAS, _BANNED_BIAS).astype(np.float32)
    tensors["output.weight"] = output
    return tensors
