"""``python -m botticelli.testing PATH`` writes the tiny model, creating its folder, and prints its path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from botticelli.testing import write_tiny_gguf
from botticelli.testing.__main__ import main


def test_the_command_writes_the_same_model_as_the_function_into_a_new_folder(tmp_path: Path) -> None:
    target = tmp_path / "models" / "tiny.gguf"
    assert main([str(target)]) == 0
    assert target.read_bytes() == write_tiny_gguf(tmp_path / "direct.gguf").read_bytes()


def test_the_module_runs_as_a_command(tmp_path: Path) -> None:
    target = tmp_path / "m" / "t.gguf"
    done = subprocess.run(
        [sys.executable, "-m", "botticelli.testing", str(target), "--seed", "3"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == write_tiny_gguf(tmp_path / "seeded.gguf", seed=3).read_bytes()


def test_the_path_is_printed_on_standard_output_for_a_shell_to_capture(tmp_path: Path) -> None:
    # MODEL=$(python -m botticelli.testing models/tiny.gguf) must capture the path, and nothing else.
    target = tmp_path / "models" / "tiny.gguf"
    done = subprocess.run(
        [sys.executable, "-m", "botticelli.testing", str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{target}\n"
    assert done.stderr == ""


def test_a_usage_mistake_goes_to_standard_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "the following arguments are required: path" in err
