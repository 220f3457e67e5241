"""One tiny model file and one loaded engine for the whole embedded suite: loading is the slow part."""

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from botticelli.testing import write_tiny_gguf
from botticelli_embedded import EmbeddedConfig, EmbeddedModel


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("embedded") / "tiny.gguf", seed=0)


def _closing(model: EmbeddedModel) -> Iterator[EmbeddedModel]:
    try:
        yield model
    finally:
        anyio.run(model.aclose)


@pytest.fixture(scope="session")
def model(tiny_gguf: Path) -> Iterator[EmbeddedModel]:
    """The shared engine; tests must leave it usable (never close it)."""
    yield from _closing(EmbeddedModel(EmbeddedConfig(model_path=tiny_gguf)))


@pytest.fixture(scope="session")
def single_sequence_model(tiny_gguf: Path) -> Iterator[EmbeddedModel]:
    """An engine that runs one sequence at a time, so a generation left running blocks the next."""
    yield from _closing(EmbeddedModel(EmbeddedConfig(model_path=tiny_gguf, max_sequences=1)))


@pytest.fixture
def own_model(tiny_gguf: Path) -> Iterator[EmbeddedModel]:
    """A fresh, not yet loaded engine, for tests that close it or watch it load."""
    yield from _closing(EmbeddedModel(EmbeddedConfig(model_path=tiny_gguf)))
