"""Shared test configuration: every async test runs on asyncio through anyio's plugin."""

import os
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import settings

# A property test's verdict is about behaviour, never about how long one example took: on a
# loaded two-core machine hypothesis's default 200 ms deadline failed correct code.
settings.register_profile("botticelli", deadline=None)
settings.load_profile("botticelli")

# huggingface_hub reads this once, on import: without it, building its user agent fetches a
# registry from the real hub (the tests must never leave 127.0.0.1).
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    # structlog.testing.capture_logs leaves structlog marked as configured, which would
    # route later tests' logs away from the stdlib "botticelli" logger.
    yield
    structlog.reset_defaults()
