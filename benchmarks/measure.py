"""The measurements: CPU and wall time under load, time to first chunk, import time, memory,
and a script's first answer from a fresh interpreter.

CPU is the client process's own ``time.process_time`` (every thread of this process);
the canned server runs in another process, and its CPU is recorded separately to
show it is not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent
from typing import cast

import psutil

from clients import FACTORIES, Case, Gate, StreamFn, WholeFn

HERE = Path(__file__).resolve().parent
CONCURRENCY = 16


@dataclass
class Server:
    """A running canned server."""

    base: str
    process: psutil.Process

    def cpu(self) -> float:
        """CPU seconds the server has used so far."""
        times = self.process.cpu_times()
        return float(times.user + times.system)


@contextmanager
def canned_server(chunks: int, pace_ms: float = 0.0) -> Iterator[Server]:
    """Start the canned server on a free port; stop it (and wait for it) on exit.

    ``pace_ms`` spaces a stream's events that far apart, one per write (see canned_server.py).
    """
    cmd = [sys.executable, str(HERE / "canned_server.py"), "--port", "0", "--chunks", str(chunks)]
    if pace_ms:
        cmd += ["--pace", str(pace_ms)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"canned server failed to start: {line!r}")
        yield Server(f"http://127.0.0.1:{int(line.split()[1])}", psutil.Process(proc.pid))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()


@dataclass
class Sample:
    """One timed batch of calls."""

    calls: int
    cpu_s: float
    wall_s: float
    server_cpu_s: float


class WrongAnswer(RuntimeError):
    """A client returned fewer chunks than the server sent: its figures would be meaningless."""


async def load(case: Case, server: Server, calls: int, expected: int) -> Sample:
    """Run ``calls`` calls of one case with :data:`CONCURRENCY` workers."""
    per_worker = max(1, calls // CONCURRENCY)
    streaming = case.kind != "whole"

    async def worker() -> None:
        for _ in range(per_worker):
            if streaming:
                got, _ = await cast(StreamFn, case.fn)(None)
                if got != expected:
                    raise WrongAnswer(f"{case.name}: {got} chunks, expected {expected}")
            else:
                await cast(WholeFn, case.fn)()

    gc.collect()
    server_before = server.cpu()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for _ in range(CONCURRENCY):
            tg.create_task(worker())
    cpu1, wall1 = time.process_time(), time.perf_counter()
    return Sample(per_worker * CONCURRENCY, cpu1 - cpu0, wall1 - wall0, server.cpu() - server_before)


async def first_chunk_latency(case: Case, calls: int) -> list[float]:
    """Wall seconds from the call to the first content chunk, one stream at a time."""
    fn = cast(StreamFn, case.fn)
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        _, first = await fn(None)
        out.append(first - start)
    return out


def import_time(module: str, runs: int) -> tuple[float, float]:
    """Median seconds to import ``module`` in a fresh interpreter, minus a bare start; and the spread."""
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}

    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    once(f"import {module}")  # warm the filesystem cache and any .pyc compilation
    bare, loaded = [], []
    for _ in range(runs):
        bare.append(once("pass"))
        loaded.append(once(f"import {module}"))
    deltas = [b - a for a, b in zip(bare, loaded, strict=True)]
    return statistics.median(deltas), (max(deltas) - min(deltas))


STARTUP_BASELINE = "import asyncio, httpx, pydantic"
STARTUP = {
    STARTUP_BASELINE: STARTUP_BASELINE,
    "... and one pydantic model": (
        "import asyncio, httpx, pydantic\nclass M(pydantic.BaseModel):\n    x: int = 0\nM(x=1)"
    ),
    "botticelli: a usable local client": (
        "import asyncio\n"
        "from botticelli_core import GenerateRequest\n"
        "from botticelli_server import ServerClient, ServerConfig\n"
        "client = ServerClient(ServerConfig(base_url='http://127.0.0.1:8080', model='m'))\n"
        "request = GenerateRequest.from_prompt('hi')"
    ),
}
# The client loads httpx with its transport, on its first call; a program that calls it has
# httpx loaded, as the baseline does, so this row compares like with like.
STARTUP["botticelli: the same, httpx already imported"] = (
    "import httpx\n" + STARTUP["botticelli: a usable local client"]
)
# The limit, printed beside the target and never judged: what any client on aiohttp loads.
# Imports alone, because an aiohttp session can only be made inside a running event loop.
STARTUP_FLOOR = "aiohttp alone: import asyncio, aiohttp"
STARTUP[STARTUP_FLOOR] = "import asyncio, aiohttp"
"""What start-up costs: each program's CPU time in a fresh interpreter. ``asyncio`` is in every
row because an async client's program imports it anyway."""


def _bytecode_env() -> dict[str, str]:
    """The environment of a timed fresh interpreter: one that may write bytecode.

    An installed package has its bytecode compiled; an editable checkout run with
    PYTHONDONTWRITEBYTECODE set would recompile botticelli's sources in every child (about a
    third of the start-up figure) while the baseline's packages load theirs. So the children
    may write bytecode, and one untimed run of each program writes it.
    """
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def startup_cpu(runs: int) -> dict[str, float]:
    """The least CPU time (user + system, seconds) each :data:`STARTUP` program took over ``runs``.

    CPU time rather than wall time, and the minimum rather than the median, because a
    fresh interpreter's cost moves with whatever else the machine does; the programs
    take turns so drift spreads over all of them.
    """
    env = _bytecode_env()
    for code in STARTUP.values():
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
    best = dict.fromkeys(STARTUP, float("inf"))
    for _ in range(runs):
        for name, code in STARTUP.items():
            child = subprocess.Popen([sys.executable, "-c", code], env=env)
            _, _, usage = os.wait4(child.pid, 0)
            best[name] = min(best[name], usage.ru_utime + usage.ru_stime)
    return best


FIRST_ANSWER_BASELINE = "httpx + json.loads"
FIRST_ANSWER_FLOOR = "aiohttp alone + json.loads"
# Each script is what a user writes for one answer: make a client, ask once, print the text's
# length (checked to be the same for all, so a script that failed to answer cannot pass for fast).
# The canned server's address is the script's argument.
FIRST_ANSWER: dict[str, str] = {
    FIRST_ANSWER_BASELINE: dedent("""
        import asyncio, json, sys
        import httpx

        BODY = {"model": "canned", "messages": [{"role": "user", "content": "Say something."}]}

        async def main() -> None:
            async with httpx.AsyncClient(base_url=sys.argv[1]) as http:
                resp = await http.post("/v1/chat/completions", json=BODY)
                resp.raise_for_status()
                print(len(json.loads(resp.content)["choices"][0]["message"]["content"]))

        asyncio.run(main())
    """),
    "botticelli: ServerClient.generate": dedent("""
        import asyncio, sys
        from botticelli_core import GenerateRequest, Message
        from botticelli_server import ServerClient, ServerConfig

        async def main() -> None:
            async with ServerClient(ServerConfig(base_url=sys.argv[1], model="canned")) as model:
                response = await model.generate(GenerateRequest(messages=[Message.user("Say something.")]))
            print(len(response.text))

        asyncio.run(main())
    """),
    "hxaio: httpx-aiohttp + json.loads": dedent("""
        import asyncio, json, sys
        import httpx
        from httpx_aiohttp import AiohttpTransport

        BODY = {"model": "canned", "messages": [{"role": "user", "content": "Say something."}]}

        async def main() -> None:
            async with httpx.AsyncClient(base_url=sys.argv[1], transport=AiohttpTransport()) as http:
                resp = await http.post("/v1/chat/completions", json=BODY)
                resp.raise_for_status()
                print(len(json.loads(resp.content)["choices"][0]["message"]["content"]))

        asyncio.run(main())
    """),
    FIRST_ANSWER_FLOOR: dedent("""
        import asyncio, json, sys
        import aiohttp

        BODY = {"model": "canned", "messages": [{"role": "user", "content": "Say something."}]}

        async def main() -> None:
            async with aiohttp.ClientSession(base_url=sys.argv[1]) as session:
                async with session.post("/v1/chat/completions", json=BODY) as resp:
                    resp.raise_for_status()
                    print(len(json.loads(await resp.read())["choices"][0]["message"]["content"]))

        asyncio.run(main())
    """),
}
"""A script's first answer: a fresh interpreter that imports a client, makes it, and asks once."""


def _timed_script(code: str, base: str, env: dict[str, str]) -> tuple[float, float, str]:
    """CPU (user + system) and wall seconds of one fresh interpreter running ``code``; its output."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, base], env=env, stdout=subprocess.PIPE, text=True)
    # Waiting before reading is safe: a script prints one short line, far less than a pipe holds.
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.stdout is not None
    with child.stdout:
        out = child.stdout.read().strip()
    if child.returncode:
        raise RuntimeError(f"first-answer script exited {child.returncode}")
    return usage.ru_utime + usage.ru_stime, wall, out


def first_answer(base: str, runs: int) -> dict[str, dict[str, float]]:
    """Each :data:`FIRST_ANSWER` script's median CPU and wall seconds over ``runs`` fresh interpreters.

    Medians, not the least, because the wall time includes the round trip to the server,
    which the target counts. The scripts take turns so that drift spreads over all of them.
    """
    env = _bytecode_env()
    answers = {name: _timed_script(code, base, env)[2] for name, code in FIRST_ANSWER.items()}
    if len(set(answers.values())) != 1:
        raise WrongAnswer(f"the first-answer scripts disagree: {answers}")
    cpu: dict[str, list[float]] = {name: [] for name in FIRST_ANSWER}
    wall: dict[str, list[float]] = {name: [] for name in FIRST_ANSWER}
    for _ in range(runs):
        for name, code in FIRST_ANSWER.items():
            cpu_s, wall_s, _ = _timed_script(code, base, env)
            cpu[name].append(cpu_s)
            wall[name].append(wall_s)
    return {name: {"cpu_s": statistics.median(cpu[name]), "wall_s": statistics.median(wall[name])} for name in cpu}


def _sockets() -> int:
    # The child has no TCP sockets of its own besides the client's, so this is the pool.
    return sum(1 for c in psutil.Process().net_connections(kind="tcp") if c.status != psutil.CONN_LISTEN)


def _rss_mib() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


async def _hold_streams(client_key: str, base: str, streams: int, chunks: int) -> dict[str, float]:
    client = FACTORIES[client_key](base)
    case = next(c for c in client.cases if c.kind == "stream")
    fn = cast(StreamFn, case.fn)
    await fn(None)  # import-time and first-connection costs out of the baseline
    gc.collect()
    rss_before = _rss_mib()
    gate = Gate(streams)
    start = time.perf_counter()
    tasks = [asyncio.create_task(fn(gate)) for _ in range(streams)]
    # A pool smaller than `streams` would hold the rest back forever; the figure then
    # shows how many were open at once instead of the run hanging.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(gate.all_arrived.wait(), timeout=60)
    opened = gate.arrived
    rss_open = _rss_mib()
    sockets_open = _sockets()
    gate.release()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    wall = time.perf_counter() - start
    complete = sum(1 for r in results if isinstance(r, tuple) and r[0] == chunks)
    rss_peak = _rss_mib()
    sockets_pooled = _sockets()
    await client.aclose()
    await asyncio.sleep(0.05)
    return {
        "streams": streams,
        "opened_at_once": opened,
        "complete": complete,
        "wall_s": wall,
        "rss_before_mib": rss_before,
        "rss_open_mib": rss_open,
        "rss_after_mib": rss_peak,
        "rss_delta_mib": max(rss_open, rss_peak) - rss_before,
        "sockets_open": sockets_open,
        "sockets_pooled_after": sockets_pooled,
        "sockets_after_aclose": _sockets(),
    }


def memory(client_key: str, base: str, streams: int, chunks: int) -> dict[str, float]:
    """Hold ``streams`` streams open at once in a fresh interpreter; its RSS and sockets."""
    cmd = [sys.executable, str(HERE / "measure.py"), client_key, base, str(streams), str(chunks)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=180)
    if done.returncode:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"memory child exited {done.returncode}: {tail[0]}")
    values = dict(line.split("=", 1) for line in done.stdout.split())
    return {k: float(v) for k, v in values.items()}


def _memory_child() -> None:
    parser = argparse.ArgumentParser(description="memory child: hold N streams open at once")
    parser.add_argument("client")
    parser.add_argument("base")
    parser.add_argument("streams", type=int)
    parser.add_argument("chunks", type=int)
    args = parser.parse_args()
    result = asyncio.run(_hold_streams(args.client, args.base, args.streams, args.chunks))
    print(" ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    _memory_child()
