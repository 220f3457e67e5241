"""Shared test configuration: every async test runs on asyncio through anyio's plugin."""

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
