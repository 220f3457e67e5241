"""A replica pool over three real llama.cpp servers: spread, one killed mid-run, the same one back; affinity.

Three ``llama_cpp.server`` processes serve the tiny model on loopback. About thirty
requests (generations and streams, three at a time) go through one
:class:`~botticelli.routing.ReplicaPool`; after the first ten, one server is killed with
SIGKILL. No request that had not started streaming may be lost: each one either answers or,
only if it is a stream that had delivered text, fails with that text. The killed server is
then started again on its port, and the pool's health checks must re-admit it.

With affinity balancing (the default), the turns of one conversation (the same opening,
a growing history) must all land on one replica, and different conversations must not all
land on the same one.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from botticelli.routing import ReplicaPool
from botticelli_core import GenerateRequest, Message
from botticelli_error import StreamError
from botticelli_server import ServerClient
from botticelli_server.launcher import InferenceServer
from tests.api._engine import tiny_llama_server

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("llama_cpp_server"), pytest.mark.anyio]

REQUESTS = 30
KILL_AFTER = 10
CONCURRENCY = 3
PROMPT = GenerateRequest.from_prompt("Count to five.", max_tokens=8, temperature=0.0)


async def start_all(servers: list[InferenceServer]) -> None:
    """Start every server at once: each loads the model on its own, so in parallel it takes the time of one."""
    async with anyio.create_task_group() as group:
        for server in servers:
            group.start_soon(server.start)


def client_of(server: InferenceServer) -> ServerClient:
    # No retries on the same replica: the pool's failover is the retry.
    return ServerClient(server.config.model_copy(update={"max_retries": 0}))


async def within(seconds: float, condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` holds within ``seconds`` (polled every 100 ms, as the health checks run)."""
    for _ in range(int(seconds * 10)):
        if condition():
            return True
        await anyio.sleep(0.1)
    return condition()


class Outcomes:
    """What each request of the run became."""

    def __init__(self) -> None:
        self.answered = 0
        self.cut_streams: list[StreamError] = []
        self.lost: list[BaseException] = []
        self.done = 0


async def one_request(pool: ReplicaPool, index: int, outcomes: Outcomes) -> None:
    stream = index % 3 == 0
    delivered = False
    try:
        if stream:
            async with pool.generate_stream(PROMPT) as chunks:
                async for chunk in chunks:
                    delivered = delivered or bool(chunk.text)
        else:
            await pool.generate(PROMPT)
        outcomes.answered += 1
    except StreamError as exc:
        # Allowed only for a stream whose caller already held text from the dead replica.
        (outcomes.cut_streams if delivered and exc.partial_text else outcomes.lost).append(exc)
    except Exception as exc:  # any other failure is a lost request, reported by the test
        outcomes.lost.append(exc)
    finally:
        outcomes.done += 1


async def run(pool: ReplicaPool, victim: InferenceServer, outcomes: Outcomes) -> None:
    limiter = anyio.Semaphore(CONCURRENCY)
    killed = anyio.Event()

    async def guarded(index: int) -> None:
        async with limiter:
            await one_request(pool, index, outcomes)
        # The kill waits until every replica has answered once: a fresh server's first answer is
        # slower than the others' tenth, and killing it before then would test nothing of spread.
        served = all(s.successes > 0 for s in pool.stats().values())
        if outcomes.done >= KILL_AFTER and served and not killed.is_set():
            killed.set()
            assert victim.pid is not None
            os.killpg(victim.pid, signal.SIGKILL)

    async with anyio.create_task_group() as group:
        for index in range(REQUESTS):
            group.start_soon(guarded, index)


async def test_three_replicas_share_the_load_survive_a_kill_and_readmit_it(tiny_model: Path) -> None:
    servers = [tiny_llama_server(tiny_model) for _ in range(3)]
    try:
        with anyio.fail_after(240):
            await start_all(servers)
        # One answer from each first: a fresh server's first answer takes far longer than its
        # next ones, long enough for the others to finish the whole run before it replies.
        for server in servers:
            async with client_of(server) as warm:
                await warm.generate(PROMPT)
        victim = servers[1]
        port = victim.port
        # Least outstanding: every request here is the same prompt, which affinity would keep on
        # one replica; this test is about spreading load and surviving a kill.
        pool = ReplicaPool(
            *(client_of(s) for s in servers),
            eject_after=2,
            eject_cooldown=60.0,
            health_interval=0.5,
            balance="least_outstanding",
        )
        async with pool:
            victim_name = list(pool.stats())[1]
            outcomes = Outcomes()
            with anyio.fail_after(240):
                await run(pool, victim, outcomes)
            stats = pool.stats()
            assert outcomes.lost == [], f"requests lost: {outcomes.lost!r}"
            assert outcomes.answered + len(outcomes.cut_streams) == REQUESTS
            assert all(s.successes > 0 for s in stats.values()), stats
            # Requests did meet the dead replica, and were moved to the others.
            assert stats[victim_name].failures > 0, stats
            assert await within(10, lambda: pool.stats()[victim_name].ejected)

            await victim.stop()
            revived = tiny_llama_server(tiny_model, port=port)
            servers[1] = revived
            with anyio.fail_after(240):
                await revived.start()
            assert await within(30, lambda: not pool.stats()[victim_name].ejected)
            before = pool.stats()[victim_name].successes
            for _ in range(6):
                await pool.generate(PROMPT)
            assert pool.stats()[victim_name].successes > before
    finally:
        with anyio.CancelScope(shield=True):
            for server in servers:
                await server.stop()


SYSTEM = Message.system("You are a terse assistant for a railway company. Answer in one short line.")


def served_by(pool: ReplicaPool, before: dict[str, int]) -> str:
    """The one replica whose successes grew since ``before``."""
    grown = [name for name, s in pool.stats().items() if s.successes > before[name]]
    assert len(grown) == 1, grown
    return grown[0]


def successes(pool: ReplicaPool) -> dict[str, int]:
    return {name: s.successes for name, s in pool.stats().items()}


async def test_a_conversation_stays_on_one_replica_and_conversations_spread(tiny_model: Path) -> None:
    servers = [tiny_llama_server(tiny_model) for _ in range(3)]
    try:
        with anyio.fail_after(240):
            await start_all(servers)
        pool = ReplicaPool(*(client_of(s) for s in servers), health_interval=None)
        assert pool.balance == "affinity"
        async with pool:
            # One conversation, five turns, one after another, streams and generations mixed.
            messages = [SYSTEM, Message.user("When does the first train to Lyon leave?")]
            homes = []
            for turn in range(5):
                request = GenerateRequest(messages=messages, max_tokens=6, temperature=0.0)
                before = successes(pool)
                if turn % 2:
                    async with pool.generate_stream(request) as chunks:
                        text = "".join([chunk.text async for chunk in chunks])
                else:
                    text = (await pool.generate(request)).text
                homes.append(served_by(pool, before))
                messages = [*messages, Message.assistant(text or "..."), Message.user(f"And the one after {turn}?")]
            assert len(set(homes)) == 1, homes

            # Twelve conversations under the same system prompt: the ring spreads them (all twelve
            # on one of three replicas has odds of 3 / 3**12, about 1 in 177,000).
            others = []
            for n in range(12):
                request = GenerateRequest(
                    messages=[SYSTEM, Message.user(f"Question {n}: is platform {n} open?")], max_tokens=4
                )
                before = successes(pool)
                await pool.generate(request)
                others.append(served_by(pool, before))
            assert len(set(others)) >= 2, others
            stats = pool.stats()
            print(
                "affinity run:",
                {name: (s.successes, s.input_tokens, s.cached_tokens) for name, s in stats.items()},
            )
    finally:
        with anyio.CancelScope(shield=True):
            for server in servers:
                await server.stop()
