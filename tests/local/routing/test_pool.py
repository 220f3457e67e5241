"""ReplicaPool: least-outstanding balancing, failover before the first chunk, ejection, health checks, stats.

Affinity balancing (the default) has its own tests in test_affinity_pool.py; these pools
balance by least outstanding, whose turns make the failover paths easy to reach.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx
import pytest
import respx

from botticelli import ReplicaPool
from botticelli_core import GenerateRequest, HealthStatus
from botticelli_error import (
    AllModelsFailedError,
    BadRequestError,
    BotticelliError,
    ServerUnavailableError,
    StreamInterruptedError,
    TransportError,
    UnsupportedInputError,
)
from botticelli_server import ServerConfig
from tests.local.hybrid.fakes import FakeModel, completion
from tests.local.hybrid.support import Clock, reasons
from tests.local.routing.test_fallback import Embedder

pytestmark = pytest.mark.anyio

REQUEST = GenerateRequest.from_prompt("Hi")


def pool(*replicas: FakeModel, clock: Clock | None = None, **options: object) -> ReplicaPool:
    options.setdefault("health_interval", None)
    options.setdefault("balance", "least_outstanding")
    return ReplicaPool(*replicas, eject_after=2, eject_cooldown=30, clock=clock or Clock(), **options)  # type: ignore[arg-type]


def three() -> tuple[FakeModel, FakeModel, FakeModel]:
    return FakeModel("r"), FakeModel("r"), FakeModel("r")


async def test_an_idle_pool_takes_turns() -> None:
    replicas = three()
    model = pool(*replicas)
    for _ in range(6):
        await model.generate(REQUEST)
    assert [len(r.calls) for r in replicas] == [2, 2, 2]
    assert [s.successes for s in model.stats().values()] == [2, 2, 2]


async def test_the_replica_with_fewest_requests_in_flight_is_chosen() -> None:
    a, b, c = three()
    model = pool(a, b, c)
    async with model.generate_stream(REQUEST) as held:
        await held.__anext__()
        assert [s.in_flight for s in model.stats().values()] == [1, 0, 0]
        for _ in range(4):
            await model.generate(REQUEST)
        assert a.calls == ["stream"]
        assert (len(b.calls), len(c.calls)) == (2, 2)
    assert [s.in_flight for s in model.stats().values()] == [0, 0, 0]


async def test_order_puts_the_busy_replica_last_and_rotates_ties() -> None:
    model = pool(*three(), names=["a", "b", "c"])
    assert model.order() == ["a", "b", "c"]
    assert model.order() == ["b", "c", "a"]
    model.members[2].in_flight = 1
    assert model.order() == ["a", "b", "c"]


async def test_a_request_on_a_dead_replica_moves_to_another(routes: pytest.LogCaptureFixture) -> None:
    a = FakeModel("r", failures=[TransportError("refused")])
    b = FakeModel("r")
    model = pool(a, b)
    assert (await model.generate(REQUEST)).text == "r"
    assert (a.calls, b.calls) == (["generate"], ["generate"])
    assert reasons(routes) == ["least_outstanding", "fallback:TransportError"]
    assert model.stats()["replica-1"].failures == 1


async def test_a_stream_that_had_not_started_moves_to_another_replica() -> None:
    a, b = FakeModel("r", failures=[StreamInterruptedError("reset")]), FakeModel("r")
    model = pool(a, b)
    async with model.generate_stream(REQUEST) as stream:
        assert [chunk.text async for chunk in stream] == ["r:1", "r:2", ""]
    assert b.calls == ["stream"]


async def read(model: ReplicaPool) -> None:
    async with model.generate_stream(REQUEST) as stream:
        async for _ in stream:
            pass


async def test_a_stream_that_had_started_fails_with_its_partial_text() -> None:
    a = FakeModel("r", fail_after_first_chunk=StreamInterruptedError("reset", partial_text="r:1"))
    b = FakeModel("r")
    model = pool(a, b)
    with pytest.raises(StreamInterruptedError) as raised:
        await read(model)
    assert raised.value.partial_text == "r:1"
    assert b.calls == []


async def test_a_bad_request_is_not_retried_on_another_replica() -> None:
    a, b = FakeModel("r", failures=[BadRequestError("bad")]), FakeModel("r")
    with pytest.raises(BadRequestError):
        await pool(a, b).generate(REQUEST)
    assert b.calls == []


async def test_when_every_replica_fails_the_error_names_each() -> None:
    down: list[BotticelliError | None] = [ServerUnavailableError("503")]
    model = pool(FakeModel("r", failures=list(down)), FakeModel("r", failures=list(down)))
    with pytest.raises(AllModelsFailedError) as raised:
        await model.generate(REQUEST)
    assert list(raised.value.errors) == ["replica-1", "replica-2"]
    assert raised.value.provider == "r"


async def test_consecutive_failures_eject_a_replica_until_a_trial_brings_it_back() -> None:
    clock = Clock()
    a = FakeModel("r", failures=[TransportError("refused")] * 2)
    b = FakeModel("r")
    model = pool(a, b, clock=clock)
    for _ in range(4):
        await model.generate(REQUEST)
    assert model.stats()["replica-1"].ejected
    assert model.stats()["replica-1"].breaker == "open"
    calls = len(a.calls)
    for _ in range(4):
        await model.generate(REQUEST)
    assert len(a.calls) == calls
    clock.now += 30
    for _ in range(4):
        await model.generate(REQUEST)
    assert len(a.calls) == calls + 2
    assert not model.stats()["replica-1"].ejected


async def test_a_failed_health_check_ejects_and_a_good_one_readmits(routes: pytest.LogCaptureFixture) -> None:
    a, b = FakeModel("r", ready=False), FakeModel("r")
    model = pool(a, b)
    statuses = await model.check_health()
    assert statuses["replica-1"].ready is False
    assert model.stats()["replica-1"].ejected
    for _ in range(3):
        await model.generate(REQUEST)
    assert a.calls == []
    a.ready = True
    await model.check_health()
    assert not model.stats()["replica-1"].ejected
    await model.generate(REQUEST)
    await model.generate(REQUEST)
    assert a.calls == ["generate"]
    events = [r.getMessage() for r in routes.records if "botticelli.replica" in r.getMessage()]
    assert "state='ejected'" in events[0]
    assert "state='readmitted'" in events[1]


async def test_an_entered_pool_checks_health_in_the_background() -> None:
    a, b = FakeModel("r", ready=False), FakeModel("r")
    async with ReplicaPool(a, b, health_interval=0.01) as model:
        assert await soon(lambda: model.stats()["replica-1"].ejected)
        a.ready = True
        assert await soon(lambda: not model.stats()["replica-1"].ejected)
    assert (a.closed, b.closed) == (1, 1)


async def soon(condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` holds within about five seconds (the health checks run every 10 ms)."""
    for _ in range(500):
        if condition():
            return True
        await anyio.sleep(0.01)
    return False


class Broken(FakeModel):
    async def health(self) -> HealthStatus:
        raise RuntimeError("health check bug")


async def test_a_health_round_that_raises_does_not_end_the_pool() -> None:
    async with ReplicaPool(Broken("r"), health_interval=0.01) as model:
        await anyio.sleep(0.05)
        assert (await model.generate(REQUEST)).text == "r"


async def test_health_reports_each_replica() -> None:
    model = pool(FakeModel("r", ready=False), FakeModel("r"), names=["a", "b"])
    health = await model.health()
    assert (health.ready, health.status) == (True, "degraded")
    assert {name: s.ready for name, s in (await model.replica_health()).items()} == {"a": False, "b": True}


async def test_embeddings_and_counts_fail_over_too() -> None:
    a, b = Embedder("r", failures=[TransportError("refused")]), Embedder("r")
    model = pool(a, b)
    assert (await model.embed(["x"])).vectors == [[1.0]]
    assert (await model.count_tokens(REQUEST)).input_tokens == 1
    with pytest.raises(UnsupportedInputError):
        await pool(FakeModel("r")).embed(["x"])
    with pytest.raises(UnsupportedInputError):
        await pool(FakeModel("r")).count_tokens(REQUEST)
    assert [m.id for m in await pool(FakeModel("r")).list_models()] == ["r-model"]


def test_a_pool_needs_replicas_and_one_name_each() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ReplicaPool()
    with pytest.raises(ValueError, match="1 names for 2"):
        ReplicaPool(FakeModel("a"), FakeModel("b"), names=["a"])


async def test_a_pool_of_servers_from_one_config_fails_over_a_refused_connection() -> None:
    config = ServerConfig(
        model="phi",
        base_urls=["http://127.0.0.1:9801/v1", "http://127.0.0.1:9802"],
        max_retries=0,
        health_check_interval=None,
        eject_after=2,
        pool_balance="least_outstanding",
    )
    with respx.mock(using="httpx") as router:
        dead = router.post("http://127.0.0.1:9801/v1/chat/completions").mock(side_effect=httpx.ConnectError("refused"))
        alive = router.post("http://127.0.0.1:9802/v1/chat/completions").mock(
            return_value=httpx.Response(200, json=completion("hello"))
        )
        async with ReplicaPool.from_config(config) as model:
            texts = [(await model.generate(REQUEST)).text for _ in range(4)]
            stats = model.stats()
    assert texts == ["hello"] * 4
    assert (dead.call_count, alive.call_count) == (2, 4)
    assert stats["http://127.0.0.1:9801"].failures == 2
    assert stats["http://127.0.0.1:9801"].ejected
    assert stats["http://127.0.0.1:9802"].successes == 4


async def test_a_pool_inside_an_entered_chain_runs_its_health_checks() -> None:
    from botticelli import FallbackModel  # noqa: PLC0415 - only this test needs the chain

    a = FakeModel("r", ready=False)
    inner = ReplicaPool(a, FakeModel("r"), health_interval=0.01)
    async with FallbackModel(inner, FakeModel("api")):
        assert await soon(lambda: inner.stats()["replica-1"].ejected)
    assert a.closed == 1
