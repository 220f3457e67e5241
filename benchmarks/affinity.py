"""Cache affinity in a replica pool, against three real llama-cpp-python servers on the tiny model.

Three ``llama_cpp.server`` processes serve the tiny random-weight model on 127.0.0.1, each with
``--cache True``: after every answer the server keeps the model's state in RAM, and a later prompt
that starts with a kept one loads it and evaluates only the rest. Eight conversations of six turns
each (a long system prompt of their own, then growing turns: about 1,500 tokens by the last one)
run at once, at most four requests in flight, through one :class:`~botticelli.routing.ReplicaPool`
of three :class:`~botticelli_server.ServerClient`, once with ``balance="affinity"`` and once with
``balance="least_outstanding"``; the order alternates from repeat to repeat, and every run uses
conversations of its own, so no run finds another's prompts in the servers' caches.

Measured per turn: the wall time from the call to the first content chunk (``generate_stream``)
and to the end of the stream. The servers' own prompt-processing time is read from their output
(llama.cpp's ``prompt eval time`` line after every answer; llama-cpp-python puts no timings in the
reply); it counts only the tokens evaluated, not the time a kept state takes to load, which the
wall times include. The spread is read from which replica each turn went to.

``python benchmarks/affinity.py`` runs this section alone; ``just bench`` runs it too
(``--skip affinity`` leaves it out).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio

from botticelli.routing import ReplicaPool
from botticelli.testing import write_tiny_gguf
from botticelli_core import GenerateRequest, Message, StreamChunk
from botticelli_interface import ManagedStream
from botticelli_server import ServerClient, ServerConfig
from botticelli_server.launcher import InferenceServer

Balance = Literal["affinity", "least_outstanding"]  # ReplicaPool's balance=
BALANCES: tuple[Balance, ...] = ("affinity", "least_outstanding")
REPLICAS = 3
CONVERSATIONS = 8
TURNS = 6
CONCURRENCY = 4
MAX_TOKENS = 4
# The tiny model says 2,048; the longest prompt here is about 1,600 tokens, and the servers get room to spare.
CONTEXT = 4096
# The tiny model's byte-level vocabulary gives about 4.4 tokens per word of WORDS: a system prompt
# of about 900 tokens, then turns of about 110 (the question, the 4-token answer and the template).
SYSTEM_WORDS = 200
TURN_WORDS = 22
_WORD_LIST = (
    "amber harbor lantern quiet orbit maple river stone cloud meadow copper signal garden winter "
    "thunder velvet canyon pepper marble violet falcon ember willow cedar saffron glacier comet"
)
WORDS = tuple(_WORD_LIST.split())
PROMPT_EVAL = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
STARTUP_TIMEOUT = 120.0


class ServerLog(io.StringIO):
    """Where a server's output goes as it arrives: adds up its ``prompt eval time`` lines.

    The launcher writes from its own reader thread, hence the lock.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._partial = ""
        self.prompt_ms = 0.0
        self.prompt_tokens = 0
        self.answers = 0

    def write(self, s: str) -> int:
        with self._lock:
            *lines, self._partial = (self._partial + s).split("\n")
            for line in lines:
                found = PROMPT_EVAL.search(line)
                if found:
                    self.prompt_ms += float(found.group(1))
                    self.prompt_tokens += int(found.group(2))
                    self.answers += 1
        return len(s)

    def totals(self) -> tuple[float, int, int]:
        """Prompt-processing milliseconds, tokens evaluated and answers so far."""
        with self._lock:
            return self.prompt_ms, self.prompt_tokens, self.answers


class TaggedClient(ServerClient):
    """A ServerClient that notes which conversation and turn each stream it is given belongs to."""

    def __init__(self, config: ServerConfig, index: int, seen: list[tuple[str, int, int]]) -> None:
        super().__init__(config)
        self.index = index
        self._seen = seen

    def generate_stream(self, request: GenerateRequest) -> ManagedStream[StreamChunk]:
        # The system prompt names the conversation; the number of messages, the turn.
        self._seen.append((request.messages[0].text, len(request.messages), self.index))
        return super().generate_stream(request)


@dataclass
class Run:
    """One run of every conversation under one balance."""

    balance: Balance
    first_chunk_s: list[float] = field(default_factory=list)
    turn_s: list[float] = field(default_factory=list)
    last_requests: list[GenerateRequest] = field(default_factory=list)
    last_prompt_tokens: int = 0  # of one conversation's last turn (llama-cpp-python streams no usage)
    wall_s: float = 0.0
    prompt_ms: float = 0.0
    prompt_tokens: int = 0
    answers: int = 0
    # conversation -> the replica each of its turns went to, in order
    replicas: dict[int, list[int]] = field(default_factory=dict)


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def conversation_texts(run: int, conversation: int) -> tuple[str, list[str]]:
    """A conversation's system prompt and questions, its own in every run (cold caches each run)."""
    rng = random.Random(run * 1000 + conversation)
    system = f"Run {run}, conversation {conversation}. {words(rng, SYSTEM_WORDS)}"
    return system, [words(rng, TURN_WORDS) for _ in range(TURNS)]


async def converse(pool: ReplicaPool, system: str, questions: list[str], limiter: anyio.Semaphore, run: Run) -> None:
    """One conversation, turn after turn, each turn holding one of the run's places in flight."""
    messages = [Message.system(system)]
    for question in questions:
        messages.append(Message.user(question))
        request = GenerateRequest(messages=tuple(messages), max_tokens=MAX_TOKENS, temperature=0.0)
        reply: list[str] = []
        first: float | None = None
        async with limiter:
            started = time.perf_counter()
            async with pool.generate_stream(request) as chunks:
                async for chunk in chunks:
                    if first is None and chunk.text:
                        first = time.perf_counter() - started
                    reply.append(chunk.text)
            ended = time.perf_counter() - started
        run.first_chunk_s.append(first if first is not None else ended)
        run.turn_s.append(ended)
        if len(messages) == 2 * TURNS:
            run.last_requests.append(request)
        messages.append(Message.assistant("".join(reply) or "ok"))


async def one_run(servers: list[InferenceServer], logs: list[ServerLog], balance: Balance, index: int) -> Run:
    """Every conversation once, through a fresh pool with this balance."""
    seen: list[tuple[str, int, int]] = []
    clients = [
        TaggedClient(server.config.model_copy(update={"max_retries": 0}), i, seen) for i, server in enumerate(servers)
    ]
    texts = [conversation_texts(index, c) for c in range(CONVERSATIONS)]
    run = Run(balance)
    before = [log.totals() for log in logs]
    limiter = anyio.Semaphore(CONCURRENCY)
    pool = ReplicaPool(*clients, balance=balance, health_interval=None)
    async with pool:
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for system, questions in texts:
                group.start_soon(converse, pool, system, questions, limiter, run)
        run.wall_s = time.perf_counter() - started
    await anyio.sleep(0.3)  # the servers' last timing lines are read by the launcher's threads
    for log, (ms, tokens, answers) in zip(logs, before, strict=True):
        now_ms, now_tokens, now_answers = log.totals()
        run.prompt_ms += now_ms - ms
        run.prompt_tokens += now_tokens - tokens
        run.answers += now_answers - answers
    async with ServerClient(servers[0].config) as client:
        answer = await client.generate(run.last_requests[0].model_copy(update={"max_tokens": 1}))
        run.last_prompt_tokens = answer.usage.input_tokens if answer.usage else 0
    systems = {system: c for c, (system, _) in enumerate(texts)}
    turns: dict[int, dict[int, int]] = {c: {} for c in range(CONVERSATIONS)}
    for system, length, replica in seen:  # a turn that failed over is noted twice: the last one served it
        turns[systems[system]][length] = replica
    run.replicas = {c: [by_turn[n] for n in sorted(by_turn)] for c, by_turn in turns.items()}
    return run


async def warm(server: InferenceServer) -> None:
    """One short answer: a fresh server's first one is far slower than the next."""
    async with ServerClient(server.config) as client:
        await client.generate(GenerateRequest.from_prompt("Hello", max_tokens=MAX_TOKENS, temperature=0.0))


async def measure_async(model: Path, repeats: int, server_cache: bool) -> list[Run]:
    logs = [ServerLog() for _ in range(REPLICAS)]
    servers = [
        InferenceServer(
            "llama-cpp-python",
            model=model,
            model_name="tiny",
            # Three servers share the machine: one thread each. --cache True keeps earlier prompts' states.
            extra_args=[
                *("--n_ctx", str(CONTEXT), "--cache", str(server_cache)),
                *("--n_threads", "1", "--n_threads_batch", "1"),
            ],
            echo_output=log,
            startup_timeout=STARTUP_TIMEOUT,
        )
        for log in logs
    ]
    runs: list[Run] = []
    try:
        with anyio.fail_after(STARTUP_TIMEOUT + 30):
            async with anyio.create_task_group() as group:
                for server in servers:
                    group.start_soon(server.start)
            for server in servers:
                await warm(server)
        # One run first, not counted: a fresh server's first long prompts and first saved states are slower.
        await one_run(servers, logs, "least_outstanding", -1)
        for repeat in range(repeats):
            order = BALANCES if repeat % 2 == 0 else BALANCES[::-1]
            for balance in order:
                run = await one_run(servers, logs, balance, len(runs))
                runs.append(run)
                print(
                    f"affinity run {len(runs)}/{2 * repeats} ({balance}): {run.wall_s:.2f} s, servers' prompt time"
                    f" {run.prompt_ms:.0f} ms for {run.prompt_tokens} tokens in {run.answers} answers",
                    file=sys.stderr,
                )
    finally:
        with anyio.CancelScope(shield=True):
            for server in servers:
                await server.stop()
    return runs


def unavailable() -> str | None:
    """Why this section cannot run here, or ``None``."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'llama-cpp-python[server]')"
    try:
        ReplicaPool(ServerClient(ServerConfig(model="tiny")), balance="affinity")
    except TypeError as e:
        return f"this ReplicaPool has no balance= yet ({e})"
    return None


def compare(repeats: int, *, server_cache: bool = True) -> list[dict[str, Any]]:
    """Both balances, ``repeats`` runs each (alternating), summarized per balance; [] if it cannot run.

    ``server_cache=False`` starts the servers without ``--cache True``: each then keeps only
    the state of the last prompt it evaluated.
    """
    reason = unavailable()
    if reason:
        print(f"skipped affinity: {reason}")
        return []
    with tempfile.TemporaryDirectory(prefix="botticelli-affinity-") as tmp:
        model = write_tiny_gguf(Path(tmp) / "tiny.gguf", seed=0)
        runs = anyio.run(measure_async, model, repeats, server_cache)
    return [{**summarize([r for r in runs if r.balance == b]), "server_cache": server_cache} for b in BALANCES]


def summarize(runs: list[Run]) -> dict[str, Any]:
    """One balance's runs: pooled latencies, per-run medians of the totals, and the spread."""
    first = [s for r in runs for s in r.first_chunk_s]
    turns = [s for r in runs for s in r.turn_s]
    per_replica: list[str] = []
    touched: list[int] = []
    at_home = 0  # turns on the replica that served most of their conversation's turns
    for r in runs:
        counts = Counter(replica for replicas in r.replicas.values() for replica in set(replicas))
        per_replica.append("/".join(str(counts.get(i, 0)) for i in range(REPLICAS)))
        touched += [len(set(replicas)) for replicas in r.replicas.values()]
        at_home += sum(Counter(replicas).most_common(1)[0][1] for replicas in r.replicas.values() if replicas)
    return {
        "balance": runs[0].balance,
        "runs": len(runs),
        "turns": len(first),
        "first_chunk_p50_ms": statistics.median(first) * 1e3,
        "first_chunk_p90_ms": statistics.quantiles(first, n=10)[8] * 1e3,
        "turn_p50_ms": statistics.median(turns) * 1e3,
        "turn_mean_ms": statistics.fmean(turns) * 1e3,
        "run_wall_s": statistics.median(r.wall_s for r in runs),
        "prompt_ms_per_run": statistics.median(r.prompt_ms for r in runs),
        "prompt_tokens_per_run": statistics.median(r.prompt_tokens for r in runs),
        "timed_answers": sum(r.answers for r in runs),
        "last_prompt_tokens": statistics.median(r.last_prompt_tokens for r in runs),
        "conversations_per_replica": per_replica,
        "replicas_per_conversation_mean": statistics.fmean(touched),
        "replicas_per_conversation_max": max(touched),
        "turns_at_home": at_home / len(first),
    }


def main() -> None:
    import report  # noqa: PLC0415 - the printing is report.py's, as for every other section

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per balance (alternating order)")
    parser.add_argument(
        "--no-server-cache", action="store_true", help="servers without --cache True (each keeps its last prompt only)"
    )
    args = parser.parse_args()
    report.print_machine(report.machine())
    report.print_affinity(compare(args.repeats, server_cache=not args.no_server_cache))


if __name__ == "__main__":
    main()
