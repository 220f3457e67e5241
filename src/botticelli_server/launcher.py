"""Run an OpenAI-compatible inference server as a child process, and own its whole life.

:class:`InferenceServer` starts the server (a preset such as ``llama-server`` or any
command line), waits until it answers as ready, hands out a :class:`ServerConfig` for
the client, and stops it: SIGTERM to its whole process group, then SIGKILL after a grace
period. The server runs in its own session, so anything it spawns dies with it, also when
the ``async with`` body raises or is cancelled.

A server that answers is not necessarily ours: another one may already hold the port,
and answer our readiness probe while our own process dies with "Address already in
use". So :meth:`InferenceServer.start` refuses a port that is already in use, and
after the probe succeeds checks that our process still runs and (on Linux) that the
listener is not a process older than ours. The process itself (its session, output and
stopping) is :mod:`botticelli_server._spawn`'s; the readiness probes are
:mod:`botticelli_server._readiness`'s::

    async with InferenceServer("llama-server", model="tiny.gguf", model_name="tiny") as server:
        async with ServerClient(server.config) as client:
            ...
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import anyio
from pydantic import SecretStr

from botticelli_core import LoraAdapter, ModelRef
from botticelli_core.adapters import check_unique_names
from botticelli_error import ConfigurationError, ServerUnavailableError, register_secret
from botticelli_interface.request_log import log_event
from botticelli_server._model_arg import command_model, fetch_model, parse_server_model
from botticelli_server._ports import find_free_port, port_in_use
from botticelli_server._presets import ServerPreset, fill_argv, get_preset, redact_argv, secret_values, shell_line
from botticelli_server._readiness import wait_ready
from botticelli_server._spawn import ServerProcess
from botticelli_server.config import ServerConfig
from botticelli_server.lora_flags import adapter_flags

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_STARTUP_TIMEOUT",
    "DEFAULT_STOP_GRACE",
    "OUTPUT_TAIL_LINES",
    "InferenceServer",
    "find_free_port",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_STARTUP_TIMEOUT = 120.0
"""Seconds to wait for a server to become ready; large models on a CPU load slowly."""
DEFAULT_STOP_GRACE = 5.0
"""Seconds between SIGTERM and SIGKILL."""
DEFAULT_POLL_INTERVAL = 0.1
OUTPUT_TAIL_LINES = 40
"""How many of the last lines of the server's output are kept (:meth:`InferenceServer.output_tail`)."""
# What an exit report (InferenceServer.output_excerpt) shows: the last lines, where a crash
# usually explains itself, and earlier lines that mention an error, which a long load log
# (llama.cpp writes some 5 KB of it) would otherwise push out; long lines are cut.
_EXCERPT_LAST_LINES = 12
_EXCERPT_NOTABLE_LINES = 8
_EXCERPT_LINE_CHARS = 300

_PROVIDER = "local"


class InferenceServer:
    """An OpenAI-compatible inference server running as a child process.

    Args:
        command: A preset name (``"llama-cpp-python"``, ``"llama-server"``, ``"mistralrs"``,
            ``"mistralrs-server"``, ``"vllm"``) or a custom argv whose arguments may hold
            ``{host}``, ``{port}``, ``{model}``, ``{model_dir}``, ``{model_file}``,
            ``{model_name}`` and ``{python}`` placeholders.
        model: A path or a :class:`~botticelli_core.ModelRef` (or its text): :meth:`start`
            downloads an ``hf:org/repo/file`` first; a repository id ``org/repo`` goes to
            presets that load from the hub themselves (``vllm``, ``mistralrs``).
        model_name: The name clients send as ``model``. Presets pass it to the server as
            its alias; it defaults to the model's file or repository name without a model
            file suffix (``Phi-3.5-mini-instruct``), or ``"default"`` (what mistral.rs
            answers to, and the only name a mistral.rs preset can use).
        host: The address the server listens on.
        port: The port; ``None`` picks a free one when the server starts.
        adapters: LoRA adapters to load, as the preset spells them (see
            :mod:`botticelli_server.lora_flags`); :attr:`config` lists them for requests.
        embeddings: Start the server so that it answers ``POST /v1/embeddings``: the preset
            adds its own switch (llama-cpp-python ``--embedding true``, llama-server
            ``--embeddings``, vLLM ``--runner pooling``; see :mod:`botticelli_server._presets`).
            A custom command carries its own flags, so it cannot be combined with this.
        extra_args: Appended to the command line (e.g. ``["--n_ctx", "512"]``), after the
            preset's and the embeddings switch's arguments, so they can override them.
        env: Extra environment variables for the server, on top of this process's own.
        api_key: The key the server was told to require (e.g. ``extra_args=["--api-key", key]``);
            it goes into :attr:`config` and the readiness probes, never into logs or errors.
        startup_timeout: Seconds to wait for readiness before giving up.
        stop_grace: Seconds between SIGTERM and SIGKILL when stopping.
        poll_interval: Seconds between readiness probes.
        echo_output: Where each line of the server's output is also written as it
            arrives (``botticelli serve -v`` passes standard error); by default it is only
            kept for error messages.

    Raises:
        ConfigurationError: If the preset is unknown, the command cannot be built, or the
            server cannot serve embeddings when ``embeddings=True`` (the message says what works).

    Examples:
        >>> server = InferenceServer("llama-server", model="models/tiny.gguf", model_name="tiny", port=8081)
        >>> server.argv[:3], server.base_url, server.model_name
        (['llama-server', '-m', 'models/tiny.gguf'], 'http://127.0.0.1:8081', 'tiny')
        >>> InferenceServer("llama-cpp-python", model="models/embed.gguf", embeddings=True).argv[-2:]
        ['--embedding', 'true']
    """

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        model: str | os.PathLike[str] | ModelRef | None = None,
        model_name: str | None = None,
        host: str = DEFAULT_HOST,
        port: int | None = None,
        adapters: Sequence[LoraAdapter] = (),
        embeddings: bool = False,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        api_key: str | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        stop_grace: float = DEFAULT_STOP_GRACE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        echo_output: IO[str] | None = None,
    ) -> None:
        self._preset: ServerPreset | None = get_preset(command) if isinstance(command, str) else None
        self._template: tuple[str, ...] = tuple(command) if self._preset is None else ()
        if self._preset is None and not self._template:
            raise ConfigurationError("InferenceServer needs a preset name or a non-empty argv")
        if startup_timeout <= 0 or stop_grace < 0 or poll_interval <= 0:
            raise ConfigurationError("startup_timeout and poll_interval must be positive, stop_grace non-negative")
        # The path (or repository id) the command is given; an hf: file has none until start() fetches it.
        self._ref, self._model = parse_server_model(model)
        self.model_name = self._pick_model_name(model_name)
        """The name clients send as ``model``."""
        self.host = host
        self._requested_port = port
        self._port = port
        self.adapters = check_unique_names(adapters)
        """The LoRA adapters the server loads, in its order."""
        self._adapter_flags = adapter_flags(self._preset.name if self._preset else None, self.adapters)
        if embeddings and self._preset is None:
            raise ConfigurationError(
                "the embeddings switch needs a preset, which knows its server's flag; a custom command carries "
                "its own flags, so add the server's embeddings flag to it (llama-cpp-python: --embedding true, "
                "llama-server: --embeddings, vLLM: --runner pooling)"
            )
        self.embeddings = embeddings
        """Whether the server is started to answer ``POST /v1/embeddings``."""
        self._extra_args = tuple(extra_args)
        self._env = dict(env or {})
        self._api_key = SecretStr(api_key) if api_key is not None else None
        # The server may print its own command line: scrub the key and secret flags from our errors.
        for secret in (api_key, *secret_values([*self._template, *self._extra_args])):
            register_secret(secret, setting="the inference server's api_key or command line", owner=self)
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.poll_interval = poll_interval
        self.echo_output = echo_output
        """Where the output of the next start is also written as it arrives; ``None``: nowhere."""
        self._child: ServerProcess | None = None
        self._ready = False
        self._stopped = False
        self._started_at = 0.0
        # Build once now so a bad template fails at construction, not at start.
        self._build_argv(port if port is not None else 0)

    def _pick_model_name(self, requested: str | None) -> str:
        if self._preset is not None and self._preset.fixed_model_name is not None:
            if requested not in (None, self._preset.fixed_model_name):
                raise ConfigurationError(
                    f"the {self._preset.name!r} preset always serves its model as "
                    f"{self._preset.fixed_model_name!r}; model_name={requested!r} cannot be used"
                )
            return self._preset.fixed_model_name
        if requested is not None:
            return requested
        # Not Path.stem: it would cut "Phi-3.5-mini-instruct" at the ".5".
        return self._ref.default_name if self._ref is not None else "default"

    def _build_argv(self, port: int) -> list[str]:
        model, hub_repo = command_model(self._ref, self._model)
        if self._preset is not None:
            argv = self._preset.argv_for(
                model=model,
                model_name=self.model_name,
                host=self.host,
                port=port,
                hub_repo=hub_repo,
                embeddings=self.embeddings,
            )
        else:
            values = {
                "host": self.host,
                "port": str(port),
                "model_name": self.model_name,
                "python": sys.executable,
            }
            if model is not None:
                values["model"] = model
            if model is not None and not hub_repo:
                path = Path(model)
                values |= {"model_dir": str(path.parent), "model_file": path.name}
            argv = fill_argv(self._template, values, what="the inference server command")
        return [*argv, *self._adapter_flags, *self._extra_args]

    def __repr__(self) -> str:
        what = self._preset.name if self._preset is not None else redact_argv(self._template)[0]
        return f"InferenceServer({what!r}, model_name={self.model_name!r}, port={self._port}, pid={self.pid})"

    # -- what callers read --------------------------------------------------------------------

    @property
    def port(self) -> int | None:
        """The port the server listens on; ``None`` until :meth:`start` picks one."""
        return self._port

    @property
    def argv(self) -> list[str]:
        """The command line (with the port as it is known so far)."""
        return self._build_argv(self._port if self._port is not None else 0)

    @property
    def base_url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:8080``.

        Raises:
            ConfigurationError: If the port is not known yet (``port=None`` and not started).
        """
        if self._port is None:
            raise ConfigurationError("the inference server has no port yet; start it first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def config(self) -> ServerConfig:
        """A client configuration for this server; its dialect is the preset's (``"openai"`` for a custom command).

        Raises:
            ConfigurationError: If the server has not become ready yet.
        """
        if not self._ready:
            raise ConfigurationError("the inference server is not ready; use 'async with' or await start()")
        # A preset knows which server it starts; a custom command line gets the plain protocol,
        # which needs no probe (ServerConfig(..., dialect="auto") asks the server instead).
        dialect = self._preset.dialect if self._preset is not None else "openai"
        values = {"dialect": dialect, "adapters": self.adapters}
        return ServerConfig(base_url=self.base_url, model=self.model_name, api_key=self._api_key, **values)

    @property
    def pid(self) -> int | None:
        """The server's process id, while it has been started."""
        return self._child.process.pid if self._child is not None else None

    @property
    def returncode(self) -> int | None:
        """The server's exit status once it has exited (negative: killed by that signal), else ``None``."""
        return self._child.process.poll() if self._child is not None else None

    @property
    def output_open(self) -> bool:
        """Whether the server's output pipe is still being read (it ends once the server has exited)."""
        return self._child is not None and self._child.output.draining

    def output_tail(self) -> str:
        """The last lines of the server's combined stdout and stderr (up to :data:`OUTPUT_TAIL_LINES`)."""
        return "\n".join(self._child.output.lines()) if self._child is not None else ""

    def output_excerpt(self) -> str:
        """The lines of the server's output that explain an exit, for an error message.

        A first line says what was kept: the last 12 lines, and before them up to 8 earlier
        lines that mention an error, a failure or an exception (the load log that comes
        first would otherwise fill the message); each line is numbered and cut at 300
        characters.

        Examples:
            >>> InferenceServer(["my-server", "{port}"]).output_excerpt()
            'the server has not been started'
        """
        if self._child is None:
            return "the server has not been started"
        return self._child.output.excerpt(last=_EXCERPT_LAST_LINES, width=_EXCERPT_LINE_CHARS)

    # -- life cycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the server and wait until it is ready.

        Raises:
            ConfigurationError: If it is already running or its executable cannot be run.
            ModelDownloadError: If an ``hf:`` model cannot be fetched (its subclasses say why:
                not found, gated, offline without a cached copy, checksum mismatch).
            ServerUnavailableError: If the port is already in use (nothing is started
                then), the server exits before becoming ready, another process answers
                in its place, or it is not ready within ``startup_timeout``; the message
                carries the end of its output.
        """
        if self._child is not None and not self._stopped:
            raise ConfigurationError("this inference server is already running; stop it before starting again")
        if self._model is None and self._ref is not None:
            self._model = await fetch_model(self._ref)
        self._port = self._requested_port if self._requested_port is not None else find_free_port(self.host)
        argv = self._build_argv(self._port)
        if port_in_use(self.host, self._port):
            port, self._port = self._port, self._requested_port
            raise ServerUnavailableError(
                f"port {port} on {self.host} is already in use by another process, so the inference server "
                f"{shell_line(argv)} was not started; stop that process, or choose another port "
                "(None picks a free one)",
                provider=_PROVIDER,
                retryable=False,
            )
        started = time.monotonic()
        self._started_at = time.time()
        log_event(logging.INFO, "inference_server_starting", command=redact_argv(argv), port=self._port)
        try:
            # A new session makes the server a process-group leader, so stop() reaches its children too.
            child = ServerProcess(
                argv,
                self._env,
                owner=self,
                tail_lines=OUTPUT_TAIL_LINES,
                notable_lines=_EXCERPT_NOTABLE_LINES,
                echo=self.echo_output,
            )
        except ConfigurationError:
            self._port = self._requested_port
            raise
        self._child = child
        self._stopped = False
        try:
            await wait_ready(self, argv, api_key=self._api_key, started=started, started_at=self._started_at)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.stop()
            raise
        self._ready = True
        log_event(
            logging.INFO,
            "inference_server_ready",
            pid=child.process.pid,
            port=self._port,
            seconds_to_ready=round(time.monotonic() - started, 3),
        )

    async def stop(self) -> None:
        """Stop the server: SIGTERM to its process group, SIGKILL after ``stop_grace`` seconds.

        Safe to call more than once, and when the server has already exited. Waits for the
        process to be reaped, so no zombie or orphan is left behind.
        """
        child = self._child
        if child is None or self._stopped:
            return
        self._stopped = True
        self._ready = False
        stopping = time.monotonic()
        signal_used = await child.stop(self.stop_grace)
        log_event(
            logging.INFO,
            "inference_server_stopped",
            pid=child.process.pid,
            returncode=child.process.returncode,
            signal=signal_used,
            seconds=round(time.monotonic() - stopping, 3),
        )
