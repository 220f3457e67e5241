"""``FallbackModel``: any number of models tried in order, each behind its own circuit breaker.

Which errors move on to the next model (:func:`default_fallback_on`): an error that says
"this model cannot serve right now" (any retryable error: a transport failure or timeout, a
rate limit, an unavailable server, a broken or stalled stream), a rate limit even when it is
not retryable (a spent daily quota is exactly when another model should answer), an input
the model cannot take (:class:`~botticelli_error.UnsupportedInputError`), and a member
skipped because its breaker is open (:class:`~botticelli_error.CircuitOpenError`). A bad
request, bad credentials, an unknown model, blocked content, a configuration mistake or an
answer that does not decode propagate from the member that raised them: the next model
would most likely fail the same way, or the mistake should be seen. Pass ``fallback_on``
to decide otherwise.

When no model is left, :class:`~botticelli_error.AllModelsFailedError` is raised, with each
member's error in ``errors`` (by member name, in the order tried).

Beyond generation a chain does not switch models per call where that would change the
answer's meaning: embeddings come from the first member that has them, always (vectors of two
models do not compare); token counts from the first member that counts (``exact=False``
when that is not the first member, whose tokenizer the prompt will meet first). ``health()``
is ready when any member is; ``list_models()`` lists every member's models.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import AsyncExitStack, aclosing
from types import TracebackType
from typing import Self

from botticelli._breaker import CircuitBreaker
from botticelli._routing import DEFAULT_COOLDOWN, DEFAULT_FAILURE_THRESHOLD, counts_against_backend, falls_back_on
from botticelli.routing._capabilities import close_all, list_models_of, member_health, overall_health
from botticelli.routing._chain import ErrorRule, Rules, Walk, generate_over, stream_over
from botticelli.routing._member import Member, MemberStats
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
    AllModelsFailedError,
    BotticelliError,
    CircuitOpenError,
    RateLimitError,
    UnsupportedInputError,
)
from botticelli_interface import GenerativeModel, ManagedStream, SupportsCountTokens, SupportsEmbed

__all__ = ["PROVIDER", "FallbackModel", "default_fallback_on"]

PROVIDER = "fallback"

FallbackOn = ErrorRule | tuple[type[BotticelliError], ...]
"""A predicate over an error, or the error classes to fall back on (and no others)."""


def default_fallback_on(error: BotticelliError) -> bool:
    """Whether a :class:`FallbackModel` tries its next model after ``error`` (see the module's text).

    Examples:
        >>> from botticelli_error import BadRequestError, ConfigurationError, ServerUnavailableError
        >>> default_fallback_on(ServerUnavailableError("overloaded")), default_fallback_on(BadRequestError("bad"))
        (True, False)
        >>> default_fallback_on(RateLimitError("daily quota", retryable=False)), default_fallback_on(
        ...     ConfigurationError("no key")
        ... )
        (True, False)
    """
    return falls_back_on(error) or error.retryable or isinstance(error, (RateLimitError, CircuitOpenError))


def _rule(fallback_on: FallbackOn | None) -> ErrorRule:
    if fallback_on is None:
        return default_fallback_on
    if isinstance(fallback_on, tuple):
        classes = fallback_on
        return lambda error: isinstance(error, classes)
    return fallback_on


def _exhausted(errors: dict[str, BotticelliError], last: BotticelliError) -> BotticelliError:
    return AllModelsFailedError.from_errors(errors, provider=PROVIDER)


def _enterable(model: GenerativeModel) -> bool:
    return hasattr(model, "__aenter__") and hasattr(model, "__aexit__")


def member_names(models: Sequence[GenerativeModel]) -> list[str]:
    """``provider:model`` for each model, with ``#2``, ``#3``... added where two would be the same.

    Examples:
        >>> from botticelli_server import ServerClient, ServerConfig
        >>> a = ServerClient(ServerConfig(model="phi"))
        >>> member_names([a, a])
        ['local:phi', 'local:phi#2']
    """
    names: list[str] = []
    for model in models:
        base = f"{model.provider_name}:{model.model_name}"
        name, count = base, 1
        while name in names:
            count += 1
            name = f"{base}#{count}"
        names.append(name)
    return names


class FallbackModel:
    """A :class:`~botticelli_interface.GenerativeModel` over several models, tried in order.

    Args:
        *models: The models, most preferred first; at least one.
        fallback_on: Which errors move a request to the next model: a predicate, or a
            tuple of error classes (replacing the default, :func:`default_fallback_on`).
        failure_threshold: Consecutive failures that open a member's circuit breaker.
        cooldown: Seconds an open breaker skips its member before one trial request.
        clock: Monotonic seconds for the breakers; tests pass a fake one.

    Raises:
        ValueError: No model was given.

    Examples:
        >>> from botticelli_server import ServerClient, ServerConfig
        >>> small = ServerClient(ServerConfig(base_url="http://127.0.0.1:8080", model="phi"))
        >>> big = ServerClient(ServerConfig(base_url="http://127.0.0.1:8081", model="big"))
        >>> chain = FallbackModel(small, big)
        >>> isinstance(chain, GenerativeModel), chain.provider_name, chain.model_name
        (True, 'fallback', 'phi|big')
        >>> list(chain.stats())
        ['local:phi', 'local:big']
    """

    def __init__(
        self,
        *models: GenerativeModel,
        fallback_on: FallbackOn | None = None,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        cooldown: float = DEFAULT_COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not models:
            raise ValueError("FallbackModel needs at least one model")
        self.models = models
        self.members = tuple(
            Member(name, model, failure_threshold=failure_threshold, cooldown=cooldown, clock=clock)
            for name, model in zip(member_names(models), models, strict=True)
        )
        self._entered: AsyncExitStack | None = None
        self.rules = Rules(
            provider=PROVIDER,
            fallback_on=_rule(fallback_on),
            counts_against=counts_against_backend,
            exhausted=_exhausted,
        )

    def __repr__(self) -> str:
        return f"FallbackModel({', '.join(repr(m) for m in self.models)})"

    @property
    def provider_name(self) -> str:
        """Always ``"fallback"``."""
        return PROVIDER

    @property
    def model_name(self) -> str:
        """Every member's model, in order: ``"phi|gemini-2.5-flash|gemini-2.5-pro"``."""
        return "|".join(model.model_name for model in self.models)

    def breaker(self, model: GenerativeModel) -> CircuitBreaker:
        """The circuit breaker of one member.

        Raises:
            KeyError: ``model`` is not a member.
        """
        for member in self.members:
            if member.model is model:
                return member.breaker
        raise KeyError(repr(model))

    def stats(self) -> dict[str, MemberStats]:
        """Each member's counters, by member name, in order."""
        return {member.name: member.stats() for member in self.members}

    # -- generation ---------------------------------------------------------------------

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate on the first member that answers.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            AllModelsFailedError: Every member failed with an error worth falling back on
                (or was skipped); ``errors`` holds each one.
            BotticelliError: A member's error that is not worth falling back on.
        """
        request = request_argument(request, "FallbackModel.generate", provider=PROVIDER)
        return await generate_over(self._walk("generate"), request)

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream from the first member that delivers a chunk; after that chunk, errors propagate.

        A stream that breaks once the caller has text raises its own error (with
        ``partial_text``): another model would not continue that text.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest` (at once).
        """
        request = request_argument(request, "FallbackModel.generate_stream", provider=PROVIDER)
        return ManagedStream(self._stream(request))

    async def _stream(self, request: GenerateRequest) -> AsyncGenerator[StreamChunk, None]:
        # aclosing: a caller leaving early must close the walk too, so it settles its breaker permit.
        async with aclosing(stream_over(self._walk("generate_stream"), request)) as chunks:
            async for chunk in chunks:
                yield chunk

    def _walk(self, operation: str) -> Walk:
        return Walk(self.members, self.rules, reason="first", operation=operation)

    # -- capabilities -------------------------------------------------------------------

    async def embed(
        self,
        texts: str | Sequence[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        task: str | None = None,
        truncate: bool = False,
    ) -> EmbedResponse:
        """Embed on the first member that has embeddings, always (no fallback: vector spaces differ).

        A single ``str`` is one text.

        Raises:
            ConfigurationError: ``texts`` is not a ``str`` or a sequence of them, or another
                argument has the wrong type; nothing was sent.
            UnsupportedInputError: No member has embeddings (``input_type="embeddings"``).
            BotticelliError: That member's error.
        """
        # Checked before the member's breaker is consulted: a wrong argument says nothing of a member.
        method = "FallbackModel.embed"
        inputs = checked_texts(texts, method, provider=PROVIDER)
        embed_options(method, model=model, dimensions=dimensions, task=task, truncate=truncate, provider=PROVIDER)
        member = next((m for m in self.members if isinstance(m.model, SupportsEmbed)), None)
        if member is None:
            raise UnsupportedInputError(
                "no model of the fallback chain has embeddings", input_type="embeddings", provider=PROVIDER
            )
        embedder = member.model
        assert isinstance(embedder, SupportsEmbed)  # checked above; narrows the type for mypy
        # An open breaker does not move embeddings elsewhere: the member is tried anyway.
        attempt = member.begin(member.breaker.acquire())
        try:
            response = await embedder.embed(inputs, model=model, dimensions=dimensions, task=task, truncate=truncate)
        except BotticelliError as exc:
            attempt.failed(exc, unhealthy=counts_against_backend(exc))
            raise
        except BaseException:
            attempt.released()
            raise
        attempt.succeeded()
        if response.model is None:
            # The caller must be able to tell whose space the vectors are in.
            response = response.model_copy(update={"model": model or embedder.model_name})
        return response

    async def count_tokens(self, request: GenerateRequest | str) -> TokenCount:
        """The prompt's tokens by the first member that counts; ``exact=False`` unless it is the first member.

        A ``str`` is a one-turn prompt.

        Raises:
            ConfigurationError: ``request`` is neither a :class:`~botticelli_core.GenerateRequest` nor a ``str``.
            UnsupportedInputError: No member counts tokens (``input_type="count_tokens"``).
        """
        request = prompt_request(request, "FallbackModel.count_tokens", provider=PROVIDER)
        for position, model in enumerate(self.models):
            if isinstance(model, SupportsCountTokens):
                count = await model.count_tokens(request)
                return count if position == 0 else TokenCount(input_tokens=count.input_tokens, exact=False)
        raise UnsupportedInputError(
            "no model of the fallback chain counts tokens", input_type="count_tokens", provider=PROVIDER
        )

    async def member_health(self) -> dict[str, HealthStatus]:
        """Each member's health, by member name, in order (checked concurrently)."""
        return await member_health(self.members)

    async def health(self) -> HealthStatus:
        """Ready when any member is: ``"ok"`` if all are, ``"degraded"`` if some are."""
        started = time.monotonic()
        return overall_health(await self.member_health(), started)

    async def list_models(self) -> list[ModelInfo]:
        """Every member's models, in order, each once; a member that is down is left out.

        Raises:
            BotticelliError: No member could list its models (the first one's error).
        """
        return await list_models_of(self.models)

    async def aclose(self) -> None:
        """Close every member (the later ones even if closing one fails). Safe to call twice."""
        stack, self._entered = self._entered, None
        try:
            if stack is not None:
                await stack.aclose()  # leaves (and so closes) each member it entered
        finally:
            await close_all([m for m in self.models if stack is None or not _enterable(m)])

    async def __aenter__(self) -> Self:
        """Enter every member that is an async context manager: a replica pool starts its health checks then."""
        stack = AsyncExitStack()
        async with stack:
            for model in self.models:
                if _enterable(model):
                    await stack.enter_async_context(model)  # type: ignore[arg-type]
            self._entered = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
