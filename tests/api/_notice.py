"""A line for the person running the tests, shown at once even while pytest captures output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import pytest


def notifier(config: pytest.Config) -> Callable[[str], None]:
    """A function that shows a line on the terminal now, not in a captured report.

    During a fixture's setup pytest captures file descriptors 1 and 2, and the terminal
    reporter writes to the very stream being captured, so a plain ``write_line`` lands
    in the captured output, shown only if the test fails. The line is written with
    capturing suspended instead.

    Args:
        config: The session's configuration (the ``pytestconfig`` fixture).
    """
    capture: Any = config.pluginmanager.get_plugin("capturemanager")
    reporter: Any = config.pluginmanager.get_plugin("terminalreporter")

    def notify(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            if reporter is not None:
                reporter.ensure_newline()
                reporter.write_line(line)
                reporter.flush()
            else:  # a worker without a terminal (pytest-xdist): standard error reaches the controller's log
                print(line, file=sys.stderr, flush=True)

    return notify
