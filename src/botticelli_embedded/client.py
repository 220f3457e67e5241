"""The embedded backend: mistral.rs running in this process, behind :class:`GenerativeModel`."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
from anyio import to_thread

from botticelli_core import GenerateRequest, GenerateResponse, HealthStatus, ModelInfo, StreamChunk
from botticelli_core._arguments import request_argument
from botticelli_embedded._engine import Engine, EngineStream
from botticelli_embedded.config import PROVIDER, EmbeddedConfig
from botticelli_embedded.convert import SUPPORTED_FEATURES, response_from_chunks, stream_chunk, to_engine_request
from botticelli_embedded.errors import request_error
from botticelli_error import (
    BotticelliError,
    ConfigurationError,
    NotFoundError,
    RequestTimeoutError,
    ResponseDecodeError,
    StreamInterruptedError,
)
from botticelli_interface import Feature, ManagedStream, current_call_options
from botticelli_interface.request_log import Operation, RequestLog

__all__ = ["EmbeddedModel"]

T = TypeVar("T")


class EmbeddedModel:
    """A GGUF model run in-process by mistral.rs, with no server to start.

    The model is loaded on first use (or by :meth:`health`), once, in a worker thread;
    generation runs in worker threads too, so the event loop never blocks. Requests may
    run concurrently: the engine batches them.

    Closing a stream early or cancelling the task stops the generation within one token
    (the engine aborts a sequence whose reader went away). A task cancelled while the
    model is loading returns at once; the load finishes in the background and the next
    request uses it. Streams still open when the model is closed end with
    :class:`~botticelli_error.StreamInterruptedError`.

    mistral.rs logs through Rust's ``tracing``, to standard output, reading ``RUST_LOG`` once
    when it is imported; botticelli imports it with ``RUST_LOG=warn`` unless you set the
    variable yourself (``botticelli -v`` sets ``info``), so a generate prints nothing.

    A per-call timeout (:func:`~botticelli_interface.options.call_options`) bounds a
    generation (a stream: from its first chunk asked for to its last), loading included;
    when it passes, the generation is stopped like a cancelled one and
    :class:`~botticelli_error.RequestTimeoutError` is raised. There are no retries to override.

    Args:
        config: Which model to load.

    Examples:
        >>> import tempfile, pathlib
        >>> from botticelli_interface import GenerativeModel
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp) / "tiny.gguf"
        ...     _ = path.write_bytes(b"GGUF")
        ...     model = EmbeddedModel(EmbeddedConfig(model_path=path))
        >>> isinstance(model, GenerativeModel), model.provider_name, model.model_name
        (True, 'embedded', 'tiny')
    """

    def __init__(self, config: EmbeddedConfig) -> None:
        self._config = config
        self._engine = Engine(config)

    @property
    def provider_name(self) -> str:
        """Always ``"embedded"``."""
        return PROVIDER

    @property
    def model_name(self) -> str:
        """The configured model name (by default the GGUF file's stem)."""
        return self._config.model

    @property
    def supported_features(self) -> frozenset[Feature]:
        """``output_schema`` and ``thinking``; tools and adapters are refused (see docs/tools-backends.md)."""
        return SUPPORTED_FEATURES

    @property
    def config(self) -> EmbeddedConfig:
        """The settings this model was made with."""
        return self._config

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate a complete answer.

        Raises:
            UnsupportedInputError: The request holds media inputs.
            NotFoundError: The request names another model than this one.
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`,
                the model could not be loaded, or this model is closed.
            BadRequestError: The engine refused the request (a prompt longer than the context).
            ServerUnavailableError: The engine failed.
        """
        kwargs = self._engine_request(request, "generate")
        async with aclosing(self._chunks(kwargs, operation="generate")) as chunks:
            received = [chunk async for chunk in chunks]
        return response_from_chunks(received, model=self.model_name)

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream an answer; the last chunk has ``is_final``, the finish reason and the usage.

        The request is checked at once; it is sent when the first chunk is asked for.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            UnsupportedInputError: The request holds media inputs.
            NotFoundError: The request names another model than this one.
        """
        kwargs = self._engine_request(request, "generate_stream")
        return ManagedStream(self._chunks(kwargs, operation="generate_stream"))

    async def health(self) -> HealthStatus:
        """Ready once the model is loaded; loads it if needed. Never raises for a load failure."""
        started = time.perf_counter()
        if self._engine.closed:
            return HealthStatus(ready=False, status="unavailable", detail="the embedded model is closed")
        try:
            await to_thread.run_sync(self._engine.load, abandon_on_cancel=True)
        except BotticelliError as exc:
            return HealthStatus(
                ready=False, status="unavailable", detail=exc.message, latency_s=time.perf_counter() - started
            )
        return HealthStatus(ready=True, status="ok", latency_s=time.perf_counter() - started)

    async def list_models(self) -> list[ModelInfo]:
        """The one model this engine runs, ``"loaded"`` or ``"unloaded"``; never loads it.

        ``context_length`` is known once the model is loaded.
        """
        context_length = await to_thread.run_sync(self._engine.context_length)
        return [
            ModelInfo(
                id=self.model_name,
                status="loaded" if self._engine.loaded else "unloaded",
                context_length=context_length,
                details={"file": self._config.model_file, "source": self._config.source},
            )
        ]

    async def aclose(self) -> None:
        """Unload the model and stop the engine's threads. Safe to call twice."""
        await to_thread.run_sync(self._engine.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _engine_request(self, request: GenerateRequest, method: str) -> dict[str, Any]:
        request = request_argument(request, f"EmbeddedModel.{method}", provider=PROVIDER)
        if request.model is not None and request.model != self.model_name:
            raise NotFoundError(
                f"model {request.model!r} is not loaded; this embedded engine runs {self.model_name!r}",
                provider=PROVIDER,
            )
        return to_engine_request(request)

    async def _chunks(self, kwargs: dict[str, Any], *, operation: Operation) -> AsyncGenerator[StreamChunk, None]:
        delivered: list[str] = []  # one entry per chunk handed out, even an empty final one
        engine_stream: EngineStream | None = None
        limit = current_call_options().total_timeout(None)
        deadline = None if limit is None else anyio.current_time() + limit
        with RequestLog(PROVIDER, operation, model=self.model_name, request=kwargs) as entry:
            try:
                # Loading may be abandoned on cancellation: it completes in its thread and is kept.
                await _in_thread(self._engine.load, deadline, limit, abandon=True)
                engine_stream = await _in_thread(lambda: self._engine.open_stream(kwargs), deadline, limit)
                while True:
                    # Not abandoned on cancellation: the thread returns within a token, and the
                    # iterator must not be dropped while another thread is inside it.
                    try:
                        engine_chunk = await _in_thread(engine_stream.next, deadline, limit)
                    except RequestTimeoutError:
                        raise
                    except Exception as exc:
                        partial = "".join(delivered) if delivered else None
                        raise request_error(exc, partial_text=partial) from exc
                    if engine_chunk is None:
                        raise StreamInterruptedError(
                            "the embedded engine ended the stream without a finish reason",
                            partial_text="".join(delivered),
                            provider=PROVIDER,
                        )
                    try:
                        chunk = stream_chunk(engine_chunk)
                    except ConfigurationError as exc:
                        # The engine's own output failed botticelli's checks: a decode error, not the caller's.
                        raise ResponseDecodeError(
                            f"the embedded engine sent a chunk botticelli cannot read: {exc.message}",
                            partial_text="".join(delivered),
                            provider=PROVIDER,
                        ) from exc
                    if chunk is None:
                        continue
                    if not delivered:
                        entry.first_chunk_at = time.monotonic()
                    delivered.append(chunk.text)
                    if chunk.is_final:
                        entry.usage = chunk.usage
                        entry.response_model = self.model_name
                        if chunk.finish_reason is not None:
                            entry.finish_reason = chunk.finish_reason.value
                        yield chunk
                        return
                    yield chunk
            finally:
                if engine_stream is not None:
                    # What aborts a generation nobody reads any more.
                    engine_stream.close()


async def _in_thread(fn: Callable[[], T], deadline: float | None, limit: float | None, *, abandon: bool = False) -> T:
    """``fn()`` in a worker thread, by the call's deadline (on anyio's clock) if it has one.

    Raises:
        RequestTimeoutError: The deadline passed first; the thread was cancelled like a task.
    """
    if deadline is None:
        return await to_thread.run_sync(fn, abandon_on_cancel=abandon)
    with anyio.move_on_after(max(deadline - anyio.current_time(), 0.0)):
        return await to_thread.run_sync(fn, abandon_on_cancel=abandon)
    raise RequestTimeoutError(
        f"the call's total deadline of {limit:g} s passed", provider=PROVIDER, retryable=False, timeout=limit
    )
