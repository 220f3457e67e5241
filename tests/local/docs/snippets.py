"""The fenced code blocks of the documentation, and the markers that say how each one runs.

Every ``.md`` file of README.md, LOCAL_INFERENCE_SETUP.md and docs/ is read, so a new page
is covered without registering it. A marker is an HTML comment (invisible in the rendered
page) on the last non-blank line before the fence; docs/contributing.md documents them:

- none: Python runs as written (a snippet with top-level ``await`` runs as under
  ``python -m asyncio``); in a shell block, each ``botticelli ...`` and
  ``python -m botticelli...`` command runs. Both run against a canned server.
- ``<!-- snippet: skip REASON -->``: not run; the reason is required.
- ``<!-- snippet: not-run CMD[,CMD]: REASON -->``: a shell block whose ``botticelli CMD``
  commands are not run (they start processes); the others are.
- ``<!-- snippet: real-server -->``: run only by tests/api against a real llama.cpp
  server, in document order (README.md's "next step after the demo").
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<kind>[\w-]+)\s*(?P<rest>.*?)\s*-->\s*$")
_INCLUDE = re.compile(r'^--8<--\s+"(?P<path>[^"]+)"\s*$')
PYTHON = frozenset({"python", "py"})
SHELL = frozenset({"bash", "sh", "shell", "console"})
KINDS = frozenset({"skip", "not-run", "real-server"})


@dataclass(frozen=True)
class Snippet:
    """One fenced block: where it is, its language, its code, and its marker."""

    path: Path
    line: int
    lang: str
    code: str
    kind: str | None = None
    reason: str = ""
    not_run: frozenset[str] = field(default_factory=frozenset)

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_doctest(self) -> bool:
        """Written as an interactive session: pytest's ``--doctest-glob`` already runs these."""
        return self.code.lstrip().startswith(">>>")


def documents(root: Path = ROOT) -> list[Path]:
    """README.md, LOCAL_INFERENCE_SETUP.md and every ``.md`` under docs/."""
    return [root / "README.md", root / "LOCAL_INFERENCE_SETUP.md", *sorted((root / "docs").rglob("*.md"))]


def parse(path: Path, text: str | None = None) -> list[Snippet]:
    """The fenced blocks of one Markdown file; ``--8<--`` includes are replaced by the file they name."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    found: list[Snippet] = []
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if opened is None or not opened["lang"]:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        indent = len(opened["indent"])
        body = [line[indent:] for line in lines[index + 1 : end]]
        found.append(_snippet(path, index + 1, opened["lang"], body, _marker_before(lines, index)))
        index = end + 1
    return found


def _marker_before(lines: list[str], index: int) -> re.Match[str] | None:
    for previous in range(index - 1, -1, -1):
        if lines[previous].strip():
            return _MARKER.match(lines[previous])
    return None


def _snippet(path: Path, line: int, lang: str, body: list[str], marker: re.Match[str] | None) -> Snippet:
    included = _INCLUDE.match(body[0]) if len(body) == 1 else None
    code = (ROOT / included["path"]).read_text(encoding="utf-8") if included else "\n".join(body) + "\n"
    if marker is None:
        return Snippet(path, line, lang, code)
    kind, rest = marker["kind"], marker["rest"]
    if kind not in KINDS:
        raise ValueError(f"{path}:{line}: unknown snippet marker {kind!r} (known: {sorted(KINDS)})")
    not_run: frozenset[str] = frozenset()
    if kind == "not-run":
        commands, _, rest = rest.partition(":")
        not_run = frozenset(c.strip() for c in commands.split(",") if c.strip())
    return Snippet(path, line, lang, code, kind=kind, reason=rest.strip(), not_run=not_run)


def collect(root: Path = ROOT) -> list[Snippet]:
    """Every Python and shell block of the documentation."""
    return [s for path in documents(root) for s in parse(path) if s.lang in PYTHON | SHELL]


def commands(snippet: Snippet) -> list[list[str]]:
    """The botticelli commands of a shell block, as argv lists, without the ones marked not-run.

    ``botticelli ARGS`` becomes ``["botticelli", *ARGS]``, ``python -m botticelli.testing ARGS``
    ``["python", "-m", "botticelli.testing", *ARGS]``; other commands (installs, other
    servers) are the reader's, not botticelli's, and are left out.
    """
    found: list[list[str]] = []
    for command in _shell_commands(snippet.code):
        argv = command[:-1] if command and command[-1] == "&" else command
        cli = argv[:1] == ["botticelli"] and argv[1:2] and argv[1] not in snippet.not_run
        module = argv[:2] == ["python", "-m"] and argv[2:3] and argv[2].startswith("botticelli")
        if cli or module:
            found.append(argv)
    return found


def _shell_commands(code: str) -> list[list[str]]:
    """The block's commands as a shell reads them: a trailing backslash continues a line, and
    so does an open quote (a ``python -c "..."`` spread over lines)."""
    commands: list[list[str]] = []
    pending = ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        pending += line
        try:
            commands.append(shlex.split(pending, comments=True))
        except ValueError:  # an open quote: the command goes on on the next line
            pending += "\n"
            continue
        pending = ""
    if pending.strip():
        raise ValueError(f"unterminated shell command: {pending!r}")
    return commands
