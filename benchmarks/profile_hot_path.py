"""Profile one streaming path under pyinstrument: ``python benchmarks/profile_hot_path.py``.

Runs the chosen case (botticelli ``generate_stream`` by default) against the canned
server at the benchmark's concurrency, then prints where the time went: the busiest
functions by their own time, and the time per chunk by package (botticelli, httpx,
httpcore, h11, aiohttp, pydantic, asyncio...), which says which layer to make leaner.

Cases are matched by name: ``--case chat_completion_stream``, ``--case hxaio`` (the
baseline, for comparison), ``--case "aiohttp alone"`` (the limit), ``--case openai``. Uses
pyinstrument only: this file's name shadows the standard ``profile`` module that cProfile
imports.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer

import measure
from clients import FACTORIES, Case, Client, StreamFn, WholeFn

# httpx's own packages after the others whose names start with "httpx_", which would match it.
PACKAGES = (
    "botticelli",
    "httpx_sse",
    "httpx_aiohttp",
    "httpx",
    "httpcore",
    "h11",
    "aiohttp",
    "pydantic",
    "anyio",
    "asyncio",
    "json",
    "openai",
)


def _find(base: str, wanted: str) -> tuple[Case, list[Client]]:
    """The case named exactly ``wanted``, else the first whose name contains it."""
    found: list[Case] = []
    clients: list[Client] = []
    for factory in FACTORIES.values():
        try:
            client = factory(base)
        except Exception as e:  # a peer that cannot be imported cannot match; say why
            print(f"skipped {factory.__name__}: {type(e).__name__}: {e}")
            continue
        clients.append(client)
        found += [case for case in client.cases if wanted in case.name]
    exact = [case for case in found if case.name == wanted]
    if not found:
        raise SystemExit(f"no case matches {wanted!r}")
    return (exact or found)[0], clients


def _package(path: str | None) -> str:
    if not path:
        return "other"
    parts = Path(path).parts
    for name in PACKAGES:
        if any(p == name or p.startswith(f"{name}_") or p == f"{name}.py" for p in parts):
            return "botticelli" if name == "botticelli" else name
    return "benchmark" if "benchmarks" in parts else "other"


def _self_times(
    frame: Any, packages: dict[str, float], functions: dict[str, float], inherited: str, caller: str
) -> None:
    """Each frame's own time (its time less its children's), by package and by function.

    pyinstrument keeps a function's own time in a synthetic ``[self]`` child; that, and
    built-ins such as ``json.loads``, are charged to the calling function and package.
    """
    path = frame.file_path or ""
    synthetic = frame.is_synthetic or not path or path.startswith("<")
    own = inherited if synthetic else _package(path)
    key = caller if frame.is_synthetic else f"{frame.function}  ({frame.file_path_short}:{frame.line_no})"
    children = list(frame.children)
    mine = frame.time - sum(c.time for c in children)
    packages[own] += mine
    functions[key] += mine
    for child in children:
        _self_times(child, packages, functions, own, key)


async def _run(case: Case, calls: int, chunks: int, profiler: Profiler) -> float:
    """CPU seconds of one unprofiled pass, then the same pass under the profiler."""
    per_worker = max(1, calls // measure.CONCURRENCY)

    async def call() -> None:
        if case.kind == "whole":
            await cast(WholeFn, case.fn)()
            return
        got, _ = await cast(StreamFn, case.fn)(None)
        if got != chunks:
            raise measure.WrongAnswer(f"{case.name}: {got} chunks, expected {chunks}")

    async def worker() -> None:
        for _ in range(per_worker):
            await call()

    await call()  # connections and caches warm before either pass

    async def one_pass() -> None:
        async with asyncio.TaskGroup() as tg:
            for _ in range(measure.CONCURRENCY):
                tg.create_task(worker())

    cpu = time.process_time()
    await one_pass()
    cpu = time.process_time() - cpu
    # Started from inside the loop, the profiler still samples every task's stack, since
    # each one runs under the same event loop frame.
    profiler.start()
    await one_pass()
    profiler.stop()
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="botticelli generate_stream", help="a case name, or part of one")
    parser.add_argument("--calls", type=int, default=64, help="streams (or whole requests) per pass")
    parser.add_argument("--chunks", type=int, default=256)
    parser.add_argument("--top", type=int, default=30, help="functions to list")
    parser.add_argument("--tree", action="store_true", help="also print the call tree")
    args = parser.parse_args()

    with measure.canned_server(args.chunks) as server:
        profiler = Profiler(interval=0.0002, async_mode="disabled")

        async def run() -> tuple[Case, float]:
            # The clients are made inside the loop: an aiohttp session takes the loop it is made on.
            case, clients = _find(server.base, args.case)
            try:
                return case, await _run(case, args.calls, args.chunks, profiler)
            finally:
                for client in clients:
                    await client.aclose()

        case, cpu = asyncio.run(run())

    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    assert root is not None
    calls = max(1, args.calls // measure.CONCURRENCY) * measure.CONCURRENCY
    unit = "request" if case.kind == "whole" else "chunk"
    units = calls if case.kind == "whole" else calls * args.chunks
    per_unit = cpu / units * 1e6
    print(f"{case.name}: {units} {unit}s per pass, CPU {per_unit:.1f} µs/{unit} without the profiler\n")
    by_package: dict[str, float] = defaultdict(float)
    by_function: dict[str, float] = defaultdict(float)
    _self_times(root, by_package, by_function, "other", "root")
    # The profiler slows everything down; its shares, applied to the unprofiled cost,
    # estimate what each layer costs per chunk in a normal run.
    print(f"Own time by package: share of samples, and that share of the unprofiled µs/{unit}")
    for name, seconds in sorted(by_package.items(), key=lambda kv: -kv[1]):
        share = seconds / root.time
        print(f"  {share:6.1%}  {share * per_unit:7.2f} µs  {name}")
    print(f"\nBusiest functions by own time (top {args.top}), estimated µs/{unit}")
    for name, seconds in sorted(by_function.items(), key=lambda kv: -kv[1])[: args.top]:
        share = seconds / root.time
        print(f"  {share:6.1%}  {share * per_unit:7.2f} µs  {name}")
    if args.tree:
        print(ConsoleRenderer(unicode=True, show_all=False).render(session))


if __name__ == "__main__":
    main()
