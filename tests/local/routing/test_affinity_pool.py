"""ReplicaPool with affinity balancing: a conversation stays on one replica, bounded by load and health."""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator

import pytest

from botticelli import ReplicaPool
from botticelli.routing._affinity import Ring, point_of, request_key
from botticelli_core import (
    EmbedResponse,
    GenerateRequest,
    GenerateResponse,
    Message,
    StreamChunk,
    TextOutput,
    Usage,
)
from botticelli_error import ConfigurationError, TransportError
from botticelli_interface import ManagedStream
from botticelli_server import ServerConfig
from tests.local.hybrid.fakes import FakeModel
from tests.local.hybrid.support import Clock, reasons

pytestmark = pytest.mark.anyio

NAMES = ["a", "b", "c"]
SYSTEM = Message.system("You answer questions about trains.")


class Cached(FakeModel):
    """A replica that reports usage: ``cached`` prompt tokens of ``prompt`` each time."""

    def __init__(self, name: str, *, cached: int | None = 7, **options: object) -> None:
        super().__init__(name, **options)  # type: ignore[arg-type]
        self.cached = cached
        self.embeds = 0

    def usage(self) -> Usage:
        return Usage(input_tokens=10, output_tokens=2, cached_tokens=self.cached)

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        await super().generate(request)
        return GenerateResponse(
            outputs=[TextOutput(text=self.name)], finish_reason="stop", model=self.model_name, usage=self.usage()
        )

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        self.calls.append("stream")
        return ManagedStream(self._with_usage())

    async def _with_usage(self) -> AsyncGenerator[StreamChunk, None]:
        yield StreamChunk(text=self.name)
        yield StreamChunk(is_final=True, finish_reason="stop", usage=self.usage())

    async def embed(self, texts: object, **options: object) -> EmbedResponse:
        self.embeds += 1
        return EmbedResponse(vectors=[[1.0]])


def replicas(**options: object) -> list[Cached]:
    return [Cached(name, **options) for name in NAMES]  # type: ignore[arg-type]


def pool(members: list[Cached], clock: Clock | None = None, **options: object) -> ReplicaPool:
    return ReplicaPool(
        *members,
        names=NAMES,
        eject_after=2,
        eject_cooldown=30,
        health_interval=None,
        clock=clock or Clock(),
        **options,  # type: ignore[arg-type]
    )


def turn(opening: str, turns: int, session: str | None = None) -> GenerateRequest:
    """The request of a conversation's turn ``turns + 1``: the same opening, a growing history."""
    messages = [SYSTEM, Message.user(opening)]
    for n in range(turns):
        messages += [Message.assistant(f"answer {n}"), Message.user(f"and then {n}?")]
    return GenerateRequest(messages=messages, session=session)


def home_of(request: GenerateRequest) -> str:
    return NAMES[Ring(NAMES).walk(point_of(request_key(request)))[0]]


def served(members: list[Cached]) -> dict[str, int]:
    return {m.name: len(m.calls) for m in members if m.calls}


async def test_every_turn_of_a_conversation_goes_to_its_home(routes: pytest.LogCaptureFixture) -> None:
    members = replicas()
    model = pool(members)
    for n in range(6):
        await model.generate(turn("When does the last train leave?", n))
    home = home_of(turn("When does the last train leave?", 0))
    assert served(members) == {home: 6}
    assert reasons(routes) == ["affinity"] * 6


async def test_streams_follow_the_same_home() -> None:
    members = replicas()
    model = pool(members)
    for n in range(3):
        async with model.generate_stream(turn("Is the 8:15 late?", n)) as stream:
            texts = [c.text async for c in stream]
        assert texts[0] == home_of(turn("Is the 8:15 late?", 0))
    assert sum(len(m.calls) for m in members) == 3
    assert len(served(members)) == 1


async def test_different_conversations_spread_over_the_replicas() -> None:
    members = replicas()
    model = pool(members)
    for n in range(60):
        await model.generate(turn(f"Question number {n}", 0))
    counts = served(members)
    assert set(counts) == set(NAMES)
    assert all(count >= 8 for count in counts.values()), counts


async def test_a_session_keeps_different_prompts_together() -> None:
    members = replicas()
    model = pool(members)
    for n in range(10):
        await model.generate(turn(f"Unrelated question {n}", n % 3, session="user-42"))
    assert list(served(members).values()) == [10]
    assert home_of(turn("x", 0, session="user-42")) in served(members)


async def test_a_busy_home_passes_the_next_request_on(routes: pytest.LogCaptureFixture) -> None:
    members = replicas()
    model = pool(members)
    request = turn("How long to Lyon?", 0)
    home = home_of(request)
    async with model.generate_stream(request) as held:
        await held.__anext__()
        # One in flight over three: the bound is ceil(1.25 * 2 / 3) = 1, and the home has it.
        assert model.order(request)[0] != home
        await model.generate(request)
    spilled = reasons(routes)[-1]
    assert spilled == f"affinity_spill:{home}"
    # Once the stream is over the home takes its conversation back.
    assert model.order(request)[0] == home


async def test_under_load_no_replica_exceeds_the_bound() -> None:
    members = replicas()
    model = pool(members, load_factor=0.5)
    request = turn("The one hot conversation", 0)
    streams = []
    for n in range(12):
        stream = model.generate_stream(request)
        await stream.__anext__()
        streams.append(stream)
        loads = [s.in_flight for s in model.stats().values()]
        assert max(loads) <= math.ceil(1.5 * (n + 1) / 3), loads
    # One hot conversation does not queue on its home: with e = 0.5 two replicas share it.
    assert sorted(s.in_flight for s in model.stats().values()) == [0, 6, 6]
    for stream in streams:
        await stream.aclose()
    assert [s.in_flight for s in model.stats().values()] == [0, 0, 0]


async def test_an_ejected_home_passes_its_conversations_on_until_it_is_back() -> None:
    clock = Clock()
    request = turn("Which platform?", 0)
    home = home_of(request)
    members = replicas()
    by_name = {m.name: m for m in members}
    by_name[home].failures = [TransportError("refused"), TransportError("refused")]
    model = pool(members, clock=clock)
    for _ in range(2):
        await model.generate(request)  # fails over to the next replica on the ring each time
    assert model.stats()[home].ejected
    next_on_ring = model.order(request)[0]
    assert next_on_ring != home
    for n in range(4):
        await model.generate(turn("Which platform?", n))
    assert len(by_name[home].calls) == 2
    assert len(by_name[next_on_ring].calls) == 6
    clock.now += 30  # the cool-down is over: the trial goes to the home
    await model.generate(request)
    assert len(by_name[home].calls) == 3
    assert not model.stats()[home].ejected


async def test_a_refused_request_moves_to_the_next_replica_on_the_ring(routes: pytest.LogCaptureFixture) -> None:
    request = turn("Any delays?", 0)
    home = home_of(request)
    members = replicas()
    next(m for m in members if m.name == home).failures = [TransportError("refused")]
    model = pool(members)
    assert (await model.generate(request)).text == NAMES[Ring(NAMES).walk(point_of(request_key(request)))[1]]
    assert reasons(routes) == ["affinity", "fallback:TransportError"]


async def test_stats_count_prompt_and_cached_tokens_per_replica() -> None:
    members = replicas()
    model = pool(members)
    request = turn("Tickets?", 0)
    await model.generate(request)
    async with model.generate_stream(request) as stream:
        async for _ in stream:
            pass
    home = home_of(request)
    stats = model.stats()
    assert (stats[home].input_tokens, stats[home].cached_tokens) == (20, 14)
    assert all(s.cached_tokens == 0 for name, s in stats.items() if name != home)


async def test_a_server_that_reports_no_cache_counts_none() -> None:
    members = replicas(cached=None)
    model = pool(members)
    await model.generate(turn("Tickets?", 0))
    assert sum(s.cached_tokens for s in model.stats().values()) == 0
    assert sum(s.input_tokens for s in model.stats().values()) == 10


async def test_embeddings_stay_least_outstanding() -> None:
    members = replicas()
    model = pool(members)
    for _ in range(6):
        await model.embed("the same text")
    assert [m.embeds for m in members] == [2, 2, 2]


async def test_least_outstanding_is_still_available() -> None:
    members = replicas()
    model = pool(members, balance="least_outstanding")
    for _ in range(6):
        await model.generate(turn("The same conversation", 0))
    assert [len(m.calls) for m in members] == [2, 2, 2]


async def test_order_without_a_request_is_least_outstanding() -> None:
    model = pool(replicas())
    assert model.order() == ["a", "b", "c"]
    assert model.order() == ["b", "c", "a"]


@pytest.mark.parametrize("balance", ["affinity", "least_outstanding"])
def test_order_refuses_what_is_not_a_request(balance: str) -> None:
    with pytest.raises(ConfigurationError, match=r"ReplicaPool\.order"):
        pool(replicas(), balance=balance).order("Hi")  # type: ignore[arg-type]


@pytest.mark.parametrize("balance", ["random", "", None, "Affinity"])
def test_an_unknown_balance_is_a_configuration_error(balance: object) -> None:
    with pytest.raises(ConfigurationError, match="balance must be 'affinity' or 'least_outstanding'"):
        pool(replicas(), balance=balance)


@pytest.mark.parametrize("factor", [0, -0.5, float("nan"), float("inf"), True, "0.25", None])
def test_a_load_factor_must_be_a_finite_number_above_zero(factor: object) -> None:
    with pytest.raises(ConfigurationError, match="load_factor must be a finite number greater than 0"):
        pool(replicas(), load_factor=factor)


def test_from_config_takes_pool_balance() -> None:
    urls = ["http://127.0.0.1:9801", "http://127.0.0.1:9802"]
    assert ReplicaPool.from_config(ServerConfig(model="phi", base_urls=urls)).balance == "affinity"
    config = ServerConfig(model="phi", base_urls=urls, pool_balance="least_outstanding")
    assert ReplicaPool.from_config(config).balance == "least_outstanding"
