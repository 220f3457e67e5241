"""The Gemini backend: :class:`GeminiClient`, a :class:`~botticelli_interface.GenerativeModel`."""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING, Self

from botticelli_core import (
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    HealthStatus,
    ModelInfo,
    StreamChunk,
    TokenCount,
)
from botticelli_core._arguments import checked_texts, embed_options, prompt_request, request_argument
from botticelli_error import (
    APIStatusError,
    BotticelliError,
    ConfigurationError,
    ResponseDecodeError,
    StreamError,
    TransportError,
    UnsupportedInputError,
    redact_url,
)
from botticelli_gemini.config import PROVIDER, GeminiConfig
from botticelli_gemini.convert import SUPPORTED_FEATURES, to_model_info, to_response, to_wire_request
from botticelli_gemini.embeddings import (
    TASK_TYPES,
    batch_body,
    batches,
    parse_batch_embed_response,
    to_embed_response,
)
from botticelli_gemini.errors import error_from_response
from botticelli_gemini.rate_limit import RateLimiter, Reservation, estimate_tokens
from botticelli_gemini.request import WireCountedRequest, WireCountTokensRequest, dump_request
from botticelli_gemini.response import (
    parse_count_tokens_response,
    parse_generate_response,
    parse_list_models_response,
    parse_model,
)
from botticelli_gemini.streaming import GeminiStreamDecoder
from botticelli_interface import Feature, ManagedStream
from botticelli_interface.request_log import RequestLog
from botticelli_transport import HttpTransport

if TYPE_CHECKING:
    import httpx

__all__ = ["GeminiClient"]

_API = "/v1beta/models"
# Model ids go into the URL path; anything else could rewrite the route.
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HEALTH_TIMEOUT = 15.0
_PAGE_SIZE = "1000"
# The query goes in the path, not in params: merging params makes httpx parse the URL a
# second time, about 200k instructions on every stream (docs/performance.md).
_STREAM = ":streamGenerateContent?alt=sse"


class GeminiClient:
    """Google Gemini over its REST API, behind botticelli's :class:`~botticelli_interface.GenerativeModel`.

    The API key travels only in the ``x-goog-api-key`` header, never in a URL, log,
    repr or error. Use the client as an async context manager, or call :meth:`aclose`.

    Args:
        config: Key, model and limits; read from the environment
            (:meth:`GeminiConfig.from_env`) when omitted.
        http_client: An ``httpx.AsyncClient`` of your own to send through (custom auth,
            event hooks, proxies, mounts, a mock transport in tests) instead of the one
            botticelli makes on its aiohttp connection layer. The key and the
            configuration's timeouts are sent with each request; pool size, TLS and
            proxies are the client's. Closing this model leaves it open: it is yours to close.

    Example:
        >>> from botticelli_interface import GenerativeModel
        >>> client = GeminiClient(GeminiConfig(api_key="AIza-not-a-real-key"))
        >>> isinstance(client, GenerativeModel), client.provider_name, client.model_name
        (True, 'gemini', 'gemini-2.5-flash')
        >>> "AIza" in repr(client)
        False
    """

    def __init__(self, config: GeminiConfig | None = None, *, http_client: httpx.AsyncClient | None = None) -> None:
        self.config = config if config is not None else GeminiConfig.from_env()
        self._transport = HttpTransport(
            self.config.http_settings(), error_mapper=error_from_response, http_client=http_client
        )
        self._limiters: dict[str, RateLimiter] = {}

    def __repr__(self) -> str:
        return f"GeminiClient(model={self.config.model!r}, base_url={redact_url(self.config.base_url)!r})"

    @property
    def provider_name(self) -> str:
        """Always ``"gemini"``."""
        return PROVIDER

    @property
    def model_name(self) -> str:
        """The model used when a request names none."""
        return self.config.model

    @property
    def supported_features(self) -> frozenset[Feature]:
        """``tools``, ``output_schema`` and ``thinking``; Gemini takes no LoRA ``adapter``."""
        return SUPPORTED_FEATURES

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

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate a whole answer with ``:generateContent``.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            UnsupportedInputError: An input Gemini cannot take, or inline media over the size limit.
            ContentBlockedError: Gemini blocked the prompt.
            RateLimitError: A quota is spent (``retryable=False`` when only a reset helps).
            BotticelliError: Any other failure, typed.
        """
        request = request_argument(request, "GeminiClient.generate", provider=PROVIDER)
        model = self._model(request)
        body = dump_request(to_wire_request(request, max_request_bytes=self.config.max_request_bytes))
        with RequestLog(PROVIDER, "generate", model=model, request=request) as entry:
            async with self._reserve(model, request) as reservation:
                result = await self._transport.request("POST", f"{_API}/{model}:generateContent", content=body)
                entry.record(result)
                response = to_response(parse_generate_response(result.content), request_id=result.request_id)
                entry.usage = response.usage
                entry.response_model, entry.finish_reason = response.model, response.finish_reason.value
                if reservation is not None and response.usage is not None:
                    reservation.settle(response.usage.total_tokens)
            return response

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream an answer with ``:streamGenerateContent?alt=sse``.

        The request is converted at once, so unsupported inputs raise here; nothing is
        sent until the first chunk is asked for. The last chunk is final and carries
        the finish reason and the last reported usage.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            UnsupportedInputError: An input Gemini cannot take, or inline media over the size limit.
        """
        request = request_argument(request, "GeminiClient.generate_stream", provider=PROVIDER)
        model = self._model(request)
        body = dump_request(to_wire_request(request, max_request_bytes=self.config.max_request_bytes))
        return ManagedStream(self._stream(model, request, body))

    async def _stream(self, model: str, request: GenerateRequest, body: bytes) -> AsyncGenerator[StreamChunk, None]:
        with RequestLog(PROVIDER, "generate_stream", model=model, request=request) as entry:
            async with (
                self._reserve(model, request) as reservation,
                self._transport.stream(
                    f"{_API}/{model}{_STREAM}",
                    content=body,
                    reader=GeminiStreamDecoder,
                    decode=GeminiStreamDecoder.decode,
                ) as stream,
            ):
                entry.record(stream)
                decoder = stream.reader
                try:
                    async for chunk in stream:
                        # Events with only function calls yield an empty chunk, so the
                        # transport knows output began and stops retrying; skip it here.
                        if chunk.text or chunk.reasoning:
                            yield chunk
                    final = decoder.finish()
                except (StreamError, ResponseDecodeError) as exc:
                    if not exc.partial_text:
                        exc.partial_text = decoder.text
                    raise
                entry.usage = final.usage
                if final.finish_reason is not None:
                    entry.finish_reason = final.finish_reason.value
                if reservation is not None and final.usage is not None:
                    reservation.settle(final.usage.total_tokens)
                yield final

    async def count_tokens(self, request: GenerateRequest | str) -> TokenCount:
        """The prompt's size in tokens, from ``:countTokens`` (free; spends no generation quota).

        A ``str`` is a one-turn prompt. Exact: Gemini counts the whole request, system
        instruction included. The :class:`~botticelli_core.TokenCount` compares and converts
        like the ``int`` this method returned before (``count == 31``, ``int(count)``).

        Raises:
            ConfigurationError: ``request`` is neither a :class:`~botticelli_core.GenerateRequest`
                nor a ``str``; nothing was sent.
            UnsupportedInputError: An input Gemini cannot take.
            BotticelliError: Any other failure, typed.
        """
        request = prompt_request(request, "GeminiClient.count_tokens", provider=PROVIDER)
        model = self._model(request)
        wire = to_wire_request(request, max_request_bytes=self.config.max_request_bytes)
        body = dump_request(
            WireCountTokensRequest(generate_content_request=WireCountedRequest(model=f"models/{model}", **dict(wire)))
        )
        with RequestLog(PROVIDER, "count_tokens", model=model) as entry:
            result = await self._transport.request("POST", f"{_API}/{model}:countTokens", content=body)
            entry.record(result)
            total = parse_count_tokens_response(result.content).total_tokens
            return TokenCount(input_tokens=total, exact=True)

    async def embed(
        self,
        texts: str | Sequence[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        task: str | None = None,
        truncate: bool = False,
    ) -> EmbedResponse:
        """Embed ``texts`` with ``:batchEmbedContents``, in batches of 100, in input order.

        Args:
            texts: The inputs; a single ``str`` is one text (one vector back).
            model: The embedding model; ``config.embedding_model`` when ``None``.
            dimensions: ``outputDimensionality``: shorter vectors, cut from the end.
            task: ``taskType``, one of :data:`~botticelli_gemini.embeddings.TASK_TYPES`.
            truncate: Not available: the Gemini Developer API has no truncation switch
                (``autoTruncate`` exists only on Vertex AI), so ``True`` is refused.

        Batches are sent one after another; each is one call to the rate limiter of
        the embedding model (when ``rate_limits`` names it), estimated at characters / 4.

        Raises:
            ConfigurationError: ``texts`` is not a ``str`` or a sequence of them, another
                argument has the wrong type, or ``task`` is unknown or the model id malformed;
                nothing was sent.
            UnsupportedInputError: ``truncate=True`` (``input_type="truncate"``); nothing was sent.
            EmbeddingShapeError: Gemini returned another number of embeddings than texts.
            BotticelliError: Any other failure, typed.
        """
        method = "GeminiClient.embed"
        inputs = checked_texts(texts, method, provider=PROVIDER)
        embed_options(method, model=model, dimensions=dimensions, task=task, truncate=truncate, provider=PROVIDER)
        if truncate:
            raise UnsupportedInputError(
                "the Gemini API cannot be asked to truncate embedding inputs (autoTruncate is Vertex AI only)",
                input_type="truncate",
                provider=PROVIDER,
            )
        name = self._model_id(model or self.config.embedding_model)
        if task is not None and task not in TASK_TYPES:
            raise ConfigurationError(
                f"{task!r} is not a Gemini taskType (one of {', '.join(sorted(TASK_TYPES))})", provider=PROVIDER
            )
        runs = batches(inputs)
        replies = []
        with RequestLog(PROVIDER, "embed", model=name) as entry:
            for start, run in runs:
                body = batch_body(run, model=name, task=task, dimensions=dimensions)
                async with self._reserve_tokens(name, math.ceil(sum(len(t) for t in run) / 4)):
                    result = await self._transport.request("POST", f"{_API}/{name}:batchEmbedContents", content=body)
                entry.record(result)
                replies.append((start, parse_batch_embed_response(result.content)))
            return to_embed_response(replies, [len(run) for _, run in runs], name)

    async def list_models(self) -> list[ModelInfo]:
        """Every model the key may use, following the list's pages.

        Raises:
            BotticelliError: The list could not be fetched, typed.
        """
        models: list[ModelInfo] = []
        params: dict[str, str] = {"pageSize": _PAGE_SIZE}
        with RequestLog(PROVIDER, "list_models") as entry:
            while True:
                result = await self._transport.request("GET", _API, params=params)
                entry.record(result)
                page = parse_list_models_response(result.content)
                models.extend(to_model_info(m) for m in page.models)
                if not page.next_page_token:
                    return models
                params = {"pageSize": _PAGE_SIZE, "pageToken": page.next_page_token}

    async def health(self) -> HealthStatus:
        """Whether Gemini answers for the configured model: ``GET`` the model, spending no tokens.

        Never raises for an unreachable API, a bad key or an unknown model; the status says so.
        """
        model = self.config.model
        started = time.monotonic()
        try:
            result = await self._transport.request("GET", f"{_API}/{model}", retry=False, total_timeout=_HEALTH_TIMEOUT)
            parse_model(result.content)
        except TransportError as exc:
            return HealthStatus(
                ready=False, status="unreachable", detail=exc.message, latency_s=time.monotonic() - started
            )
        except BotticelliError as exc:
            detail = exc.message if not isinstance(exc, APIStatusError) else f"{type(exc).__name__}: {exc.message}"
            return HealthStatus(ready=False, status="unavailable", detail=detail, latency_s=time.monotonic() - started)
        return HealthStatus(ready=True, status="ok", detail=model, latency_s=time.monotonic() - started)

    def _model(self, request: GenerateRequest) -> str:
        return self._model_id(request.model or self.config.model)

    def _model_id(self, model: str) -> str:
        model = model.removeprefix("models/")
        if not _MODEL_ID.match(model):
            raise ConfigurationError(
                f"{model!r} is not a Gemini model id (letters, digits, '.', '_' and '-' only)",
                provider=PROVIDER,
            )
        return model

    def _reserve(self, model: str, request: GenerateRequest) -> AbstractAsyncContextManager[Reservation | None]:
        return self._reserve_tokens(model, estimate_tokens(request))

    def _reserve_tokens(self, model: str, estimate: int) -> AbstractAsyncContextManager[Reservation | None]:
        limits = self.config.limits_for(model)
        if limits is None:
            return nullcontext()
        limiter = self._limiters.get(model)
        if limiter is None:
            limiter = self._limiters[model] = RateLimiter(limits, model=model)
        return limiter.reserve(estimate)
