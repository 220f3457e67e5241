"""Client instructions per chunk and per request, counted by callgrind: ``python benchmarks/instructions.py``.

CPU seconds on a shared or throttled machine swing by a third from one run to the next;
instruction counts do not. Each case runs in a fresh interpreter under
``valgrind --tool=callgrind`` twice, with a small and a larger number of calls, and the
difference, divided by the extra chunks (or requests), is the cost of one: start-up,
imports and warm-up cancel out. The canned server runs outside valgrind.

Instructions are not time (a cache miss costs more than an add), so the CPU table of
``run.py`` stays the headline; this is the tie-breaker that does not move when the
machine does. Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import cast

import measure
import paired
from clients import (
    AIOHTTP_STREAM,
    AIOHTTP_WHOLE,
    FACTORIES,
    HXAIO_STREAM,
    HXAIO_WHOLE,
    Case,
    Client,
    StreamFn,
    WholeFn,
)
from report import TARGET_STARTUP

HERE = Path(__file__).resolve().parent
# (adapter, case name, kind): the baselines first, then aiohttp alone (the limit) and the
# earlier httpx baselines as peers, each botticelli case after them.
CASES = [
    ("hxaio", HXAIO_STREAM, "stream"),
    ("aiohttp", AIOHTTP_STREAM, "stream"),
    ("httpx-sse", "httpx + httpx-sse + json.loads", "stream"),
    ("botticelli", "botticelli generate_stream", "stream"),
    ("botticelli", "botticelli chat_completion_stream", "stream"),
    ("botticelli", "botticelli generate_stream, total_timeout=60s", "stream"),
    ("hxaio", HXAIO_STREAM, "gemini-stream"),
    ("aiohttp", AIOHTTP_STREAM, "gemini-stream"),
    ("httpx-sse", "httpx + httpx-sse + json.loads", "gemini-stream"),
    ("botticelli-gemini", "botticelli gemini generate_stream", "gemini-stream"),
    ("hxaio", HXAIO_WHOLE, "whole"),
    ("aiohttp", AIOHTTP_WHOLE, "whole"),
    ("raw-httpx", "raw httpx (post + json.loads)", "whole"),
    ("botticelli", "botticelli generate", "whole"),
    ("botticelli", "botticelli chat_completion", "whole"),
]
# The same baselines, limits and aiohttp-alone cases as the CPU targets, from where those are declared.
BASELINES = {t.kind: t.baseline for t in paired.TARGETS}
TARGETS = {t.case: t.limit for t in paired.TARGETS}
FLOORS = {t.floor for t in paired.TARGETS}
_WARM_UP = 4
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


async def _run_child(adapter: str, name: str, kind: str, base: str, calls: int) -> None:
    client: Client = FACTORIES[adapter](base)
    case: Case = next(c for c in client.cases if c.name == name and c.kind == kind)
    try:
        for _ in range(_WARM_UP):  # pools, caches, lazy imports
            await _once(case)
        for _ in range(calls):
            await _once(case)
    finally:
        await client.aclose()


async def _once(case: Case) -> None:
    if case.kind == "whole":
        await cast(WholeFn, case.fn)()
    else:
        await cast(StreamFn, case.fn)(None)


def _count(adapter: str, name: str, kind: str, base: str, calls: int) -> int:
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(HERE / "instructions.py"),
        "--child",
        adapter,
        name,
        kind,
        base,
        str(calls),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    match = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"{name}: callgrind failed: {done.stderr[-2000:]}")
    return int(match.group(1))


def _program_instructions(code: str) -> int:
    """Instructions of a whole fresh interpreter running ``code``, its bytecode already written."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    match = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"callgrind failed: {done.stderr[-2000:]}")
    return int(match.group(1))


def _print_startup() -> None:
    counts = {name: _program_instructions(code) for name, code in measure.STARTUP.items()}
    base = counts[measure.STARTUP_BASELINE]
    print("\nInstructions of a fresh interpreter running each start-up program, counted by callgrind.\n")
    print("| program | instructions | x baseline | target |")
    print("|---|---|---|---|")
    for name, count in counts.items():
        ratio = count / base
        verdict = ""
        if name.startswith("botticelli"):
            verdict = f"<= {TARGET_STARTUP:g}x: {'met' if ratio <= TARGET_STARTUP else 'MISSED'}"
        elif name == measure.STARTUP_FLOOR:
            verdict = "limit"
        print(f"| {name} | {count / 1e6:,.0f} M | {ratio:.2f}x | {verdict} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=64, help="content chunks per streamed reply")
    parser.add_argument("--streams", type=int, default=16, help="extra streams counted per case")
    parser.add_argument("--requests", type=int, default=64, help="extra whole requests counted per case")
    parser.add_argument(
        "--only", choices=sorted({*BASELINES, "startup"}), help="count only this kind of call, or start-up"
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        adapter, name, kind, base, calls = args.child
        asyncio.run(_run_child(adapter, name, kind, base, int(calls)))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    if args.only in (None, "startup"):
        _print_startup()
        if args.only == "startup":
            return

    rows: list[tuple[str, str, float]] = []
    with measure.canned_server(args.chunks) as server:
        for adapter, name, kind in CASES:
            if args.only and kind != args.only:
                continue
            extra = args.requests if kind == "whole" else args.streams
            try:
                small = _count(adapter, name, kind, server.base, 0)
                large = _count(adapter, name, kind, server.base, extra)
            except (RuntimeError, KeyError, StopIteration) as e:
                print(f"skipped {name} ({kind}): {e}", file=sys.stderr)
                continue
            per = (large - small) / (extra if kind == "whole" else extra * args.chunks)
            rows.append((kind, name, per))
            print(f"{kind:14} {name:48} {per:12,.0f}", file=sys.stderr)

    unit = {"stream": "chunk", "gemini-stream": "chunk", "whole": "request"}
    print(f"\nInstructions per chunk ({args.chunks}-chunk streams) and per whole request, counted by callgrind.\n")
    print("| kind | client | instructions | x baseline | target |")
    print("|---|---|---|---|---|")
    for kind, name, per in rows:
        base = next((p for k, n, p in rows if k == kind and n == BASELINES[kind]), None)
        ratio = per / base if base else float("nan")
        target = TARGETS.get(name)
        verdict = "limit" if name in FLOORS else ""
        if target is not None:
            verdict = f"<= {target:g}x: {'met' if ratio <= target else 'MISSED'}"
        print(f"| {kind} | {name} | {per:,.0f} per {unit[kind]} | {ratio:.2f}x | {verdict} |")


if __name__ == "__main__":
    main()
