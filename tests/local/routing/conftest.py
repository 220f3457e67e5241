"""Fixtures of the routing tests."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def routes(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The log, capturing botticelli's route and replica decisions."""
    caplog.set_level(logging.INFO, logger="botticelli")
    return caplog
