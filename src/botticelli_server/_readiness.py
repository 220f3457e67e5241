"""Waiting until a started inference server answers as ready, and checking that the answer is its own.

A server that answers is not necessarily ours: another one may already hold the port
and answer the probe while our own process dies with "Address already in use". So a
successful probe counts only while our process still runs and (on Linux) the listener
on the port is not a process older than ours.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import anyio
from pydantic import SecretStr

from botticelli_core import HealthStatus
from botticelli_error import ServerUnavailableError
from botticelli_interface.request_log import log_event
from botticelli_server._ports import foreign_listener
from botticelli_server._presets import shell_line
from botticelli_server.client import ServerClient
from botticelli_server.config import PROVIDER, ServerConfig

if TYPE_CHECKING:
    from botticelli_server.launcher import InferenceServer

__all__ = ["wait_ready"]


async def wait_ready(
    server: InferenceServer, argv: list[str], *, api_key: SecretStr | None, started: float, started_at: float
) -> None:
    """Probe ``server`` until it is ready, within its ``startup_timeout`` from ``started``.

    Args:
        server: The server just started.
        argv: Its command line, for the error messages.
        api_key: The key the probes send.
        started: When it was started, on the monotonic clock.
        started_at: The same instant on the wall clock, to tell an older listener from ours.

    Raises:
        ServerUnavailableError: The process exited first, another process answered in
            its place, or it was not ready in time; the message carries the end of its output.
    """
    deadline = started + server.startup_timeout
    # Probes are single attempts; this loop is the retry policy.
    probe_config = ServerConfig(base_url=server.base_url, model=server.model_name, api_key=api_key, max_retries=0)
    async with ServerClient(probe_config) as client:
        while True:
            code = server.returncode
            if code is not None:
                # Reap the group and drain the pipe first, so the tail holds the server's last words.
                await server.stop()
                log_event(
                    logging.WARNING, "inference_server_exited", pid=server.pid, returncode=code, before_ready=True
                )
                raise ServerUnavailableError(
                    f"the inference server {shell_line(argv)} exited with status {code} before it was ready; "
                    f"{server.output_excerpt()}",
                    provider=PROVIDER,
                    retryable=False,
                    body=server.output_tail(),
                )
            health = HealthStatus(ready=False, status="unreachable", detail="probe timed out")
            # A server that accepts connections but never answers must not stretch the deadline.
            with anyio.move_on_after(max(deadline - time.monotonic(), server.poll_interval)):
                health = await client.health()
            if health.ready and _answered_by_us(server, argv, started_at):
                return
            if time.monotonic() >= deadline:
                raise ServerUnavailableError(
                    f"the inference server {shell_line(argv)} was not ready within {server.startup_timeout:g} s "
                    f"(last health status: {health.status}); {server.output_excerpt()}",
                    provider=PROVIDER,
                    retryable=False,
                    body=server.output_tail(),
                )
            await anyio.sleep(server.poll_interval)


def _answered_by_us(server: InferenceServer, argv: list[str], started_at: float) -> bool:
    """After a successful probe: ``False`` if our process died meanwhile (the loop reports it).

    Raises:
        ServerUnavailableError: A process older than ours listens on the port.
    """
    if server.returncode is not None:
        return False
    assert server.pid is not None  # started
    assert server.port is not None
    other = foreign_listener(server.port, group=server.pid, started_before=started_at)
    if other is None:
        return True
    raise ServerUnavailableError(
        f"another process (pid {other}) listens on port {server.port} and answered the readiness probe, "
        f"not the inference server {shell_line(argv)}; {server.output_excerpt()}",
        provider=PROVIDER,
        retryable=False,
        body=server.output_tail(),
    )
