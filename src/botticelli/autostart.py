"""A ``local`` client that starts its own inference server, and restarts it if asked to.

With ``[server] autostart = true``, :meth:`~botticelli.ModelProvider.create_client`
returns an :class:`AutostartedClient`. The server starts when the client is opened:
on ``async with`` (or :meth:`AutostartedClient.open`), or else on the first call. It
stops when the client is closed, also when opening failed half way, so no process is
left behind. A server that exits on its own is a :class:`~botticelli_error.ServerCrashedError`
(with its exit code, and the output lines that explain the exit) on the next call; with a
:class:`~botticelli.RestartPolicy` that call restarts it instead, boundedly, and logs
``inference_server_restarting``.

The client is built on a plain :class:`~botticelli_server.ServerClient`, made anew for
each start (a restart on ``port = 0`` may listen elsewhere)::

    async with ModelProvider.from_config().create_client() as model:   # the server starts here
        response = await model.generate(GenerateRequest.from_prompt("Hi"))
                                                                       # and stops here
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Self, TypeVar

import anyio
from pydantic import BaseModel

from botticelli._restart import RestartPolicy
from botticelli._server_section import server_from_section
from botticelli.config.schema import BotticelliSettings
from botticelli_core import (
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    HealthStatus,
    ModelInfo,
    StreamChunk,
    TokenCount,
)
from botticelli_error import ConfigurationError, ServerCrashedError, ServerUnavailableError, StreamError, TransportError
from botticelli_interface import ManagedStream
from botticelli_interface.request_log import log_event
from botticelli_server.client import ServerClient
from botticelli_server.config import PROVIDER, ServerConfig
from botticelli_server.launcher import InferenceServer

__all__ = ["AutostartedClient", "autostarted_client"]

T = TypeVar("T")

_DEATH_GRACE = 1.0
"""Seconds a failed call waits for the server's exit to show, before it is taken as alive."""
_OUTPUT_GRACE = 0.5
"""Seconds a crash report waits for the dead server's last output (a process it started may hold the pipe)."""


async def _poll_until(done: Callable[[], bool], *, within: float, every: float) -> None:
    """Return once ``done()`` holds, or after ``within`` seconds, checking every ``every`` seconds."""
    with anyio.move_on_after(within):
        while not done():  # noqa: ASYNC110 - a child's exit and a thread's end can only be polled
            await anyio.sleep(every)


# A call that fails like this may have failed because the server died under it.
_SYMPTOMS = (TransportError, ServerUnavailableError, StreamError)


class AutostartedClient:
    """A :class:`~botticelli_server.ServerClient` whose server it starts, watches and stops itself.

    Args:
        make_server: Builds the (not started) server; called for each start and restart.
        config: The client's settings; its ``base_url`` is replaced by the started server's.
        restart: Restart a crashed server on the next call; ``None`` makes a crash final.

    Examples:
        >>> from botticelli_server import InferenceServer, ServerConfig
        >>> client = AutostartedClient(
        ...     lambda: InferenceServer("llama-server", model="tiny.gguf", model_name="tiny"),
        ...     ServerConfig(model="tiny"),
        ... )
        >>> client.provider_name, client.model_name, client.server is None
        ('local', 'tiny', True)
    """

    def __init__(
        self,
        make_server: Callable[[], InferenceServer],
        config: ServerConfig,
        *,
        restart: RestartPolicy | None = None,
    ) -> None:
        self._make_server = make_server
        self._config = config
        self.restart_policy = restart
        self.restarts = 0
        """How many times the server has been restarted."""
        self._server: InferenceServer | None = None
        self._client: ServerClient | None = None
        self._crash: ServerCrashedError | None = None
        self._closed = False
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"AutostartedClient(server={self._server!r}, restarts={self.restarts})"

    @property
    def provider_name(self) -> str:
        """Always ``"local"``."""
        return PROVIDER

    @property
    def model_name(self) -> str:
        """The model used when a request names none: the server's."""
        return self._config.model

    @property
    def server(self) -> InferenceServer | None:
        """The server of the current start; ``None`` before the first start."""
        return self._server

    # -- life cycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Start the server, unless it is running already; the first call does it otherwise.

        Raises:
            ServerUnavailableError: The server did not become ready (its output is in the message).
            ConfigurationError: The client is closed, or the server command cannot be run.
        """
        await self._ready()

    async def aclose(self) -> None:
        """Close the connections and stop the server. Safe to call twice."""
        self._closed = True
        with anyio.CancelScope(shield=True):
            await self._shut()

    async def _shut(self) -> None:
        client, server = self._client, self._server
        self._client = None
        try:
            if client is not None:
                await client.aclose()
        finally:
            if server is not None:
                await server.stop()

    async def _launch(self) -> ServerClient:
        server = self._make_server()
        self._server = server
        await server.start()
        try:
            client = ServerClient(self._config.model_copy(update={"base_url": server.base_url}))
        except BaseException:
            # Started but not usable: never leave the process behind.
            with anyio.CancelScope(shield=True):
                await server.stop()
            raise
        self._client = client
        return client

    async def _ready(self) -> ServerClient:
        """The client of a running server: started on first use, restarted after a crash if allowed."""
        async with self._lock:
            if self._closed:
                raise ConfigurationError("this autostarted client is closed; create a new one")
            if self._crash is not None:
                raise self._crash
            server, client = self._server, self._client
            if server is None or client is None:
                return await self._launch()
            code = server.returncode
            if code is None:
                return client
            return await self._recover(server, code)

    async def _recover(self, server: InferenceServer, code: int) -> ServerClient:
        crash = await self._crashed(server, code)
        await self._shut()
        policy = self.restart_policy
        if policy is None or self.restarts >= policy.max_restarts:
            # Final: later calls get the same error rather than a new start.
            self._crash = crash
            raise crash
        self.restarts += 1
        delay = policy.delay(self.restarts)
        log_event(
            logging.WARNING,
            "inference_server_restarting",
            pid=server.pid,
            returncode=code,
            restart=self.restarts,
            max_restarts=policy.max_restarts,
            delay_s=delay,
        )
        await anyio.sleep(delay)
        return await self._launch()

    async def _crashed(self, server: InferenceServer, code: int) -> ServerCrashedError:
        # The server has exited, but its last lines (often the reason) may still be in the
        # pipe, on their way to the thread that reads it.
        await _poll_until(lambda: not server.output_open, within=_OUTPUT_GRACE, every=0.01)
        policy = self.restart_policy
        if policy is None:
            advice = "set [server] restart = { max_restarts = 3 } to restart it on the next call"
        else:
            advice = f"its {policy.max_restarts} restart(s) are spent"
        # The message gets the lines that explain the exit, not the whole tail: llama.cpp's
        # load log alone is some 5 KB. The error's output_tail keeps the raw last lines.
        return ServerCrashedError(
            f"the inference server botticelli started (pid {server.pid}) exited with status {code}; {advice}; "
            f"{server.output_excerpt()}",
            exit_code=code,
            output_tail=server.output_tail(),
            restarts=self.restarts,
            provider=PROVIDER,
        )

    async def _explain(self, error: BaseException) -> None:
        """Raise :class:`ServerCrashedError` from ``error`` if the server died under the call."""
        server = self._server
        if server is None or not isinstance(error, _SYMPTOMS):
            return
        # A connection refused often comes a moment before the kernel reports the exit.
        await _poll_until(lambda: server.returncode is not None, within=_DEATH_GRACE, every=0.02)
        code = server.returncode
        if code is not None:
            raise await self._crashed(server, code) from error

    # -- the model ----------------------------------------------------------------------------

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate a complete answer (see :meth:`ServerClient.generate <botticelli_server.ServerClient.generate>`).

        Raises:
            ServerCrashedError: The server has exited, and no restart is allowed.
            BotticelliError: Any other typed error.
        """
        return await self._call(lambda client: client.generate(request))

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream an answer; the server is started (or restarted) when iteration starts."""
        return ManagedStream(self._stream(request))

    async def _stream(self, request: GenerateRequest) -> AsyncGenerator[StreamChunk, None]:
        client = await self._ready()
        try:
            async with client.generate_stream(request) as stream:
                async for chunk in stream:
                    yield chunk
        except Exception as exc:
            await self._explain(exc)
            raise

    async def embed(
        self,
        texts: Sequence[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        task: str | None = None,
        truncate: bool = False,
    ) -> EmbedResponse:
        """Embed ``texts`` on the started server (as :meth:`botticelli_server.ServerClient.embed`)."""
        return await self._call(
            lambda client: client.embed(texts, model=model, dimensions=dimensions, task=task, truncate=truncate)
        )

    async def count_tokens(self, request: GenerateRequest) -> TokenCount:
        """Count the prompt's tokens on the started server."""
        return await self._call(lambda client: client.count_tokens(request))

    async def list_models(self) -> list[ModelInfo]:
        """The models the started server offers."""
        return await self._call(lambda client: client.list_models())

    async def health(self) -> HealthStatus:
        """The started server's health; a crashed server is ``status="crashed"``, never an exception."""
        try:
            client = await self._ready()
        except ServerUnavailableError as exc:
            status = "crashed" if isinstance(exc, ServerCrashedError) else "unavailable"
            return HealthStatus(ready=False, status=status, detail=exc.message)
        return await client.health()

    async def _call(self, operation: Callable[[ServerClient], Awaitable[T]]) -> T:
        client = await self._ready()
        try:
            return await operation(client)
        except Exception as exc:
            await self._explain(exc)
            raise


def autostarted_client(settings: BotticelliSettings, config: BaseModel) -> AutostartedClient:
    """The client :class:`~botticelli.ModelProvider` makes for ``[server] autostart``.

    Args:
        settings: Settings with a ``[server]`` table.
        config: The ``local`` backend's settings (from ``botticelli._autostart_config``).
    """
    section = settings.server
    assert section is not None  # the provider checked autostart
    assert isinstance(config, ServerConfig)
    return AutostartedClient(lambda: server_from_section(section), config, restart=section.restart)
