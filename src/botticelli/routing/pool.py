"""``ReplicaPool``: one logical model served by several servers of the same model.

By default (``balance="affinity"``) a generation goes to the replica that holds its
conversation's cache: requests with the same ``session``, or else the same leading messages
(the system prompt and the first user message), share a home replica on a hash ring, and a
home with more than its share of requests in flight, or ejected, passes the request to the
next replica on the ring (see ``_affinity``). With ``balance="least_outstanding"``, and for
embeddings, token counts and model lists always, each request goes to the replica with the
fewest requests in flight (open streams included); ties take turns, so an idle pool spreads
requests round-robin. Every replica
sits behind its own circuit breaker: ``eject_after`` consecutive failures that say it is
unwell (a refused connection, a timeout, a 503, a broken or stalled stream) eject it for
``eject_cooldown`` seconds (passive ejection), after which one trial request may bring it
back. While the pool is entered (``async with pool``), every replica's ``health()`` is also
checked each ``health_interval`` seconds: a failed check ejects a replica at once, a good
one re-admits it (active checks).

A request that fails on a replica with such an error before any chunk reached the caller
is sent to the next replica: a replica that died loses no request that had not started
streaming. A stream that breaks after its first chunk raises its own error with
``partial_text``. When no replica is left, :class:`~botticelli_error.AllModelsFailedError`
carries each replica's error. Errors that say the request itself is wrong (a bad request,
an input the model cannot take) propagate from the first replica: every replica serves the
same model and would answer the same.

Embeddings, token counts and model lists fail over the same way (every replica serves the
same model, so nothing changes meaning).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from types import TracebackType
from typing import Any, Literal, Self, get_args

import anyio
from anyio.abc import TaskGroup

from botticelli._routing import counts_against_backend
from botticelli.routing._affinity import Ring, affinity_order, point_of, request_key
from botticelli.routing._capabilities import close_all, member_health, overall_health
from botticelli.routing._chain import Rules, Walk, call_over, generate_over, stream_over
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
    ConfigurationError,
    UnsupportedInputError,
    redact_url,
)
from botticelli_interface import GenerativeModel, ManagedStream, SupportsCountTokens, SupportsEmbed, SupportsListModels
from botticelli_interface.request_log import log_event

__all__ = ["Balance", "ReplicaPool"]

Balance = Literal["affinity", "least_outstanding"]
"""How a pool picks the replica for a generation: by cache affinity, or by fewest in flight."""


class ReplicaPool:
    """A :class:`~botticelli_interface.GenerativeModel` balancing requests over replicas of one model.

    Args:
        *replicas: The replicas, e.g. one :class:`~botticelli_server.ServerClient` per server.
        names: How stats, logs and errors name each replica; by default a replica's base URL
            (credentials removed) when it has one, else ``"replica-<n>"``.
        eject_after: Consecutive failures that eject a replica.
        eject_cooldown: Seconds an ejected replica waits before one trial request.
        health_interval: Seconds between active health checks while the pool is entered;
            ``None`` turns them off (ejection is then passive only).
        balance: ``"affinity"`` sends the turns of one conversation (one ``session``, or
            the same leading messages) to one replica, where the server keeps its prompt
            cache; ``"least_outstanding"`` sends each request to the replica with the fewest
            in flight. Embeddings, token counts and model lists are always least-outstanding.
        load_factor: With ``"affinity"``: how far above the average in-flight load a replica
            may go before its conversations pass to the next replica on the ring (0.25: 25 %).
        clock: Monotonic seconds for the breakers and latencies; tests pass a fake one.

    Raises:
        ValueError: No replica, or ``names`` of another length.
        ConfigurationError: ``balance`` is not one of the two, or ``load_factor`` is not a
            number greater than 0.

    Enter and leave the pool (``async with``) in one task: the health checks run in a task
    group opened there.

    Examples:
        >>> from botticelli_server import ServerConfig
        >>> pool = ReplicaPool.from_config(
        ...     ServerConfig(model="phi", base_urls=["http://10.0.0.1:8080", "http://10.0.0.2:8080"])
        ... )
        >>> pool.provider_name, pool.model_name, list(pool.stats())
        ('local', 'phi', ['http://10.0.0.1:8080', 'http://10.0.0.2:8080'])
        >>> pool.balance
        'affinity'
        >>> from botticelli_core import GenerateRequest, Message
        >>> turn = GenerateRequest(messages=[Message.system("Be brief."), Message.user("Hi")])
        >>> next_turn = turn.model_copy(
        ...     update={"messages": [*turn.messages, Message.assistant("Hello!"), Message.user("Why?")]}
        ... )
        >>> pool.order(turn)[0] == pool.order(next_turn)[0]
        True
    """

    def __init__(
        self,
        *replicas: GenerativeModel,
        names: Sequence[str] | None = None,
        eject_after: int = 3,
        eject_cooldown: float = 30.0,
        health_interval: float | None = 10.0,
        balance: Balance = "affinity",
        load_factor: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not replicas:
            raise ValueError("ReplicaPool needs at least one replica")
        if balance not in get_args(Balance):
            raise ConfigurationError(
                f"ReplicaPool balance must be 'affinity' or 'least_outstanding', not {balance!r}",
                provider=replicas[0].provider_name,
            )
        if not _positive_number(load_factor):
            raise ConfigurationError(
                f"ReplicaPool load_factor must be a finite number greater than 0, not {load_factor!r}",
                provider=replicas[0].provider_name,
            )
        labels = list(names) if names is not None else [_name_of(r, i) for i, r in enumerate(replicas, 1)]
        if len(labels) != len(replicas):
            raise ValueError(f"{len(labels)} names for {len(replicas)} replicas")
        self.replicas = replicas
        self.members = tuple(
            Member(name, replica, failure_threshold=eject_after, cooldown=eject_cooldown, clock=clock)
            for name, replica in zip(labels, replicas, strict=True)
        )
        self.health_interval = health_interval
        self.balance: Balance = balance
        self.load_factor = float(load_factor)
        self._ring = Ring(labels)
        self.rules = Rules(
            provider=replicas[0].provider_name,
            fallback_on=counts_against_backend,
            counts_against=counts_against_backend,
            exhausted=self._exhausted,
        )
        # When each replica was last the first choice; before any request, in the order given.
        self._picked = [position - len(replicas) for position in range(len(replicas))]
        self._picks = 0
        self._group: TaskGroup | None = None

    @classmethod
    def from_config(cls, config: Any) -> ReplicaPool:
        """A pool of :class:`~botticelli_server.ServerClient`, one per ``config.base_urls`` entry.

        Args:
            config: A :class:`~botticelli_server.ServerConfig` with ``base_urls`` set; its
                ``eject_after``, ``eject_cooldown``, ``health_check_interval`` and
                ``pool_balance`` apply.

        Raises:
            ValueError: ``config.base_urls`` is empty.
        """
        from botticelli_server import ServerClient  # noqa: PLC0415 - the pool itself needs no server backend

        return cls(
            *(ServerClient(replica) for replica in config.replica_configs()),
            eject_after=config.eject_after,
            eject_cooldown=config.eject_cooldown,
            health_interval=config.health_check_interval,
            balance=config.pool_balance,
        )

    def __repr__(self) -> str:
        return f"ReplicaPool({', '.join(m.name for m in self.members)})"

    @property
    def provider_name(self) -> str:
        """The replicas' provider (``"local"`` for servers): the pool stands for one model."""
        return self.replicas[0].provider_name

    @property
    def model_name(self) -> str:
        """The first replica's model (every replica serves the same one)."""
        return self.replicas[0].model_name

    def stats(self) -> dict[str, MemberStats]:
        """Each replica's counters by name: in flight, outcomes, ejection, latency, prompt and cached tokens."""
        return {member.name: member.stats() for member in self.members}

    # -- generation ---------------------------------------------------------------------

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate on the replica the pool's ``balance`` picks; on another if it cannot serve.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest`.
            AllModelsFailedError: Every replica failed or is ejected; ``errors`` holds each.
            BotticelliError: An error that says the request is wrong, from the first replica.
        """
        # Checked before a replica is picked: a wrong argument must not take a replica's turn.
        request = request_argument(request, "ReplicaPool.generate", provider=self.provider_name)
        return await generate_over(self._walk("generate", request), request)

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        """Stream from the replica ``balance`` picks; before the first chunk, fail over as :meth:`generate` does.

        Raises:
            ConfigurationError: ``request`` is not a :class:`~botticelli_core.GenerateRequest` (at once).
        """
        request = request_argument(request, "ReplicaPool.generate_stream", provider=self.provider_name)
        return ManagedStream(self._stream(request))

    async def _stream(self, request: GenerateRequest) -> AsyncGenerator[StreamChunk, None]:
        # aclosing: a caller leaving early must close the walk too, so it settles its permit and count.
        async with aclosing(stream_over(self._walk("generate_stream", request), request)) as chunks:
            async for chunk in chunks:
                yield chunk

    def order(self, request: GenerateRequest | None = None) -> list[str]:
        """The replicas' names in the order the next request would try them (takes that request's turn).

        With a ``request`` and ``balance="affinity"``: its home replica on the ring first when it
        has room and is not ejected, then the next ones on the ring. Otherwise fewest in flight
        first; among equals, the one that was first choice longest ago.

        Raises:
            ConfigurationError: ``request`` is given but is not a :class:`~botticelli_core.GenerateRequest`.
        """
        if request is not None:
            request = request_argument(request, "ReplicaPool.order", provider=self.provider_name)
        if request is not None and self.balance == "affinity":
            return [m.name for m in self._affine(request)[0]]
        return [m.name for m in self._ordered()]

    def _affine(self, request: GenerateRequest) -> tuple[list[Member], str]:
        """The affinity order for ``request``, and the reason to log for its first choice."""
        walk = self._ring.walk(point_of(request_key(request)))
        # "open" only: a half-open replica may take a trial, and a conversation's home should
        # be the one to try it, or a passively ejected home would never get its keys back.
        available = [m.breaker.state != "open" for m in self.members]
        order = affinity_order(walk, [m.in_flight for m in self.members], available, self.load_factor)
        reason = "affinity" if order[0] == walk[0] else f"affinity_spill:{self.members[walk[0]].name}"
        return [self.members[i] for i in order], reason

    def _ordered(self) -> list[Member]:
        # Ties go to the replica chosen first longest ago: a strict turn among the equally busy.
        ranked = sorted(range(len(self.members)), key=lambda i: (self.members[i].in_flight, self._picked[i]))
        self._picks += 1
        self._picked[ranked[0]] = self._picks
        return [self.members[i] for i in ranked]

    def _walk(self, operation: str, request: GenerateRequest | None = None) -> Walk:
        if request is not None and self.balance == "affinity":
            members, reason = self._affine(request)
            return Walk(members, self.rules, reason=reason, operation=operation)
        return Walk(self._ordered(), self.rules, reason="least_outstanding", operation=operation)

    def _exhausted(self, errors: dict[str, BotticelliError], last: BotticelliError) -> BotticelliError:
        return AllModelsFailedError.from_errors(errors, provider=self.provider_name)

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
        """Embed on the least-loaded replica, failing over like :meth:`generate`; a single ``str`` is one text.

        Raises:
            ConfigurationError: ``texts`` is not a ``str`` or a sequence of them, or another
                argument has the wrong type; nothing was sent.
            UnsupportedInputError: The replicas have no embeddings.
        """
        method, provider = "ReplicaPool.embed", self.provider_name
        inputs = checked_texts(texts, method, provider=provider)
        embed_options(method, model=model, dimensions=dimensions, task=task, truncate=truncate, provider=provider)
        self._require(SupportsEmbed, "embeddings")

        async def call(replica: GenerativeModel) -> EmbedResponse:
            assert isinstance(replica, SupportsEmbed)  # checked above; narrows the type for mypy
            return await replica.embed(inputs, model=model, dimensions=dimensions, task=task, truncate=truncate)

        return await call_over(self._walk("embed"), call)

    async def count_tokens(self, request: GenerateRequest | str) -> TokenCount:
        """The prompt's tokens (a ``str`` is a one-turn prompt), counted by the least-loaded replica.

        Raises:
            ConfigurationError: ``request`` is neither a :class:`~botticelli_core.GenerateRequest` nor a ``str``.
            UnsupportedInputError: The replicas do not count tokens.
        """
        checked = prompt_request(request, "ReplicaPool.count_tokens", provider=self.provider_name)
        self._require(SupportsCountTokens, "count_tokens")

        async def call(replica: GenerativeModel) -> TokenCount:
            assert isinstance(replica, SupportsCountTokens)  # checked above; narrows the type for mypy
            return await replica.count_tokens(checked)

        return await call_over(self._walk("count_tokens"), call)

    async def list_models(self) -> list[ModelInfo]:
        """The models a replica lists (they all serve the same ones)."""
        if not isinstance(self.replicas[0], SupportsListModels):
            return [ModelInfo(id=self.model_name, owned_by=self.provider_name)]

        async def call(replica: GenerativeModel) -> list[ModelInfo]:
            assert isinstance(replica, SupportsListModels)  # the replicas are alike
            return await replica.list_models()

        return await call_over(self._walk("list_models"), call)

    def _require(self, protocol: type, what: str) -> None:
        if not isinstance(self.replicas[0], protocol):
            raise UnsupportedInputError(
                f"the replicas ({self.provider_name}) have no {what}", input_type=what, provider=self.provider_name
            )

    # -- health ---------------------------------------------------------------------------

    async def replica_health(self) -> dict[str, HealthStatus]:
        """Each replica's health, by name, checked concurrently; nothing is ejected or re-admitted."""
        return await member_health(self.members)

    async def health(self) -> HealthStatus:
        """Ready when any replica is: ``"ok"`` if all are, ``"degraded"`` if some are."""
        started = time.monotonic()
        return overall_health(await self.replica_health(), started)

    async def check_health(self) -> dict[str, HealthStatus]:
        """One round of active health checks: eject each replica that is not ready, re-admit each that is.

        The entered pool runs this every ``health_interval`` seconds; call it yourself to
        check at other times.
        """
        statuses = await self.replica_health()
        for member in self.members:
            status = statuses[member.name]
            if status.ready and member.breaker.state != "closed":
                member.breaker.reset()
                log_event(logging.INFO, "botticelli.replica", replica=member.name, state="readmitted")
            elif not status.ready:
                if member.breaker.state == "closed":
                    log_event(
                        logging.WARNING, "botticelli.replica", replica=member.name, state="ejected", why=status.status
                    )
                member.breaker.trip()
        return statuses

    async def _watch(self, interval: float) -> None:
        while True:
            await anyio.sleep(interval)
            try:
                await self.check_health()
            except Exception as exc:  # noqa: BLE001 - a health round must never end the pool's task group
                log_event(logging.WARNING, "botticelli.replica", state="check_failed", error=type(exc).__name__)

    # -- lifetime ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop the health checks and close every replica. Safe to call twice."""
        await self._stop_watching()
        await close_all(self.replicas)

    async def __aenter__(self) -> Self:
        if self.health_interval is not None and self._group is None:
            group = anyio.create_task_group()
            await group.__aenter__()
            group.start_soon(self._watch, self.health_interval)
            self._group = group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _stop_watching(self) -> None:
        group, self._group = self._group, None
        if group is not None:
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)


def _positive_number(value: object) -> bool:
    # A bool is an int to Python but never a meant load factor; NaN and infinity have no bound.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _name_of(replica: GenerativeModel, position: int) -> str:
    config = getattr(replica, "config", None)
    url = getattr(config, "base_url", None)
    return redact_url(url) if isinstance(url, str) else f"replica-{position}"
