"""The tiny model's dimensions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["TinyModelSpec"]


class TinyModelSpec(BaseModel):
    """Dimensions of the tiny llama model; the defaults give a file of about 0.5 MB.

    Examples:
        >>> spec = TinyModelSpec()
        >>> spec.embedding_length, spec.block_count, spec.head_count
        (64, 2, 4)
        >>> spec.head_dim
        16
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    embedding_length: int = Field(default=64, ge=8)
    block_count: int = Field(default=2, ge=1)
    head_count: int = Field(default=4, ge=1)
    feed_forward_length: int = Field(default=128, ge=8)
    context_length: int = Field(default=2048, ge=16)
    """The context the model says it was trained for; servers use it as their default window."""
    rms_norm_eps: float = Field(default=1e-5, gt=0)
    rope_freq_base: float = Field(default=10000.0, gt=0)
    pooling: Literal["mean"] | None = None
    """How the model pools token embeddings into one vector per text; ``None`` writes no
    pooling type, so llama.cpp serves token-level embeddings (one vector per token)."""

    @model_validator(mode="after")
    def _heads_divide_embedding(self) -> TinyModelSpec:
        if self.embedding_length % self.head_count:
            raise ValueError(
                f"embedding_length {self.embedding_length} is not a multiple of head_count {self.head_count}"
            )
        return self

    @property
    def head_dim(self) -> int:
        """Width of one attention head (and of the rotary embedding)."""
        return self.embedding_length // self.head_count
