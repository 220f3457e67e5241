"""Compare botticelli with its peers on one canned server: ``python benchmarks/run.py``.

Every client talks to the same out-of-process canned server in the same run, at the
same concurrency, and each figure is the median of ``--runs`` runs (the clients take
turns within each run, so drift on the machine spreads over all of them). Ratios are
against hxaio (httpx on httpx-aiohttp's transport, + httpx-sse + json.loads for streams),
the targets' baseline; aiohttp alone is printed beside each target as its limit.
The last section (benchmarks/affinity.py) leaves the canned server: it starts three real
llama-cpp-python servers on the tiny model and compares a replica pool's two balances.
Nothing here fails on a timing: a benchmark reports, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import affinity
import batch
import measure
import paired
import report
from clients import FACTORIES, HXAIO_STREAM, HXAIO_WHOLE, Case, Client

STREAM_BASELINE = HXAIO_STREAM
WHOLE_BASELINE = HXAIO_WHOLE
MEMORY_BASELINE = "hxaio"  # keys of clients.FACTORIES
MEMORY_FLOOR = "aiohttp"
HEAVY_IMPORTS = ("openai", "litellm")
# The paced streams: one event per write, this far apart (a token-by-token server, faster
# than any real one so that a run stays short, but slow enough that each event is a read).
PACE_MS = 0.5
# Runs per balance of the cache-affinity section (benchmarks/affinity.py), alternating; fewer with --runs.
AFFINITY_REPEATS = 3
IMPORTS = (
    "httpx",
    "httpx_sse",
    "aiohttp",
    "httpx_aiohttp",
    "botticelli",
    "botticelli_server",
    "botticelli_gemini",
    "openai",
    "litellm",
)


@dataclass(frozen=True)
class Sizes:
    """How much work each figure gets."""

    runs: int
    streams: int  # per case per run, at 16 at once
    requests: int  # non-streamed, per case per run
    ttft: int  # sequential streams per case per run
    import_runs: int
    heavy_import_runs: int  # for peers that take seconds to import; 0 skips them
    memory: tuple[tuple[str, int], ...]  # (client, streams held open at once)
    batch: int  # requests per generate_many / gather run
    pairs: int  # paired target comparisons (benchmarks/paired.py); 0 skips them
    pair_streams: int  # streams per batch of a pair
    pair_requests: int  # non-streamed requests per batch of a pair


FULL = Sizes(
    runs=5,
    streams=64,
    requests=1024,  # non-streamed runs vary by ±30% at 256 calls
    ttft=8,
    import_runs=5,
    heavy_import_runs=2,
    memory=(
        ("httpx-sse", 1000),
        (MEMORY_BASELINE, 1000),
        (MEMORY_FLOOR, 1000),
        ("botticelli", 250),
        ("botticelli", 500),
        ("botticelli", 1000),
    ),
    batch=1024,
    pairs=20,
    pair_streams=32,
    pair_requests=256,
)
QUICK = Sizes(
    runs=2,
    streams=16,
    requests=48,
    ttft=4,
    import_runs=3,
    heavy_import_runs=0,
    memory=((MEMORY_BASELINE, 250), (MEMORY_FLOOR, 250), ("botticelli", 250)),
    batch=256,
    pairs=4,
    pair_streams=16,
    pair_requests=64,
)


def build_clients(base: str) -> list[Client]:
    """Every client that can be imported here; the others are skipped with the reason."""
    clients = []
    for key, factory in FACTORIES.items():
        try:
            clients.append(factory(base))
        except Exception as e:  # an optional peer missing must not stop the others
            print(f"skipped {key}: {type(e).__name__}: {e}")
    return clients


async def speed(base: str, server: measure.Server, sizes: Sizes, chunks: int) -> dict[str, Any]:
    """CPU, throughput and first-chunk latency for every case, medians over the runs."""
    clients = build_clients(base)
    cases: list[Case] = [c for client in clients for c in client.cases]
    samples: dict[int, list[measure.Sample]] = {i: [] for i in range(len(cases))}
    ttfts: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    failed: set[int] = set()
    client_cpu, server_cpu = time.process_time(), server.cpu()
    targets: list[dict[str, Any]] = []
    try:
        for i, case in enumerate(cases):  # warm-up: imports, pools, caches
            try:
                await measure.load(case, server, measure.CONCURRENCY, chunks)
            except Exception as e:
                print(f"skipped {case.name} ({case.kind}): {type(e).__name__}: {e}")
                failed.add(i)
        for run in range(sizes.runs):
            started = time.perf_counter()
            order = [i for i in range(len(cases)) if i not in failed]
            shift = run % len(order)
            for i in order[shift:] + order[:shift]:
                case = cases[i]
                n = max(
                    measure.CONCURRENCY,
                    round((sizes.requests if case.kind == "whole" else sizes.streams) * case.weight),
                )
                samples[i].append(await measure.load(case, server, n, chunks))
                if case.kind != "whole":
                    ttfts[i] += await measure.first_chunk_latency(case, max(2, round(sizes.ttft * case.weight)))
            print(f"run {run + 1}/{sizes.runs}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        if sizes.pairs:
            started = time.perf_counter()
            targets = await paired.measure_targets(
                [c for i, c in enumerate(cases) if i not in failed], server, pair_batches(sizes, chunks)
            )
            print(f"paired targets: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    finally:
        for client in clients:
            await client.aclose()
    client_cpu, server_cpu = time.process_time() - client_cpu, server.cpu() - server_cpu
    out: dict[str, Any] = {
        "stream": [],
        "gemini-stream": [],
        "whole": [],
        "server_cpu_share": server_cpu / client_cpu,
        "targets": targets,
    }
    for i, case in enumerate(cases):
        if i in failed:
            continue
        s = samples[i]
        if case.kind == "whole":
            out["whole"].append(
                {
                    "name": case.name,
                    "cpu_us_per_request": statistics.median(x.cpu_s / x.calls for x in s) * 1e6,
                    "requests_per_s": statistics.median(x.calls / x.wall_s for x in s),
                    "server_us_per_request": statistics.median(x.server_cpu_s / x.calls for x in s) * 1e6,
                    "calls_per_run": s[0].calls,
                }
            )
        else:
            out[case.kind].append(
                {
                    "name": case.name,
                    "cpu_us_per_chunk": statistics.median(x.cpu_s / (x.calls * chunks) for x in s) * 1e6,
                    "chunks_per_s": statistics.median(x.calls * chunks / x.wall_s for x in s),
                    "streams_per_s": statistics.median(x.calls / x.wall_s for x in s),
                    "ttft_ms": statistics.median(ttfts[i]) * 1e3,
                    "server_us_per_chunk": statistics.median(x.server_cpu_s / (x.calls * chunks) for x in s) * 1e6,
                    "streams_per_run": s[0].calls,
                }
            )
    return out


def imports(sizes: Sizes) -> list[dict[str, Any]]:
    """Cold import times of botticelli and the peers' top-level modules."""
    rows = []
    for module in IMPORTS:
        runs = sizes.heavy_import_runs if module in HEAVY_IMPORTS else sizes.import_runs
        if not runs:
            continue
        try:
            median, spread = measure.import_time(module, runs)
        except Exception as e:
            print(f"skipped import {module}: {type(e).__name__}: {e}")
            continue
        rows.append({"module": module, "ms": median * 1e3, "spread_ms": spread * 1e3})
    return rows


def memory(base: str, sizes: Sizes, chunks: int) -> list[dict[str, Any]]:
    """Many streams held open at once on one client, each in a fresh interpreter."""
    rows: list[dict[str, Any]] = []
    for key, streams in sizes.memory:
        try:
            rows.append({"client": key, **measure.memory(key, base, streams, chunks)})
        except Exception as e:
            print(f"skipped memory {key} x{streams}: {type(e).__name__}: {e}")
    return rows


def first_answer(base: str, sizes: Sizes) -> dict[str, dict[str, float]]:
    """A script's first answer for botticelli and its peers, each run in fresh interpreters."""
    try:
        return measure.first_answer(base, max(sizes.import_runs * 2, 6))
    except Exception as e:  # botticelli mid-edit, or a peer missing, must not lose the rest
        print(f"skipped first answer: {type(e).__name__}: {e}")
        return {}


def cache_affinity(sizes: Sizes) -> list[dict[str, Any]]:
    """A replica pool over three real llama-cpp-python servers, with and without cache affinity."""
    try:
        return affinity.compare(max(2, min(sizes.runs, AFFINITY_REPEATS)))
    except Exception as e:  # a server that does not start must not lose the other sections
        print(f"skipped affinity: {type(e).__name__}: {e}")
        return []


def paired_targets(
    sizes: Sizes, chunks: int, *, pace_ms: float = 0.0, kinds: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """The paired targets (of ``kinds``) alone, on a canned server of their own."""
    with measure.canned_server(chunks, pace_ms=pace_ms) as server:
        return asyncio.run(paired.targets_only(server.base, server, pair_batches(sizes, chunks), kinds))


def pair_batches(sizes: Sizes, chunks: int) -> paired.Batches:
    """What each paired comparison runs, at these sizes."""
    return paired.Batches(streams=sizes.pair_streams, requests=sizes.pair_requests, pairs=sizes.pairs, chunks=chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--runs", type=int, help="runs per figure (median reported); default 5, quick 2")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a rough picture in under a minute")
    parser.add_argument("--chunks", type=int, default=256, help="content chunks per streamed reply")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["speed", "paced", "imports", "memory", "batch", "first-answer", "affinity"],
    )
    parser.add_argument(
        "--targets-only", action="store_true", help="only the CPU targets, each paired with its baseline"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.runs:
        sizes = Sizes(**{**sizes.__dict__, "runs": args.runs})

    info = report.machine()
    report.print_machine(info)
    results: dict[str, Any] = {"machine": info, "sizes": sizes.__dict__, "chunks": args.chunks}
    print(f"Concurrency {measure.CONCURRENCY}, {args.chunks} chunks per stream, median of {sizes.runs} runs.\n")
    if args.targets_only:
        rows = paired_targets(sizes, args.chunks)
        report.print_targets(rows)
        if args.json:
            args.json.write_text(json.dumps({**results, "targets": rows}, indent=2) + "\n")
        return
    with measure.canned_server(args.chunks) as server:
        if "speed" not in args.skip:
            results["speed"] = asyncio.run(speed(server.base, server, sizes, args.chunks))
        if "memory" not in args.skip:
            results["memory"] = memory(server.base, sizes, args.chunks)
        if "batch" not in args.skip:
            results["batch"] = asyncio.run(
                batch.compare(server.base, runs=sizes.runs, requests=sizes.batch, concurrency=measure.CONCURRENCY)
            )
        if "first-answer" not in args.skip:
            results["first_answer"] = first_answer(server.base, sizes)
    if "paced" not in args.skip and sizes.pairs:
        results["paced"] = paired_targets(sizes, args.chunks, pace_ms=PACE_MS, kinds=("stream", "gemini-stream"))
    if "imports" not in args.skip:
        results["imports"] = imports(sizes)
        results["startup"] = measure.startup_cpu(max(sizes.import_runs * 2, 6))
    if "affinity" not in args.skip:
        results["affinity"] = cache_affinity(sizes)

    print()
    verdicts: list[report.TargetRow] = []
    if "speed" in results:
        share = results["speed"]["server_cpu_share"]
        print(f"The canned server used {share:.1%} of the client's CPU time over the speed runs.\n")
        report.print_streaming(results["speed"]["stream"], "Streamed chat completion", STREAM_BASELINE)
        report.print_whole(results["speed"]["whole"], WHOLE_BASELINE)
        if len(results["speed"]["gemini-stream"]) > 1:
            report.print_streaming(
                results["speed"]["gemini-stream"], "Streamed Gemini generateContent", STREAM_BASELINE
            )
        verdicts += report.print_targets(results["speed"]["targets"])
    if "paced" in results:
        verdicts += report.print_targets(
            results["paced"],
            "Streams paced like a server writing token by token, paired with their baselines",
            f"The same streams, written one event per write, {PACE_MS:g} ms apart: each event is a"
            " socket read of its own, as from a real server. The targets are the unpaced ones'; the limit"
            " is aiohttp alone on the same paced streams.",
            "CPU per call, paced",
        )
    if "imports" in results:
        report.print_imports(results["imports"], "httpx_sse")
        verdicts += report.print_startup(results["startup"], measure.STARTUP_BASELINE, measure.STARTUP_FLOOR)
    if results.get("first_answer"):
        verdicts += report.print_first_answer(
            results["first_answer"], measure.FIRST_ANSWER_BASELINE, measure.FIRST_ANSWER_FLOOR
        )
    if "memory" in results:
        verdicts += report.print_memory(results["memory"], MEMORY_BASELINE, MEMORY_FLOOR)
    if "batch" in results:
        report.print_batch(results["batch"], batch.GATHER)
    if "affinity" in results:
        report.print_affinity(results["affinity"])
    report.print_summary(verdicts)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
