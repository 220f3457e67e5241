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

import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from types import TracebackType
from typing import Self

from botticelli import _hybrid_capabilities
from botticelli._breaker import CircuitBreaker, Permit
from botticelli._feature_routing import feature_route, union_of_features
from botticelli._hybrid_capabilities import sized_route
from botticelli._routing import HybridPolicy, Route, choose_route, counts_against_backend, falls_back_on
from botticelli.routing._capabilities import close_all
from botticelli.routing._chain import Rules, Walk, generate_over, stream_over
from botticelli.routing._member import Member
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
from botticelli_error import BotticelliError
from botticelli_interface import (
    Feature,
    GenerativeModel,
    ManagedStream,
    SupportsHealth,
    SupportsListModels,
)

__all__ = ["PROVIDER", "HybridModel", "HybridPolicy"]

PROVIDER = "hybrid"

# The hybrid raises the last backend's own error (the first one chained to it), not a summary.
_RULES = Rules(provider=PROVIDER, fallback_on=falls_back_on, counts_against=counts_against_backend)


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
        self._members = tuple(
            Member(
                backend.provider_name,
                backend,
                failure_threshold=self.policy.failure_threshold,
                cooldown=self.policy.cooldown,
                clock=clock,
            )
            for backend in (preferred, fallback)
        )
        self.breakers = {id(member.model): member.breaker for member in self._members}

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
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            UnsupportedInputError: Neither backend honours every feature the request uses.
        """
        request = request_argument(request, "HybridModel.route", provider=PROVIDER)
        return feature_route(request, self.preferred, self.fallback) or choose_route(request, self.policy)

    # -- generation ---------------------------------------------------------------------

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate on the routed backend, falling back to the other one if it cannot serve.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            BotticelliError: The error of the last backend tried.
        """
        request = request_argument(request, "HybridModel.generate", provider=PROVIDER)
        return await generate_over(self._walk(await sized_route(self, request), "generate"), request)

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream from the routed backend; before the first chunk, fall back like :meth:`generate`.

        Once a chunk has been delivered, errors propagate: the caller already has text.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest` (at once).
        """
        # Checked now, not when iteration starts: a wrong argument is the caller's line's mistake.
        request = request_argument(request, "HybridModel.generate_stream", provider=PROVIDER)
        return ManagedStream(self._stream(request))

    async def _stream(self, request: GenerateRequest) -> AsyncGenerator[StreamChunk, None]:
        walk = self._walk(await sized_route(self, request), "generate_stream")
        # aclosing: a caller leaving early must close the walk too, so it settles its breaker permit.
        async with aclosing(stream_over(walk, request)) as chunks:
            async for chunk in chunks:
                yield chunk

    def _walk(self, route: Route, operation: str) -> Walk:
        """The routed backend first, the other one second: the hybrid is a two-member fallback chain.

        A route that is exclusive (only that backend honours the request's features) has no
        second member: the other backend would refuse it, so it is tried even while it cools down.
        """
        first, second = (self._members[0], self._members[1]) if route.target == "preferred" else self._members[::-1]
        members = (first,) if route.exclusive else (first, second)
        return Walk(members, _RULES, reason=route.reason, operation=operation)

    def record_error(self, backend: GenerativeModel, permit: Permit | None, exc: BotticelliError) -> None:
        """Settle ``backend``'s breaker permit after ``exc``: a failure only if it says the backend is unwell."""
        breaker = self.breaker(backend)
        if counts_against_backend(exc):
            breaker.record_failure(permit)
        else:
            # The backend answered (a 400, a refusal): it is up, whatever the request's fault.
            breaker.record_success(permit)

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
        """Embed on the one embedding backend (``policy.embed_backend``), never on a per-call route.

        A single ``str`` is one text. A failure is raised rather than answered by the other
        backend's model, unless ``policy.embed_fallback`` is set; ``EmbedResponse.model``
        always names the model that made the vectors. ``model`` names a model of the
        embedding backend; ``truncate`` is passed to whichever backend embeds.

        Raises:
            ConfigurationError: ``texts`` is not a ``str`` or a sequence of them, another
                argument has the wrong type, or ``policy.embed_backend`` names a backend
                without embeddings.
            UnsupportedInputError: Neither backend has embeddings (``input_type="embeddings"``).
            BotticelliError: The embedding backend's error.
        """
        # Checked here, before a breaker permit is taken: a wrong argument says nothing of a backend.
        method = "HybridModel.embed"
        inputs = checked_texts(texts, method, provider=PROVIDER)
        embed_options(method, model=model, dimensions=dimensions, task=task, truncate=truncate, provider=PROVIDER)
        return await _hybrid_capabilities.embed(
            self, inputs, model=model, dimensions=dimensions, task=task, truncate=truncate
        )

    async def count_tokens(self, request: GenerateRequest | str) -> TokenCount:
        """The prompt's tokens (a ``str`` is a one-turn prompt) as the backend it would be routed to counts them.

        If only the other backend can count, its count comes back with ``exact=False``
        (tokenizers differ).

        Raises:
            ConfigurationError: ``request`` is neither a :class:`~botticelli_core.GenerateRequest` nor a ``str``.
            UnsupportedInputError: Neither backend counts tokens (``input_type="count_tokens"``).
            BotticelliError: The counting backend's error.
        """
        request = prompt_request(request, "HybridModel.count_tokens", provider=PROVIDER)
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
        await close_all((self.preferred, self.fallback))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
