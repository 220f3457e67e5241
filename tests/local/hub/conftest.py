"""A fake hub on 127.0.0.1 with a tiny GGUF, and an environment pointing the real client at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from botticelli.testing import write_tiny_gguf
from tests.local.hub._fake_hub import FakeHub, running

REPO = "botticelli-test/tiny-GGUF"
FILE = "tiny.Q8_0.gguf"
GATED = "botticelli-test/gated-GGUF"
TOKEN = "hf_test_token_0123456789abcdef"


@pytest.fixture(scope="session")
def gguf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", seed=0)
    return path.read_bytes()


@pytest.fixture
def hub(gguf_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    state = FakeHub(files={(REPO, FILE): gguf_bytes, (GATED, FILE): gguf_bytes}, gated={GATED: TOKEN})
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with running(state):
        monkeypatch.setenv("HF_ENDPOINT", state.url)
        yield state
