"""Every Python and shell snippet of README.md, LOCAL_INFERENCE_SETUP.md and docs/ runs as written.

The snippets are found, not listed (see :mod:`tests.local.docs.snippets` for the markers);
each runs in a fresh folder against the canned server. Doctest-style blocks are left to
pytest's ``--doctest-glob``, which the same ``just test-local`` runs.
"""

from __future__ import annotations

import ast
import asyncio
import os
from pathlib import Path
from typing import get_args

import pytest
from opentelemetry import trace
from opentelemetry.metrics import _internal as metrics_internal
from opentelemetry.util._once import Once

from botticelli.cli import main as cli_main
from botticelli.config import load_settings
from botticelli.config.schema import ProviderName
from botticelli.testing.__main__ import main as write_model

from .canned import canned_server
from .snippets import PYTHON, ROOT, SHELL, Snippet, collect, commands, documents, parse

SNIPPETS = collect()
LOCAL = [s for s in SNIPPETS if s.kind is None and not s.is_doctest]
PYTHON_SNIPPETS = [s for s in LOCAL if s.lang in PYTHON]
SHELL_SNIPPETS = [s for s in LOCAL if s.lang in SHELL and commands(s)]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder, no user configuration, and the environment the snippets' prose asks for."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("BOTTICELLI_", "INFERENCE_SERVER_", "GEMINI_", "GOOGLE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("INFERENCE_SERVER_BASE_URL", "http://localhost:1234")
    monkeypatch.setenv("INFERENCE_SERVER_MODEL", "default")
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSy-canned-not-a-real-key-0123456789")
    # docs/tracing.md sets the global tracer provider, which the API allows once per process:
    # give each snippet a process that has none, and put the real one back after.
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(metrics_internal, "_METER_PROVIDER", None)
    monkeypatch.setattr(metrics_internal, "_METER_PROVIDER_SET_ONCE", Once())
    return tmp_path


def run_python(snippet: Snippet) -> None:
    """Run the code as a script; top-level ``await`` runs in an event loop, as ``python -m asyncio`` would."""
    code = compile(snippet.code, snippet.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace = {"__name__": "__main__"}
    result = eval(code, namespace)  # the project's own documentation, run as written
    if asyncio.iscoroutine(result):
        asyncio.run(result)


def run_command(argv: list[str]) -> int:
    """One botticelli command, in this process (so the canned server answers it)."""
    if argv[0] == "botticelli":
        return cli_main(argv[1:])
    assert argv[2] == "botticelli.testing", f"no in-process runner for {argv}"
    return write_model(argv[3:])


@pytest.mark.parametrize("snippet", PYTHON_SNIPPETS, ids=lambda s: s.id)
def test_the_python_snippet_runs(snippet: Snippet, sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with canned_server():
        run_python(snippet)
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("snippet", SHELL_SNIPPETS, ids=lambda s: s.id)
def test_the_botticelli_commands_of_the_shell_snippet_succeed(
    snippet: Snippet, sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with canned_server():
        for argv in commands(snippet):
            code = run_command(argv)
            assert code == 0, f"{' '.join(argv)} exited {code}: {capsys.readouterr().err}"


def test_snippets_are_found_in_every_page_and_include_the_readme_example() -> None:
    pages = {s.path for s in SNIPPETS}
    assert ROOT / "README.md" in pages
    assert ROOT / "docs" / "configuration.md" in pages
    assert any("anyio.run(main)" in s.code for s in PYTHON_SNIPPETS if s.path.name == "README.md")
    assert set(documents()) >= {ROOT / "LOCAL_INFERENCE_SETUP.md", ROOT / "docs" / "index.md"}


def test_every_skip_names_its_reason_and_skips_stay_rare() -> None:
    skipped = [s for s in SNIPPETS if s.kind in ("skip", "not-run")]
    assert all(s.reason for s in skipped), [s.id for s in skipped if not s.reason]
    assert len([s for s in skipped if s.kind == "skip"]) <= len(SNIPPETS) // 10


def test_markers_are_read_from_the_line_before_the_fence() -> None:
    text = "\n".join(
        [
            "<!-- snippet: skip needs a GPU -->",
            "",
            "```python",
            "import torch",
            "```",
            "<!-- snippet: not-run serve, demo: they start processes -->",
            "```bash",
            "botticelli models   # list them",
            "botticelli serve &",
            "pip install x",
            "```",
            "```python",
            "print(1)",
            "```",
        ]
    )
    skipped, shell, plain = parse(ROOT / "README.md", text)
    assert (skipped.kind, skipped.reason, skipped.line) == ("skip", "needs a GPU", 3)
    assert shell.not_run == {"serve", "demo"}
    assert commands(shell) == [["botticelli", "models"]]
    assert plain.kind is None


def test_an_unknown_marker_is_an_error_not_a_silent_skip() -> None:
    with pytest.raises(ValueError, match="unknown snippet marker"):
        parse(ROOT / "README.md", "<!-- snippet: skipp oops -->\n```python\npass\n```\n")


def test_a_failing_snippet_fails_its_test(sandbox: Path) -> None:
    broken = Snippet(ROOT / "README.md", 1, "python", "from botticelli import NoSuchThing\n")
    with canned_server(), pytest.raises(ImportError):
        run_python(broken)


TOML_SNIPPETS = [s for path in documents() for s in parse(path) if s.lang == "toml" and s.kind is None]


@pytest.mark.parametrize("snippet", TOML_SNIPPETS, ids=lambda s: s.id)
def test_the_botticelli_toml_snippet_is_a_valid_configuration(snippet: Snippet, sandbox: Path) -> None:
    path = sandbox / "botticelli.toml"
    path.write_text(snippet.code, encoding="utf-8")
    settings = load_settings(path, env={})
    assert settings.model.provider in get_args(ProviderName)
