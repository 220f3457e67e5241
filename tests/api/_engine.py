"""The real engine behind the API tests: llama.cpp's Python server running the tiny model.

Installing ``llama-cpp-python[server]`` compiles llama.cpp, so it happens once, on demand,
under a lock so that parallel test workers never build it twice at the same time.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio

from botticelli_server.launcher import InferenceServer

TINY_MODEL_NAME = "tiny"
# Small enough that an over-long prompt is cheap to send; large enough for every other test.
TINY_CONTEXT = 1024

_PIP_INSTALL = [sys.executable, "-m", "pip", "install", "llama-cpp-python[server]"]
_BUILD_ENV = {
    # A portable build (no -march=native) without the parts the server does not need.
    "CMAKE_ARGS": "-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF",
    "CMAKE_BUILD_PARALLEL_LEVEL": "2",
}
_INSTALL_TIMEOUT = 1800.0


class EngineUnavailable(RuntimeError):
    """llama.cpp's server could not be installed; carries the end of pip's output."""


def llama_cpp_server_importable() -> bool:
    """Whether ``llama_cpp.server`` imports, checked in a child so this process stays clean."""
    probe = subprocess.run(
        [sys.executable, "-c", "import llama_cpp.server.app"], capture_output=True, check=False, timeout=120
    )
    return probe.returncode == 0


@contextmanager
def _install_lock() -> Iterator[None]:
    lock_path = Path(tempfile.gettempdir()) / "botticelli-llama-cpp-install.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_llama_cpp_server(notify: Callable[[str], None]) -> None:
    """Install ``llama-cpp-python[server]`` into this interpreter unless it is already there.

    Args:
        notify: Shows a line to the person running the tests (pytest captures plain prints).

    Raises:
        EngineUnavailable: If pip fails; the message ends with pip's last lines.
    """
    if llama_cpp_server_importable():
        return
    with _install_lock():
        # Another worker may have finished the build while we waited for the lock.
        if llama_cpp_server_importable():
            return
        notify(
            "installing llama-cpp-python[server] for the API tests: it compiles llama.cpp, about 3 minutes "
            "the first time; pip's wheel cache makes later installs take seconds"
        )
        result = subprocess.run(
            _PIP_INSTALL,
            env={**os.environ, **_BUILD_ENV},
            capture_output=True,
            text=True,
            check=False,
            timeout=_INSTALL_TIMEOUT,
        )
    if result.returncode != 0 or not llama_cpp_server_importable():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise EngineUnavailable(f"'{' '.join(_PIP_INSTALL)}' failed (exit {result.returncode}):\n{tail}")


def tiny_llama_server(model: Path, **options: object) -> InferenceServer:
    """An InferenceServer for ``python -m llama_cpp.server`` serving the tiny model as ``tiny``.

    The preset itself passes ``--interrupt_requests False``, so the server finishes one
    request before the next instead of aborting a running stream when another arrives.
    """
    options.setdefault("startup_timeout", 120.0)
    return InferenceServer(
        "llama-cpp-python",
        model=model,
        model_name=TINY_MODEL_NAME,
        extra_args=["--n_ctx", str(TINY_CONTEXT)],
        **options,  # type: ignore[arg-type]
    )


def run_started(server: InferenceServer) -> None:
    """Start a server from synchronous code (a session fixture), outside any event loop."""
    anyio.run(server.start)


def run_stopped(server: InferenceServer) -> None:
    """Stop a server from synchronous code."""
    anyio.run(server.stop)
