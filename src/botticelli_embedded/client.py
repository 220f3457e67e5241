"""The embedded backend: mistral.rs running in this process, behind :class:`GenerativeModel`."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from types import TracebackType
from typing import Any, Self

from anyio import to_thread

from botticelli_core import GenerateRequest, GenerateResponse, HealthStatus, ModelInfo, StreamChunk
from botticelli_embedded._engine import Engine, EngineStream
from botticelli_embedded.config import PROVIDER, EmbeddedConfig
from botticelli_embedded.convert import response_from_chunks, stream_chunk, to_engine_request
from botticelli_embedded.errors import request_error
from botticelli_error import (
    BotticelliError,
    ConfigurationError,
    NotFoundError,
    ResponseDecodeError,
    StreamInterruptedError,
)
from botticelli_interface import ManagedStream
from botticelli_interface.request_log import Operation, RequestLog

__all__ = ["EmbeddedModel"]


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
    def config(self) -> EmbeddedConfig:
        """The settings this model was made with."""
        return self._config

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate a complete answer.

        Raises:
            UnsupportedInputError: The request holds media inputs.
            NotFoundError: The request names another model than this one.
            ConfigurationError: The model could not be loaded, or this model is closed.
            BadRequestError: The engine refused the request (a prompt longer than the context).
            ServerUnavailableError: The engine failed.
        """
        kwargs = self._engine_request(request)
        async with aclosing(self._chunks(kwargs, operation="generate")) as chunks:
            received = [chunk async for chunk in chunks]
        return response_from_chunks(received, model=self.model_name)

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream an answer; the last chunk has ``is_final``, the finish reason and the usage.

        The request is checked at once; it is sent when the first chunk is asked for.

        Raises:
            UnsupportedInputError: The request holds media inputs.
            NotFoundError: The request names another model than this one.
        """
        kwargs = self._engine_request(request)
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

    def _engine_request(self, request: GenerateRequest) -> dict[str, Any]:
        if request.model is not None and request.model != self.model_name:
            raise NotFoundError(
                f"model {request.model!r} is not loaded; this embedded engine runs {self.model_name!r}",
                provider=PROVIDER,
            )
        return to_engine_request(request)

    async def _chunks(self, kwargs: dict[str, Any], *, operation: Operation) -> AsyncGenerator[StreamChunk, None]:
        delivered: list[str] = []  # one entry per chunk handed out, even an empty final one
        engine_stream: EngineStream | None = None
        with RequestLog(PROVIDER, operation, model=self.model_name, request=kwargs) as entry:
            try:
                # Loading may be abandoned on cancellation: it completes in its thread and is kept.
                await to_thread.run_sync(self._engine.load, abandon_on_cancel=True)
                engine_stream = await to_thread.run_sync(self._engine.open_stream, kwargs)
                while True:
                    # Not abandoned on cancellation: the thread returns within a token, and the
                    # iterator must not be dropped while another thread is inside it.
                    try:
                        engine_chunk = await to_thread.run_sync(engine_stream.next)
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
