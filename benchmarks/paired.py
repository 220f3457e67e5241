"""Each CPU target measured as a paired comparison with its baseline.

The speed tables give each client's median over several runs, and one run takes tens of
seconds. On a shared or throttled machine the CPU one call costs drifts by a third over
that time (docs/performance.md shows runs of the same code at 1.42x, 1.17x and 0.97x), and a
ratio of two figures taken seconds apart carries the drift whole. Here the target case and
its baseline run back to back in short batches, A B then B A so that a steady drift cancels
within each pair, and the figure is the median of the per-pair ratios, with the middle half
of them to show how far one pair can be trusted. The verdict is taken on that median.

Each target also names the same call on aiohttp alone, its limit: that runs in the same
batches (baseline, case, limit, then limit, case, baseline), so its ratio to the baseline
comes from the same pairs and shows how far below the target a client on aiohttp could go.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import measure
from clients import AIOHTTP_STREAM, AIOHTTP_WHOLE, FACTORIES, HXAIO_STREAM, HXAIO_WHOLE, Case


@dataclass(frozen=True)
class Target:
    """A case, the baseline it is held to, the ratio it should not exceed, and its limit."""

    kind: str
    case: str
    baseline: str
    limit: float
    floor: str | None = None
    """The same call on aiohttp alone: measured with the pairs, printed as the limit, never judged."""


# Issue 23: held to httpx on httpx-aiohttp's transport (what the openai SDK's aiohttp client gives).
TARGETS = (
    Target("stream", "botticelli generate_stream", HXAIO_STREAM, 1.0, AIOHTTP_STREAM),
    Target("gemini-stream", "botticelli gemini generate_stream", HXAIO_STREAM, 1.0, AIOHTTP_STREAM),
    Target("whole", "botticelli generate", HXAIO_WHOLE, 1.3, AIOHTTP_WHOLE),
)


async def _per_call(case: Case, server: measure.Server, calls: int, chunks: int) -> float:
    sample = await measure.load(case, server, calls, chunks)
    return sample.cpu_s / sample.calls


async def ratios(
    case: Case,
    baseline: Case,
    server: measure.Server,
    *,
    floor: Case | None = None,
    calls: int,
    pairs: int,
    chunks: int,
) -> tuple[list[float], list[float]]:
    """``pairs`` ratios of ``case``'s CPU per call to ``baseline``'s, each from adjacent batches.

    And as many of ``floor``'s (none without one), from the same batches of the baseline.
    The order turns round from pair to pair, so each case's mean place is the baseline's.
    """
    batch = [baseline, case] if floor is None else [baseline, case, floor]
    mine, floors = [], []
    for i in range(pairs):
        per_call = [0.0] * len(batch)
        for j in reversed(range(len(batch))) if i % 2 else range(len(batch)):
            per_call[j] = await _per_call(batch[j], server, calls, chunks)
        mine.append(per_call[1] / per_call[0])
        if floor is not None:
            floors.append(per_call[2] / per_call[0])
    return mine, floors


def summary(target: Target, values: list[float], floors: list[float]) -> dict[str, Any]:
    """The median ratio, its middle half, how many pairs were within the limit; the floor's median."""
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {
        "case": target.case,
        "baseline": target.baseline,
        "limit": target.limit,
        "pairs": len(values),
        "median": median,
        "q1": q1,
        "q3": q3,
        "within": sum(1 for v in values if v <= target.limit),
        "floor": target.floor if floors else None,
        "floor_median": statistics.median(floors) if floors else None,
    }


@dataclass(frozen=True)
class Batches:
    """How much the pairs run: streams or requests per batch, pairs per target, chunks per stream."""

    streams: int
    requests: int
    pairs: int
    chunks: int


async def measure_targets(
    cases: list[Case], server: measure.Server, batches: Batches, kinds: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """Every :data:`TARGETS` entry (of ``kinds``, if given) whose case and baseline both ran.

    Its limit is measured with it where that ran too.
    """
    by_key = {(c.kind, c.name): c for c in cases}
    rows = []
    for target in TARGETS:
        if kinds is not None and target.kind not in kinds:
            continue
        case = by_key.get((target.kind, target.case))
        baseline = by_key.get((target.kind, target.baseline))
        if case is None or baseline is None:
            continue
        floor = by_key.get((target.kind, target.floor)) if target.floor else None
        calls = batches.requests if target.kind == "whole" else batches.streams
        values, floors = await ratios(
            case, baseline, server, floor=floor, calls=calls, pairs=batches.pairs, chunks=batches.chunks
        )
        rows.append(summary(target, values, floors))
    return rows


# The adapters in clients.FACTORIES that the targets need; the other peers are not loaded.
ADAPTERS = ("hxaio", "aiohttp", "botticelli", "botticelli-gemini")


async def targets_only(
    base: str, server: measure.Server, batches: Batches, kinds: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """The paired targets alone (``just bench --targets-only``): a few minutes, no peer tables."""
    clients = [FACTORIES[key](base) for key in ADAPTERS]
    try:
        cases = [c for client in clients for c in client.cases if kinds is None or c.kind in kinds]
        for case in cases:  # warm-up: imports, pools, caches
            await measure.load(case, server, measure.CONCURRENCY, batches.chunks)
        return await measure_targets(cases, server, batches, kinds)
    finally:
        for client in clients:
            await client.aclose()
