"""Each CPU target measured as a paired comparison with its baseline.

The speed tables give each client's median over several runs, and one run takes tens of
seconds. On a shared or throttled machine the CPU one call costs drifts by a third over
that time (docs/performance.md shows runs of the same code at 1.42x, 1.17x and 0.97x), and a
ratio of two figures taken seconds apart carries the drift whole. Here the target case and
its baseline run back to back in short batches, A B then B A so that a steady drift cancels
within each pair, and the figure is the median of the per-pair ratios, with the middle half
of them to show how far one pair can be trusted. The verdict is taken on that median.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import measure
from clients import FACTORIES, Case


@dataclass(frozen=True)
class Target:
    """A case, the baseline it is held to, and the ratio it should not exceed."""

    kind: str
    case: str
    baseline: str
    limit: float


TARGETS = (
    Target("stream", "botticelli generate_stream", "httpx + httpx-sse + json.loads", 1.0),
    Target("gemini-stream", "botticelli gemini generate_stream", "httpx + httpx-sse + json.loads", 1.0),
    Target("whole", "botticelli generate", "raw httpx (post + json.loads)", 1.0),
)


async def _per_call(case: Case, server: measure.Server, calls: int, chunks: int) -> float:
    sample = await measure.load(case, server, calls, chunks)
    return sample.cpu_s / sample.calls


async def ratios(
    case: Case, baseline: Case, server: measure.Server, *, calls: int, pairs: int, chunks: int
) -> list[float]:
    """``pairs`` ratios of ``case``'s CPU per call to ``baseline``'s, each from adjacent batches."""
    out = []
    for i in range(pairs):
        if i % 2:
            mine = await _per_call(case, server, calls, chunks)
            theirs = await _per_call(baseline, server, calls, chunks)
        else:
            theirs = await _per_call(baseline, server, calls, chunks)
            mine = await _per_call(case, server, calls, chunks)
        out.append(mine / theirs)
    return out


def summary(target: Target, values: list[float]) -> dict[str, Any]:
    """The median ratio, its middle half, and how many pairs were within the limit."""
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
    """Every :data:`TARGETS` entry (of ``kinds``, if given) whose case and baseline both ran."""
    by_key = {(c.kind, c.name): c for c in cases}
    rows = []
    for target in TARGETS:
        if kinds is not None and target.kind not in kinds:
            continue
        case = by_key.get((target.kind, target.case))
        baseline = by_key.get((target.kind, target.baseline))
        if case is None or baseline is None:
            continue
        calls = batches.requests if target.kind == "whole" else batches.streams
        values = await ratios(case, baseline, server, calls=calls, pairs=batches.pairs, chunks=batches.chunks)
        rows.append(summary(target, values))
    return rows


# The adapters in clients.FACTORIES that the targets need; the other peers are not loaded.
ADAPTERS = ("httpx-sse", "raw-httpx", "botticelli", "botticelli-gemini")


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
