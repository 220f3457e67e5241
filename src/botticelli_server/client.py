"""The client of an OpenAI-compatible inference server (mistral.rs, llama.cpp, vLLM, Ollama)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ValidationError

from botticelli_core import GenerateRequest, GenerateResponse, HealthStatus, ModelInfo, StreamChunk
from botticelli_error import (
    BotticelliError,
    ResponseDecodeError,
    StreamError,
    redact_url,
    register_secret,
    register_url_credentials,
)
from botticelli_interface import ManagedStream
from botticelli_server.config import PROVIDER, ServerConfig
from botticelli_server.convert import (
    from_chat_response,
    to_chat_request,
    usage_from_wire,
)
from botticelli_server.errors import error_from_response
from botticelli_server.request import ChatCompletionRequest, StreamOptions
from botticelli_server.response import ChatCompletionChunk, ChatCompletionResponse, ModelList
from botticelli_server.streaming import StreamState
from botticelli_transport import HttpTransport, StreamInfo, log_request

__all__ = ["ServerClient"]

M = TypeVar("M", bound=BaseModel)

_CHAT_PATH = "/v1/chat/completions"
_MODELS_PATH = "/v1/models"
_HEALTH_PATH = "/health"
_HEALTH_TIMEOUT = 5.0


class ServerClient:
    """A :class:`~botticelli_interface.GenerativeModel` for an OpenAI-compatible server.

    One pooled connection per client: create it once, share it, and close it with
    ``async with`` or :meth:`aclose`.

    Args:
        config: Where the server is and how to talk to it.

    Examples:
        >>> client = ServerClient(ServerConfig(base_url="http://127.0.0.1:8080", model="tiny"))
        >>> client.provider_name, client.model_name
        ('local', 'tiny')
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        settings = config.http_settings()
        # Registered before anything is sent, so no error built from a reply can show them.
        for secret in settings.secrets():
            register_secret(secret, setting="api_key", owner=self)
        register_url_credentials(config.base_url, setting="base_url", owner=self)
        self._transport = HttpTransport(settings, error_mapper=error_from_response)

    def __repr__(self) -> str:
        return f"ServerClient(base_url={redact_url(self.config.base_url)!r}, model={self.config.model!r})"

    @property
    def provider_name(self) -> str:
        """Always ``"local"``."""
        return PROVIDER

    @property
    def model_name(self) -> str:
        """The model used when a request names none."""
        return self.config.model

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool. Safe to call twice."""
        await self._transport.aclose()

    # -- provider-neutral --------------------------------------------------------------

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate a complete answer.

        Raises:
            BotticelliError: A typed error: bad request, server unavailable, timeout...
        """
        wire = to_chat_request(request, default_model=self.config.model)
        return from_chat_response(await self.chat_completion(wire))

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream an answer; the last chunk has ``is_final``, the finish reason and usage.

        Nothing is sent until iteration starts. Use it as ``async with client.generate_stream(r) as s:``
        so that leaving the block early releases the connection at once.

        Raises:
            BotticelliError: While iterating: typed errors, e.g. :class:`~botticelli_error.StreamInterruptedError`
                (with the text received so far in ``partial_text``).
        """
        wire = to_chat_request(
            request, default_model=self.config.model, stream=True, include_usage=self.config.include_usage
        )
        return ManagedStream(self._generate_stream(wire))

    # -- wire level -------------------------------------------------------------------

    async def chat_completion(self, request: ChatCompletionRequest) -> ChatCompletionResponse:
        """``POST /v1/chat/completions``, not streamed.

        Raises:
            BotticelliError: A typed error for any failure.
        """
        if request.stream:
            request = request.model_copy(update={"stream": None, "stream_options": None})
        started = time.monotonic()
        retries, status, usage, error = 0, None, None, None
        try:
            result = await self._transport.request("POST", _CHAT_PATH, content=request.to_json())
            retries, status = result.retries, result.status_code
            response = _parse(ChatCompletionResponse, result.content)
            usage = response.usage
            return response
        except BotticelliError as exc:
            error, status = exc, exc.status_code
            raise
        finally:
            log_request(
                provider=PROVIDER,
                model=request.model,
                operation="chat",
                status_code=status,
                latency_s=time.monotonic() - started,
                retries=retries,
                usage=usage_from_wire(usage) if usage is not None else None,
                error=error,
                content={"messages": [m.model_dump(exclude_none=True) for m in request.messages]}
                if self.config.log_content
                else None,
            )

    def chat_completion_stream(self, request: ChatCompletionRequest) -> ManagedStream[ChatCompletionChunk]:
        """``POST /v1/chat/completions`` streamed: the server's chunks as they arrive.

        ``[DONE]`` and non-chunk events are consumed here; a stream cut short raises
        :class:`~botticelli_error.StreamInterruptedError` instead of just ending.
        """
        update: dict[str, Any] = {"stream": True}
        if self.config.include_usage and request.stream_options is None:
            update["stream_options"] = StreamOptions()
        request = request.model_copy(update=update)
        return ManagedStream(self._chunk_stream(request))

    async def list_models(self) -> list[ModelInfo]:
        """``GET /v1/models``: the models the server offers."""
        result = await self._transport.request("GET", _MODELS_PATH)
        listing = _parse(ModelList, result.content)
        return [_model_info(entry.model_dump()) for entry in listing.data]

    async def health(self) -> HealthStatus:
        """Whether the server can take requests, without generating anything.

        ``GET /health``; servers without that route (``llama_cpp.server``, Ollama) are
        asked ``GET /v1/models`` instead. A server still loading its model (llama.cpp's
        503 "Loading model") is ``ready=False, status="loading"``; one that cannot be
        reached is ``status="unreachable"``. Never raises for a down server.
        """
        started = time.monotonic()
        try:
            await self._transport.request("GET", _HEALTH_PATH, retry=False, total_timeout=_HEALTH_TIMEOUT)
        except BotticelliError as exc:
            if exc.status_code in (404, 405):
                return await self._health_from_models(started)
            return _unhealthy(exc, started)
        return HealthStatus(ready=True, status="ok", latency_s=time.monotonic() - started)

    async def _health_from_models(self, started: float) -> HealthStatus:
        try:
            await self._transport.request("GET", _MODELS_PATH, retry=False, total_timeout=_HEALTH_TIMEOUT)
        except BotticelliError as exc:
            return _unhealthy(exc, started)
        return HealthStatus(ready=True, status="ok", latency_s=time.monotonic() - started)

    # -- streams ----------------------------------------------------------------------

    async def _chunk_stream(self, request: ChatCompletionRequest) -> AsyncGenerator[ChatCompletionChunk, None]:
        state, info = StreamState(), StreamInfo()
        items = self._transport.stream(_CHAT_PATH, content=request.to_json(), decode=state.decode, info=info)
        error: BaseException | None = None
        try:
            async for chunk in items:
                yield chunk
            state.check_finished(info.unframed)
        except BaseException as exc:
            error = exc
            raise
        finally:
            await items.aclose()
            self._log_stream(request, state, info, error)

    async def _generate_stream(self, request: ChatCompletionRequest) -> AsyncGenerator[StreamChunk, None]:
        state, info = StreamState(), StreamInfo()
        items = self._transport.stream(_CHAT_PATH, content=request.to_json(), decode=state.decode_text, info=info)
        error: BaseException | None = None
        try:
            async for chunk in items:
                yield chunk
            state.check_finished(info.unframed)
            yield state.final_chunk()
        except StreamError as exc:
            exc.partial_text = "".join(state.texts)
            error = exc
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            await items.aclose()
            self._log_stream(request, state, info, error, with_output=True)

    def _log_stream(
        self,
        request: ChatCompletionRequest,
        state: StreamState,
        info: StreamInfo,
        error: BaseException | None,
        *,
        with_output: bool = False,
    ) -> None:
        # A consumer leaving early is not a failure of the request.
        failed = error if isinstance(error, Exception) else None
        content: dict[str, Any] | None = None
        if self.config.log_content:
            content = {"messages": [m.model_dump(exclude_none=True) for m in request.messages]}
            if with_output:
                content["output"] = "".join(state.texts)
        log_request(
            provider=PROVIDER,
            model=state.model or request.model,
            operation="chat_stream",
            status_code=info.status_code,
            latency_s=time.monotonic() - info.started,
            retries=info.retries,
            usage=state.final_usage,
            error=failed,
            request_id=info.request_id,
            content=content,
        )


def _parse(model: type[M], content: bytes) -> M:
    try:
        return model.model_validate_json(content)
    except ValidationError as exc:
        raise ResponseDecodeError(
            f"the server's reply is not a valid {model.__name__}: {exc.error_count()} problem(s), "
            f"first: {exc.errors(include_url=False)[0]['msg']}",
            provider=PROVIDER,
            body=content.decode("utf-8", "replace"),
        ) from None


def _model_info(entry: dict[str, Any]) -> ModelInfo:
    meta = entry.get("meta")
    context = entry.get("max_model_len") or (meta.get("n_ctx_train") if isinstance(meta, dict) else None)
    status = entry.get("status")
    return ModelInfo(
        id=entry["id"],
        owned_by=entry.get("owned_by"),
        status=status if isinstance(status, str) else None,
        context_length=context if isinstance(context, int) else None,
        details={k: v for k, v in entry.items() if k not in ("id", "owned_by", "object")},
    )


def _unhealthy(error: BotticelliError, started: float) -> HealthStatus:
    latency = time.monotonic() - started
    if error.status_code == 503:
        return HealthStatus(ready=False, status="loading", detail=error.server_message, latency_s=latency)
    if error.status_code is None:
        return HealthStatus(ready=False, status="unreachable", detail=error.message, latency_s=latency)
    return HealthStatus(ready=False, status="unavailable", detail=error.message, latency_s=latency)
