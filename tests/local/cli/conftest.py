"""What every CLI test shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from botticelli.config import ENV_CONFIG, ENV_OVERRIDES


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No configuration but the test's own: an empty working directory and no botticelli variables."""
    for name in [*ENV_OVERRIDES, ENV_CONFIG]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    # -v sets RUST_LOG when unset; setting it here keeps that from outliving the test.
    monkeypatch.setenv("RUST_LOG", "warn")
    monkeypatch.chdir(tmp_path)
    return tmp_path
