"""The hybrid provider: a cheap local backend for most requests, an API backend for the rest.

:class:`HybridModel` routes each request by :func:`~botticelli._routing.choose_route`
(routing hint, media inputs, prompt size, ``max_tokens``) and falls back to the other
backend when the chosen one cannot serve: a :class:`~botticelli_error.TransportError` (a
timeout included), :class:`~botticelli_error.RateLimitError`,
:class:`~botticelli_error.ServerUnavailableError`, a stream that broke or stalled before
its first chunk, or an input the backend cannot take
(:class:`~botticelli_error.UnsupportedInputError`). A bad request, bad credentials, an
unknown model, blocked content or an undecodable answer propagate: the other backend would
fail too, or the mistake should be seen.

A backend raising from ``generate_stream()`` itself, before returning a stream, is treated
like one whose stream fails before its first chunk. A stream falls back only until its first
chunk reached the caller; after that, an error propagates, since the caller already holds
text the other backend would not continue. For the breaker, a stream is a success once it
is over (or the caller left it); one that breaks after its first chunk is a failure like
any other. Every breaker permit is handed back, whatever happens (see ``CircuitBreaker.acquire``).
A backend failing repeatedly is skipped for a cool-down by its circuit breaker
(:class:`~botticelli._breaker.CircuitBreaker`). Each decision is logged as
``botticelli.route`` with a ``reason``: ``"cheap"``, ``"hint:complex"``, ``"media"``,
``"prompt_tokens>2000"``, ``"max_tokens>2048"``, ``"breaker_open:local"``,
``"fallback:ServerUnavailableError"``, ``"features:tools"``.

Before any of those rules, a request's optional features (tools, ``output_schema``,
``thinking``, ``adapter``) decide: one only a backend honours goes to it, with no
fallback, and one neither honours is refused (see :mod:`botticelli._feature_routing`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Self

import anyio

from botticelli import _hybrid_capabilities
from botticelli._breaker import CircuitBreaker, Permit
from botticelli._feature_routing import feature_route, union_of_features
from botticelli._hybrid_capabilities import sized_route
from botticelli._routing import HybridPolicy, Route, choose_route, counts_against_backend, falls_back_on
from botticelli_core import (
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    HealthStatus,
    ModelInfo,
    StreamChunk,
    TokenCount,
)
from botticelli_error import BotticelliError
from botticelli_interface import (
    ChunkStream,
    Feature,
    GenerativeModel,
    ManagedStream,
    SupportsAclose,
    SupportsHealth,
    SupportsListModels,
)
from botticelli_interface.request_log import log_event

__all__ = ["PROVIDER", "HybridModel", "HybridPolicy"]

PROVIDER = "hybrid"


class HybridModel:
    """A :class:`~botticelli_interface.GenerativeModel` over two backends, routed per request.

    Args:
        preferred: The backend for cheap requests (a local server or the embedded engine).
        fallback: The backend for complex requests, and for when the preferred one fails.
        policy: Routing thresholds and circuit-breaker settings.
        clock: Monotonic seconds for the breakers; tests pass a fake one.

    Leave ``GenerateRequest.model`` unset: each backend then uses its own configured model.

    Examples:
        >>> from botticelli_server import ServerClient, ServerConfig
        >>> local = ServerClient(ServerConfig(base_url="http://127.0.0.1:8080", model="phi"))
        >>> api = ServerClient(ServerConfig(base_url="http://127.0.0.1:8081", model="big"))
        >>> hybrid = HybridModel(local, api, policy=HybridPolicy(prompt_tokens_threshold=500))
        >>> isinstance(hybrid, GenerativeModel), hybrid.provider_name, hybrid.model_name
        (True, 'hybrid', 'phi|big')
        >>> hybrid.route(GenerateRequest.from_prompt("Hi", routing_hint="complex"))
        Route(target='fallback', reason='hint:complex')
    """

    def __init__(
        self,
        preferred: GenerativeModel,
        fallback: GenerativeModel,
        *,
        policy: HybridPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.preferred = preferred
        self.fallback = fallback
        self.policy = policy if policy is not None else HybridPolicy()
        self.breakers = {
            id(backend): CircuitBreaker(
                backend.provider_name,
                failure_threshold=self.policy.failure_threshold,
                cooldown=self.policy.cooldown,
                clock=clock,
            )
            for backend in (preferred, fallback)
        }

    def __repr__(self) -> str:
        return f"HybridModel(preferred={self.preferred!r}, fallback={self.fallback!r})"

    @property
    def provider_name(self) -> str:
        """Always ``"hybrid"``."""
        return PROVIDER

    @property
    def model_name(self) -> str:
        """Both backends' models, preferred first: ``"phi|gemini-2.5-flash"``."""
        return f"{self.preferred.model_name}|{self.fallback.model_name}"

    def breaker(self, backend: GenerativeModel) -> CircuitBreaker:
        """The circuit breaker of one of the two backends."""
        return self.breakers[id(backend)]

    @property
    def supported_features(self) -> frozenset[Feature]:
        """The optional request features either backend honours; each request goes to one that does."""
        return union_of_features(self.preferred, self.fallback)

    def route(self, request: GenerateRequest) -> Route:
        """Where ``request`` would go first, by its features and the policy (breakers not consulted).

        A request using a feature (tools, ``output_schema``, ``thinking``, ``adapter``) that
        only one backend honours goes there, exclusively: it never falls back to the other.

        Raises:
            UnsupportedInputError: Neither backend honours every feature the request uses.
        """
        return feature_route(request, self.preferred, self.fallback) or choose_route(request, self.policy)

    # -- generation ---------------------------------------------------------------------

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate on the routed backend, falling back to the other one if it cannot serve.

        Raises:
            BotticelliError: The error of the last backend tried.
        """
        backend, permit, spare = self._plan(await sized_route(self, request), "generate")
        failed: BotticelliError | None = None
        while True:
            try:
                response = await backend.generate(request)
            except BotticelliError as exc:
                self.record_error(backend, permit, exc)
                switch = self._switch(spare, backend, exc, "generate")
                if switch is None:
                    _chain(exc, failed)
                    raise
                backend, permit, spare, failed = (*switch, None, exc)
                continue
            except BaseException:
                self.breaker(backend).release(permit)
                raise
            self.breaker(backend).record_success(permit)
            return response

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream from the routed backend; before the first chunk, fall back like :meth:`generate`.

        Once a chunk has been delivered, errors propagate: the caller already has text.
        """
        return ManagedStream(self._stream(request))

    async def _stream(self, request: GenerateRequest) -> AsyncGenerator[StreamChunk, None]:
        backend, permit, spare = self._plan(await sized_route(self, request), "generate_stream")
        failed: BotticelliError | None = None
        while True:
            # Opening the stream is inside the try: a backend may raise from generate_stream()
            # itself (an input it checks up front), and that must hand the permit back and fall
            # back exactly as an error from the first chunk does.
            opened: ChunkStream | None = None
            try:
                opened = stream = backend.generate_stream(request)
                first = await stream.__anext__()
            except StopAsyncIteration:
                self.breaker(backend).record_success(permit)
                await _close(opened)
                return
            except BotticelliError as exc:
                # The permit is settled before the close: a close that fails or is cancelled
                # must not keep a trial marked as running.
                self.record_error(backend, permit, exc)
                await _close(opened)
                switch = self._switch(spare, backend, exc, "generate_stream")
                if switch is None:
                    _chain(exc, failed)
                    raise
                backend, permit, spare, failed = (*switch, None, exc)
                continue
            except BaseException:
                self.breaker(backend).release(permit)
                with anyio.CancelScope(shield=True):
                    await _close(opened)
                raise
            break
        # The backend answered; from here on the caller holds its text, so nothing falls back.
        breaker = self.breaker(backend)
        if permit == "trial":
            # A trial that answered closes the breaker now instead of holding the trial slot to the end.
            breaker.record_success(permit)
            permit = None
        # Otherwise the outcome is known only at the end: counting the first chunk as a success
        # would reset the count each time, so a backend that always broke mid-stream never tripped.
        broke = False
        try:
            yield first
            async for chunk in stream:
                yield chunk
        except BotticelliError as exc:
            broke = True
            self.record_error(backend, permit, exc)
            raise
        finally:
            if not broke:
                breaker.record_success(permit)
            with anyio.CancelScope(shield=True):
                await stream.aclose()

    def _plan(self, route: Route, operation: str) -> tuple[GenerativeModel, Permit | None, GenerativeModel | None]:
        """The backend to try first with its breaker permit, and the spare to fall back to; logs the choice."""
        first, second = (
            (self.preferred, self.fallback) if route.target == "preferred" else (self.fallback, self.preferred)
        )
        permit = self.breaker(first).acquire()
        if route.exclusive:
            # The other backend would refuse the request: try this one even while it cools down.
            self._log_route(first, route.reason, operation)
            return first, permit, None
        if permit is not None:
            self._log_route(first, route.reason, operation)
            return first, permit, second
        permit = self.breaker(second).acquire()
        if permit is not None:
            self._log_route(second, f"breaker_open:{first.provider_name}", operation)
            return second, permit, None
        # Both are cooling down: better to try the routed one than to fail without trying.
        self._log_route(first, f"breaker_open:{first.provider_name},{second.provider_name}", operation)
        return first, None, None

    def _switch(
        self, spare: GenerativeModel | None, failed: GenerativeModel, exc: BotticelliError, operation: str
    ) -> tuple[GenerativeModel, Permit | None] | None:
        """The spare backend and its permit, if ``exc`` warrants a fallback and the spare is not cooling down."""
        if spare is None or not falls_back_on(exc):
            return None
        # The spare's permit is taken only now: a trial slot must not be held while the first one runs.
        permit = self.breaker(spare).acquire()
        if permit is None:
            return None
        log_event(
            logging.WARNING,
            "botticelli.route",
            provider=PROVIDER,
            backend=spare.provider_name,
            model=spare.model_name,
            reason=f"fallback:{type(exc).__name__}",
            failed_backend=failed.provider_name,
            operation=operation,
        )
        return spare, permit

    def record_error(self, backend: GenerativeModel, permit: Permit | None, exc: BotticelliError) -> None:
        """Settle ``backend``'s breaker permit after ``exc``: a failure only if it says the backend is unwell."""
        breaker = self.breaker(backend)
        if counts_against_backend(exc):
            breaker.record_failure(permit)
        else:
            # The backend answered (a 400, a refusal): it is up, whatever the request's fault.
            breaker.record_success(permit)

    def _log_route(self, backend: GenerativeModel, reason: str, operation: str) -> None:
        log_event(
            logging.INFO,
            "botticelli.route",
            provider=PROVIDER,
            backend=backend.provider_name,
            model=backend.model_name,
            reason=reason,
            operation=operation,
        )

    # -- capabilities -------------------------------------------------------------------

    async def embed(
        self,
        texts: Sequence[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        task: str | None = None,
        truncate: bool = False,
    ) -> EmbedResponse:
        """Embed on the one embedding backend (``policy.embed_backend``), never on a per-call route.

        A failure is raised rather than answered by the other backend's model, unless
        ``policy.embed_fallback`` is set; ``EmbedResponse.model`` always names the model
        that made the vectors. ``model`` names a model of the embedding backend; ``truncate``
        is passed to whichever backend embeds.

        Raises:
            UnsupportedInputError: Neither backend has embeddings (``input_type="embeddings"``).
            ConfigurationError: ``policy.embed_backend`` names a backend without embeddings.
            BotticelliError: The embedding backend's error.
        """
        return await _hybrid_capabilities.embed(
            self, texts, model=model, dimensions=dimensions, task=task, truncate=truncate
        )

    async def count_tokens(self, request: GenerateRequest) -> TokenCount:
        """The prompt's tokens as the backend it would be routed to counts them.

        If only the other backend can count, its count comes back with ``exact=False``
        (tokenizers differ).

        Raises:
            UnsupportedInputError: Neither backend counts tokens (``input_type="count_tokens"``).
            BotticelliError: The counting backend's error.
        """
        return await _hybrid_capabilities.count_tokens(self, request)

    async def backend_health(self) -> dict[str, HealthStatus]:
        """Each backend's health, by provider name (preferred first)."""
        results: dict[str, HealthStatus] = {}
        for backend in (self.preferred, self.fallback):
            if isinstance(backend, SupportsHealth):
                results[backend.provider_name] = await backend.health()
            else:
                results[backend.provider_name] = HealthStatus(
                    ready=True, status="ok", detail="no health check; assumed ready"
                )
        return results

    async def health(self) -> HealthStatus:
        """Ready when either backend is: ``"ok"`` if both are, ``"degraded"`` if one is."""
        started = time.monotonic()
        statuses = await self.backend_health()
        ready = [s.ready for s in statuses.values()]
        if all(ready):
            status = "ok"
        elif any(ready):
            status = "degraded"
        else:
            status = next(iter(statuses.values())).status
        detail = "; ".join(
            f"{name}: {s.status}" + (f" ({s.detail})" if s.detail else "") for name, s in statuses.items()
        )
        return HealthStatus(ready=any(ready), status=status, detail=detail, latency_s=time.monotonic() - started)

    async def list_models(self) -> list[ModelInfo]:
        """The models of both backends, preferred first.

        A backend that cannot list its models (it is down) is left out; if neither can,
        the preferred backend's error is raised.
        """
        models: list[ModelInfo] = []
        errors: list[BotticelliError] = []
        for backend in (self.preferred, self.fallback):
            if not isinstance(backend, SupportsListModels):
                models.append(ModelInfo(id=backend.model_name, owned_by=backend.provider_name))
                continue
            try:
                models.extend(await backend.list_models())
            except BotticelliError as exc:
                errors.append(exc)
        if not models and errors:
            raise errors[0]
        return models

    async def aclose(self) -> None:
        """Close both backends (the second even if closing the first fails). Safe to call twice."""
        await _close_all([b.aclose for b in (self.preferred, self.fallback) if isinstance(b, SupportsAclose)])

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _close(stream: ChunkStream | None) -> None:
    """Close a backend's stream, if opening it got that far."""
    if stream is not None:
        await stream.aclose()


def _chain(error: BaseException, earlier: BaseException | None) -> None:
    """Attach the first backend's error to the fallback's, so a traceback shows both failures."""
    if earlier is not None and error.__context__ is None:
        error.__context__ = earlier


async def _close_all(closers: list[Callable[[], Awaitable[None]]]) -> None:
    error: BaseException | None = None
    with anyio.CancelScope(shield=True):
        for close in closers:
            try:
                await close()
            except Exception as exc:  # noqa: BLE001 - the others must still be closed; re-raised below
                error = error or exc
    if error is not None:
        raise error
