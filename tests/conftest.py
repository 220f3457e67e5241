"""Shared test configuration: every async test runs on asyncio through anyio's plugin."""

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    # structlog.testing.capture_logs leaves structlog marked as configured, which would
    # route later tests' logs away from the stdlib "botticelli" logger.
    yield
    structlog.reset_defaults()
