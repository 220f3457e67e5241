"""Fixtures for the API tests: a real OpenAI-compatible server on 127.0.0.1.

Point the tests at any server with ``INFERENCE_SERVER_BASE_URL`` and
``INFERENCE_SERVER_MODEL`` (mistral.rs, vLLM, Ollama...); otherwise llama.cpp's Python
server is started with a tiny random-weight model, installing it first if needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from botticelli.testing import write_tiny_gguf
from botticelli_server.config import ServerConfig
from tests.api._engine import (
    EngineUnavailable,
    ensure_llama_cpp_server,
    run_started,
    run_stopped,
    tiny_llama_server,
)
from tests.api._notice import notifier

# The suite-wide bound (pyproject.toml) counts fixture setup too, and the first API test sets up
# the engine: compiling llama.cpp alone takes minutes. Those steps carry limits of their own
# (the install and startup timeouts in _engine), so here the bound covers only each test's
# body, which may itself start a server (up to 120 s) or run an example script (up to 120 s).
API_TEST_TIMEOUT = 300.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(API_TEST_TIMEOUT, func_only=True))


@pytest.fixture(scope="session")
def llama_cpp_server(pytestconfig: pytest.Config) -> None:
    """Make sure ``python -m llama_cpp.server`` can run, installing it if it is missing."""
    try:
        ensure_llama_cpp_server(notifier(pytestconfig))
    except EngineUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random-weight GGUF model, written once per session."""
    return write_tiny_gguf(tmp_path_factory.mktemp("tiny-model") / "tiny.gguf", seed=0)


@pytest.fixture(scope="session")
def server_config(request: pytest.FixtureRequest) -> Iterator[ServerConfig]:
    """A client configuration for a real server, ready to take requests."""
    if os.environ.get("INFERENCE_SERVER_BASE_URL", "").strip():
        yield ServerConfig.from_env()
        return
    request.getfixturevalue("llama_cpp_server")
    model: Path = request.getfixturevalue("tiny_model")
    server = tiny_llama_server(model)
    run_started(server)
    try:
        yield server.config
    finally:
        run_stopped(server)
