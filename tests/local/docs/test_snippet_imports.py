"""What the documentation's examples import, the README's install (``pip install -e ".[demo]"``) installs.

A reader who followed the README and copies an example from docs/ must not meet a
``ModuleNotFoundError``: the examples that answer from a mocked server import respx, so the
``demo`` extra installs it. What the extra installs is read from pyproject.toml and, for
the dependencies of those packages, from the installed packages' own metadata.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .snippets import PYTHON, ROOT, Snippet, collect

# Imports whose page tells the reader to install something else first, and what.
INSTALLED_AS_THE_PAGE_SAYS = {
    "opentelemetry": "docs/tracing.md: pip install 'botticelli[otel]', and the application's own SDK",
}


def installed_by(extra: str) -> set[str]:
    """The distributions ``pip install -e ".[extra]"`` installs: the project's, its extras', and theirs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    pending = [Requirement(text) for text in [*project["dependencies"], *extras[extra]]]
    found: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name == "botticelli":  # botticelli[testing,...]: the extras of the project itself
            pending += [Requirement(text) for chosen in requirement.extras for text in extras[chosen]]
            continue
        if name in found:
            continue
        found.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # not installed here: its own name still counts
            continue
        chosen_extras = requirement.extras or {""}
        for text in requires:
            dependency = Requirement(text)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in chosen_extras):
                pending.append(dependency)
    return found


def imported_modules(snippet: Snippet) -> set[str]:
    """The top-level modules a Python snippet imports, other than the standard library's and botticelli's."""
    code = snippet.code
    if snippet.is_doctest:
        prompts = (">>> ", "... ")
        code = "\n".join(line[4:] for line in code.splitlines() if line.startswith(prompts) or line in (">>>", "..."))
    names: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and not name.startswith("botticelli")}


def test_every_module_a_docs_example_imports_is_installed_by_the_demo_extra() -> None:
    demo = installed_by("demo")
    providers = metadata.packages_distributions()
    missing: list[str] = []
    for snippet in collect():
        if snippet.lang not in PYTHON:
            continue
        for module in sorted(imported_modules(snippet) - set(INSTALLED_AS_THE_PAGE_SAYS)):
            distributions = {canonicalize_name(d) for d in providers.get(module, [module])}
            if not distributions & demo:
                missing.append(f"{snippet.id}: {module}")
    assert not missing, f'pip install -e ".[demo]" does not install what these examples import: {missing}'


def test_the_examples_that_answer_from_a_mock_server_are_covered() -> None:
    # The reason for the demo extra's respx: guard against the scan above finding nothing.
    assert any("respx" in imported_modules(s) for s in collect() if s.lang in PYTHON)
    assert "respx" in installed_by("demo")
