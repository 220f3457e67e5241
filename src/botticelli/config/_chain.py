"""``[model.fallback]``: the chain of backends the ``fallback`` provider tries, in order.

Each entry names a backend section (``"local"``, ``"gemini"``, ``"embedded"``), optionally
followed by ``:`` and a model of that backend, which replaces the section's ``model`` for
that entry alone; so one ``[model.gemini]`` section serves several entries::

    [model]
    provider = "fallback"

    [model.fallback]
    chain = ["local", "gemini:gemini-2.5-flash", "gemini:gemini-2.5-pro"]
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from botticelli._routing import DEFAULT_COOLDOWN, DEFAULT_FAILURE_THRESHOLD

__all__ = ["CHAIN_BACKENDS", "ChainEntry", "FallbackSection", "parse_entry"]

CHAIN_BACKENDS = ("local", "gemini", "embedded")
"""The backend sections a chain entry may name."""


class ChainEntry(NamedTuple):
    """One entry of a chain: the backend section, and the model replacing its ``model`` (if any)."""

    backend: str
    model: str | None


def parse_entry(entry: str) -> ChainEntry:
    """Split ``"gemini:gemini-2.5-pro"`` into its backend and model.

    Raises:
        ValueError: The backend is not one of :data:`CHAIN_BACKENDS`, or the model is empty.

    Examples:
        >>> parse_entry("gemini:gemini-2.5-pro"), parse_entry("local")
        (ChainEntry(backend='gemini', model='gemini-2.5-pro'), ChainEntry(backend='local', model=None))
    """
    backend, colon, model = entry.partition(":")
    backend = backend.strip()
    if backend not in CHAIN_BACKENDS:
        raise ValueError(f"{entry!r}: the backend must be one of {', '.join(CHAIN_BACKENDS)} (then ':model' if needed)")
    if colon and not model.strip():
        raise ValueError(f"{entry!r}: nothing after ':'; name a model or leave the ':' out")
    return ChainEntry(backend, model.strip() or None)


class FallbackSection(BaseModel):
    """``[model.fallback]``: the chain, and how quickly a failing member is skipped.

    Examples:
        >>> FallbackSection(chain=["local", "gemini:gemini-2.5-pro"]).entries()[1].model
        'gemini-2.5-pro'
        >>> FallbackSection().backends()
        ('local', 'gemini')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    chain: tuple[str, ...] = Field(default=("local", "gemini"), min_length=1)
    failure_threshold: int = Field(default=DEFAULT_FAILURE_THRESHOLD, gt=0)
    cooldown: float = Field(default=DEFAULT_COOLDOWN, ge=0)

    @field_validator("chain")
    @classmethod
    def _entries_parse(cls, chain: tuple[str, ...]) -> tuple[str, ...]:
        for entry in chain:
            parse_entry(entry)
        return chain

    def entries(self) -> tuple[ChainEntry, ...]:
        """The chain, parsed."""
        return tuple(parse_entry(entry) for entry in self.chain)

    def backends(self) -> tuple[str, ...]:
        """The backend sections the chain uses, each once, in order of first use."""
        return tuple(dict.fromkeys(entry.backend for entry in self.entries()))
