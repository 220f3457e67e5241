"""The client of an OpenAI-compatible inference server (mistral.rs, llama.cpp, vLLM, Ollama)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from functools import cache, cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pydantic import BaseModel

from botticelli_core._base import parse_wire
from botticelli_error import ConfigurationError, ResponseDecodeError, StreamError, redact_url
from botticelli_interface.request_log import Operation
from botticelli_interface.stream import ManagedStream
from botticelli_server._outgoing import body as request_body
from botticelli_server._outgoing import chat_request, lean_path, log_entry, wire_log_entry, wire_path
from botticelli_server.config import PROVIDER, ServerConfig

# Building a client loads only its settings and its transport: the conversions, the wire and
# response models, the stream reader, embeddings and token counting are imported by the first
# call that uses them. A function-level import is not free even once its module is loaded
# (about 5,000 instructions: CPython checks the module's spec), so the per-request paths of
# generate and chat_completion keep theirs in cached functions (botticelli_server._outgoing).
if TYPE_CHECKING:
    import httpx

    from botticelli_core import (
        EmbedResponse,
        GenerateRequest,
        GenerateResponse,
        HealthStatus,
        ModelInfo,
        StreamChunk,
        TokenCount,
        Usage,
    )
    from botticelli_interface import Feature
    from botticelli_server.dialect import Dialect
    from botticelli_server.embeddings import Pooling
    from botticelli_server.request import ChatCompletionRequest
    from botticelli_server.response import ChatCompletionChunk, ChatCompletionResponse
    from botticelli_server.streaming import StreamState
    from botticelli_server.tokens import TokenizerProbe
    from botticelli_transport import HttpTransport, ServerSentEvent

__all__ = ["ServerClient"]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_CHAT_PATH = "/v1/chat/completions"


@cache
def _request_class() -> type[GenerateRequest]:
    # Found once and kept: a function-level import costs about 5,000 instructions per call even
    # when its module is loaded (see above), and a caller holding a request has loaded it anyway.
    from botticelli_core.request import GenerateRequest  # noqa: PLC0415

    return GenerateRequest


@cache
def _wire_request_class() -> type[ChatCompletionRequest]:
    from botticelli_server.request import ChatCompletionRequest  # noqa: PLC0415

    return ChatCompletionRequest


def _checked_wire(request: object, method: str) -> ChatCompletionRequest:
    """``request`` if it is a ``ChatCompletionRequest``, else a typed error naming what came instead."""
    if isinstance(request, _wire_request_class()):
        return request
    raise ConfigurationError(
        f"ServerClient.{method} takes a ChatCompletionRequest, not {type(request).__name__}; "
        "build one with botticelli_server.to_chat_request(GenerateRequest...), or call generate",
        provider=PROVIDER,
    )


def _checked(request: object, method: str) -> GenerateRequest:
    """``request`` if it is a ``GenerateRequest``, else the typed error naming what came instead."""
    if isinstance(request, _request_class()):
        return request
    from botticelli_core._arguments import request_argument  # noqa: PLC0415

    return request_argument(request, f"ServerClient.{method}", provider=PROVIDER)


class ServerClient:
    """A :class:`~botticelli_interface.GenerativeModel` for an OpenAI-compatible server.

    One pooled connection per client: create it once, share it, and close it with
    ``async with`` or :meth:`aclose`.

    Args:
        config: Where the server is and how to talk to it.
        http_client: An ``httpx.AsyncClient`` of your own to send through (custom auth,
            event hooks, proxies, mounts, a mock transport in tests) instead of the one
            botticelli makes on its aiohttp connection layer. The configuration's headers
            and timeouts are sent with each request; pool size, TLS and proxies are the
            client's. Closing this model leaves it open: it is yours to close.

    Examples:
        >>> client = ServerClient(ServerConfig(base_url="http://127.0.0.1:8080", model="tiny"))
        >>> client.provider_name, client.model_name
        ('local', 'tiny')
    """

    def __init__(self, config: ServerConfig, *, http_client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._http_client = http_client
        self._settings = config.http_settings()
        self._settings.register_secrets(self)
        # None until first needed, and for "auto" until the server has been asked (see dialect()).
        self._dialect: Dialect | None = None

    @cached_property
    def _transport(self) -> HttpTransport:
        # Built on first use: making a client is then only validating its settings, and a
        # program's start-up does not load the HTTP machinery (docs/performance.md).
        from botticelli_server.errors import error_from_response  # noqa: PLC0415
        from botticelli_transport import HttpTransport  # noqa: PLC0415

        return HttpTransport(self._settings, error_mapper=error_from_response, http_client=self._http_client)

    @cached_property
    def _tokenizer(self) -> TokenizerProbe:
        # Which tokenize route the server has, learned by the first count and kept for the next.
        from botticelli_server.tokens import TokenizerProbe  # noqa: PLC0415

        return TokenizerProbe()

    def _known_dialect(self) -> Dialect | None:
        """The configured dialect's profile; ``None`` while ``"auto"`` has not asked the server."""
        if self._dialect is None and self.config.dialect != "auto":
            from botticelli_server.dialect import get_dialect  # noqa: PLC0415

            self._dialect = get_dialect(self.config.dialect)
        return self._dialect

    def _server_name(self) -> str | None:
        """The configured (or detected) dialect's name, for advice in errors; ``None`` while unknown."""
        dialect = self._known_dialect()
        return dialect.name if dialect is not None else None

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

    @property
    def supported_features(self) -> frozenset[Feature]:
        """The optional request features this client honours (routers read it).

        Those of the configured dialect; under ``"auto"``, before the server has been asked,
        those of the plain protocol.
        """
        from botticelli_server.adapters import adapter_features  # noqa: PLC0415
        from botticelli_server.convert import SUPPORTED_FEATURES  # noqa: PLC0415

        dialect = self._known_dialect()
        features = dialect.features if dialect is not None else SUPPORTED_FEATURES
        return features | adapter_features(dialect.name if dialect is not None else self.config.dialect)

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

    async def dialect(self) -> Dialect:
        """The server's dialect: the configured one, or for ``"auto"`` the one it says it speaks.

        ``"auto"`` asks once (see :mod:`botticelli_server.detect`) and keeps the answer; a
        server that cannot be reached is taken as ``"openai"`` for now and asked again next time.
        """
        known = self._known_dialect()
        if known is not None:
            return known
        from botticelli_server.detect import probe_dialect  # noqa: PLC0415
        from botticelli_server.dialect import get_dialect  # noqa: PLC0415

        name = await probe_dialect(self._transport, self.config.base_url)
        if name is None:
            return get_dialect("openai")
        self._dialect = get_dialect(name)
        return self._dialect

    # -- provider-neutral --------------------------------------------------------------

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate a complete answer.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            UnsupportedInputError: The request uses a feature the server's dialect lacks.
            BotticelliError: A typed error: bad request, server unavailable, timeout...
        """
        request = _checked(request, "generate")
        chat_body, read_completion = lean_path()
        # The known dialect without a coroutine: only "auto" before its first answer awaits one.
        dialect = self._known_dialect() or await self.dialect()
        config = self.config
        body, fields = request_body(config, request, dialect, chat_body)
        with log_entry(config, "generate", fields["model"], fields, fields["messages"]) as entry:
            result = await self._transport.request("POST", _CHAT_PATH, content=body)
            entry.record(result)
            return read_completion(result.content, entry)

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream an answer; the last chunk has ``is_final``, the finish reason and usage.

        Nothing is sent until iteration starts. Use it as ``async with client.generate_stream(r) as s:``
        so that leaving the block early releases the connection at once.

        Tool calls arrive as ``tool_call_deltas`` while they stream, and assembled on the
        final chunk's ``tool_calls``.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest` (at once).
            UnsupportedInputError: The request uses a feature the server's dialect lacks (at
                once; while iterating when ``dialect="auto"`` has not been resolved yet).
            BotticelliError: While iterating: typed errors, e.g. :class:`~botticelli_error.StreamInterruptedError`
                (with the text received so far in ``partial_text``).
        """
        request = _checked(request, "generate_stream")
        dialect = self._known_dialect()
        if dialect is None:
            return ManagedStream(self._stream_once_resolved(request))
        return ManagedStream(self._text_stream(request, dialect))

    def _text_stream(self, request: GenerateRequest, dialect: Dialect) -> AsyncGenerator[StreamChunk, None]:
        from botticelli_server.streaming import StreamState  # noqa: PLC0415

        wire = self._chat_request(request, stream=True, dialect=dialect)
        return self._stream(wire, "generate_stream", StreamState.text_chunk, StreamState.final_chunk)

    async def _stream_once_resolved(self, request: GenerateRequest) -> AsyncGenerator[StreamChunk, None]:
        async with aclosing(self._text_stream(request, await self.dialect())) as chunks:
            async for chunk in chunks:
                yield chunk

    async def embed(
        self,
        texts: str | Sequence[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        task: str | None = None,
        pooling: Pooling | None = None,
        truncate: bool = False,
    ) -> EmbedResponse:
        """``POST /v1/embeddings``: one vector per text, in input order (``task`` is ignored).

        A single ``str`` is one text: ``embed("a cat")`` returns one vector.

        Lists longer than ``config.embed_batch_size`` are sent in batches, at most
        ``config.embed_concurrency`` at a time. ``pooling`` (default ``config.embed_pooling``)
        says what to do with a token-level reply (see :mod:`botticelli_server.embeddings`).
        ``truncate=True`` asks the server to cut inputs over the model's context instead of
        refusing them (vLLM's ``truncate_prompt_tokens=-1``); a server that refuses one anyway
        cannot truncate, and that is a :class:`~botticelli_error.TruncationUnsupportedError`.

        Raises:
            ConfigurationError: ``texts`` is not a ``str`` or a sequence of them, or another
                argument has the wrong type; nothing was sent.
            EmbeddingShapeError: The server did not return one vector per input.
            InputTooLongError: An input is over the model's context; ``index`` names it.
            TruncationUnsupportedError: ``truncate=True``, and the server refused an input as too long.
            BotticelliError: Any other typed error.

        Examples:
            >>> import asyncio, respx
            >>> reply = {"data": [{"index": 0, "embedding": [0.6, 0.8]}], "model": "nomic-embed"}
            >>> async def one_text():
            ...     async with ServerClient(ServerConfig(base_url="http://127.0.0.1:8080", model="nomic-embed")) as c:
            ...         return await c.embed("a cat")
            >>> with respx.mock(using="httpx") as mock:
            ...     route = mock.post("http://127.0.0.1:8080/v1/embeddings").respond(200, json=reply)
            ...     asyncio.run(one_text()).vectors, route.calls.last.request.content
            ([[0.6, 0.8]], b'{"model":"nomic-embed","input":["a cat"],"encoding_format":"float"}')
        """
        from botticelli_server._embed import embed  # noqa: PLC0415

        return await embed(
            self._transport,
            self.config,
            texts,
            model=model,
            dimensions=dimensions,
            task=task,
            pooling=pooling,
            truncate=truncate,
            server=self._server_name(),
        )

    async def count_tokens(self, request: GenerateRequest | str) -> TokenCount:
        """The prompt tokens of ``request`` (a ``str`` is a one-turn prompt), through the server's tokenize endpoint.

        ``exact`` is true only where the server applied its chat template (llama.cpp's
        ``/apply-template``, vLLM's ``/tokenize`` of messages); see
        :mod:`botticelli_server.tokens` for the routes and the order they are tried in.

        Raises:
            ConfigurationError: ``request`` is neither a :class:`~botticelli_core.GenerateRequest`
                nor a ``str``; nothing was sent.
            NotFoundError: The server has no tokenize endpoint.
            BotticelliError: Any other typed error.
        """
        from botticelli_core import Usage  # noqa: PLC0415
        from botticelli_core._arguments import prompt_request  # noqa: PLC0415

        request = prompt_request(request, "ServerClient.count_tokens", provider=PROVIDER)
        wire = self._chat_request(request, dialect=await self.dialect())
        with wire_log_entry(self.config, "count_tokens", wire) as entry:

            async def post(path: str, body: dict[str, Any]) -> bytes:
                content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
                result = await self._transport.request("POST", path, content=content)
                entry.record(result)
                return result.content

            count = await self._tokenizer.count(wire, post)
            entry.usage = Usage(input_tokens=count.input_tokens, output_tokens=0)
            return count

    # -- wire level -------------------------------------------------------------------

    async def chat_completion(self, request: ChatCompletionRequest) -> ChatCompletionResponse:
        """``POST /v1/chat/completions``, not streamed (stream flags on ``request`` are dropped).

        Raises:
            BotticelliError: A typed error for any failure.
        """
        request = _checked_wire(request, "chat_completion")
        if request.stream or request.stream_options is not None:
            request = request.model_copy(update={"stream": None, "stream_options": None})
        return await self._complete(request, "chat_completion")

    def chat_completion_stream(self, request: ChatCompletionRequest) -> ManagedStream[ChatCompletionChunk]:
        """``POST /v1/chat/completions`` streamed: the server's chunks as they arrive.

        ``[DONE]`` and non-chunk events are consumed here; a stream cut short raises
        :class:`~botticelli_error.StreamInterruptedError` instead of just ending.
        """
        from botticelli_server.convert import streamed  # noqa: PLC0415
        from botticelli_server.streaming import StreamState  # noqa: PLC0415

        wire = streamed(_checked_wire(request, "chat_completion_stream"), include_usage=self.config.include_usage)
        return ManagedStream(self._stream(wire, "chat_completion_stream", StreamState.wire_chunk))

    async def list_models(self) -> list[ModelInfo]:
        """``GET /v1/models``: the models the server offers."""
        from botticelli_server._probes import list_models  # noqa: PLC0415

        return await list_models(self._transport)

    async def health(self) -> HealthStatus:
        """Whether the server can take requests, without generating anything.

        ``GET /health``; servers without that route (``llama_cpp.server``, Ollama) are
        asked ``GET /v1/models`` instead. A server still loading its model (llama.cpp's
        503 "Loading model") is ``ready=False, status="loading"``; one that cannot be
        reached is ``status="unreachable"``. Never raises for a down server.
        """
        from botticelli_server._probes import health  # noqa: PLC0415

        return await health(self._transport)

    # -- the shell every call goes through -------------------------------------------

    def _chat_request(
        self, request: GenerateRequest, *, dialect: Dialect, stream: bool = False
    ) -> ChatCompletionRequest:
        return chat_request(self.config, request, dialect=dialect, stream=stream)

    async def _complete(self, request: ChatCompletionRequest, operation: Operation) -> ChatCompletionResponse:
        response_model, record_completion = wire_path()
        with wire_log_entry(self.config, operation, request) as entry:
            result = await self._transport.request("POST", _CHAT_PATH, content=request.to_json())
            entry.record(result)
            response = parse_wire(response_model, result.content, provider=PROVIDER, what="chat completion")
            record_completion(entry, response)
            return response

    async def _stream(
        self,
        request: ChatCompletionRequest,
        operation: Operation,
        decode: Callable[[StreamState, ServerSentEvent], T | None],
        final: Callable[[StreamState], T] | None = None,
    ) -> AsyncGenerator[T, None]:
        """Both streams: the items ``decode`` makes of the events, then ``final(state)`` once the stream ended well."""
        from botticelli_server.streaming import StreamState  # noqa: PLC0415

        with wire_log_entry(self.config, operation, request) as entry:
            body = request.to_json()
            # Only its bytes are sent (and resent on a retry): an open stream need not hold the model.
            del request
            async with self._transport.stream(
                _CHAT_PATH, content=body, reader=StreamState, decode=decode, unanswered=StreamState.check_answered
            ) as stream:
                entry.record(stream)
                state = stream.reader
                try:
                    async for item in stream:
                        yield item
                    state.check_finished(stream.unframed)
                    if final is not None:
                        yield final(state)
                except (StreamError, ResponseDecodeError) as exc:
                    exc.partial_text = state.text
                    raise
                finally:
                    entry.model = state.model or entry.model
                    entry.response_model, entry.finish_reason = state.model, state.finish_reason
                    entry.usage = _usage_or_none(state)
                    if entry.content is not None and state.texts:
                        entry.content["output"] = state.text


def _usage_or_none(state: StreamState) -> Usage | None:
    try:
        return state.final_usage
    except ResponseDecodeError:
        return None
