"""``generate_many`` against a plain ``asyncio.gather`` loop with a semaphore, on the canned server.

Both send the same non-streamed requests through one ``ServerClient`` at the same
concurrency (and, to isolate what the orchestration itself costs, through a model that
answers at once without any I/O); the loop is what a user writes by hand (a semaphore around
``client.generate``, ``return_exceptions=True`` so one failure does not lose the rest).
The figures are client CPU per request and requests per second, medians over the runs,
the two taking turns within each run. A benchmark reports, it does not judge.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from botticelli import generate_many
from botticelli_core import FinishReason, GenerateRequest, GenerateResponse, TextOutput
from botticelli_interface import ChunkStream, GenerativeModel
from botticelli_server import ServerClient, ServerConfig

GATHER = "asyncio.gather + Semaphore"
MANY = "botticelli generate_many"

Runner = Callable[[GenerativeModel, list[GenerateRequest], int], Awaitable[int]]


class Instant:
    """A model that answers every request at once, after one trip through the event loop."""

    provider_name = "instant"
    model_name = "instant"
    _answer = GenerateResponse(outputs=[TextOutput(text="ok")], finish_reason=FinishReason.STOP)

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        await asyncio.sleep(0)
        return self._answer

    def generate_stream(self, request: GenerateRequest) -> ChunkStream:
        raise NotImplementedError


async def with_gather(client: GenerativeModel, requests: list[GenerateRequest], concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)

    async def one(request: GenerateRequest) -> object:
        async with gate:
            return await client.generate(request)

    results = await asyncio.gather(*(one(r) for r in requests), return_exceptions=True)
    return sum(not isinstance(r, BaseException) for r in results)


async def with_generate_many(client: GenerativeModel, requests: list[GenerateRequest], concurrency: int) -> int:
    results = await generate_many(client, requests, concurrency=concurrency)
    return sum(r.ok for r in results)


RUNNERS: dict[str, Runner] = {GATHER: with_gather, MANY: with_generate_many}


async def compare(base: str, *, runs: int, requests: int, concurrency: int) -> list[dict[str, Any]]:
    """CPU µs per request and requests/s of each runner, medians over ``runs``: canned server, then instant model."""
    async with ServerClient(ServerConfig(base_url=base, model="canned", max_retries=0)) as client:
        served = await _measure(client, runs=runs, requests=requests, concurrency=concurrency, label="")
    # Ten times the requests: each costs microseconds, and the figure needs a measurable run.
    instant = await _measure(
        Instant(), runs=runs, requests=requests * 10, concurrency=concurrency, label=" (instant model)"
    )
    return served + instant


async def _measure(
    model: GenerativeModel, *, runs: int, requests: int, concurrency: int, label: str
) -> list[dict[str, Any]]:
    work = [GenerateRequest.from_prompt(f"prompt {i}", max_tokens=16) for i in range(requests)]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in RUNNERS}
    for runner in RUNNERS.values():  # warm-up: the pool, imports, caches
        await runner(model, work[: concurrency * 2], concurrency)
    for run in range(runs):
        names = list(RUNNERS)
        for name in names[run % 2 :] + names[: run % 2]:
            gc.collect()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            done = await RUNNERS[name](model, work, concurrency)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            if done != requests:
                raise RuntimeError(f"{name}: {done} of {requests} requests succeeded")
            samples[name].append((cpu / requests, requests / wall))
    return [
        {
            "name": name + label,
            "cpu_us_per_request": statistics.median(s[0] for s in rows) * 1e6,
            "requests_per_s": statistics.median(s[1] for s in rows),
            "requests": requests,
            "concurrency": concurrency,
        }
        for name, rows in samples.items()
    ]
