"""The API suite's install notice reaches the terminal while pytest captures output (it used to vanish)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]

CONFTEST = """
import pytest
from tests.api._notice import notifier

@pytest.fixture(scope="session")
def slow_setup(pytestconfig):
    notifier(pytestconfig)("installing the engine, about 3 minutes the first time")
"""

TEST = """
def test_uses_the_slow_setup(slow_setup):
    print("captured, not shown")
"""


def test_the_notice_is_shown_during_a_captured_fixture_setup(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_notice.py").write_text(TEST)
    env = os.environ | {"PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installing the engine, about 3 minutes the first time" in result.stdout
    assert "captured, not shown" not in result.stdout
