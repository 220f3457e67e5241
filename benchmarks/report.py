"""Turning measured figures into the printed tables (Markdown, so docs can take them as is)."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "botticelli",
    "httpx",
    "httpx-sse",
    "httpcore",
    "h11",
    "pydantic",
    "httpx-aiohttp",
    "aiohttp",
    "openai",
    "httpx2",
    "litellm",
)

# The goals the project set itself (issue 23); printed beside the ratios, never enforced.
# The CPU targets of generate_stream (local and Gemini) and of generate live in paired.TARGETS.
TARGET_IMPORT_MS = 150.0
TARGET_STARTUP = 1.5  # a usable client from a fresh interpreter, x importing asyncio, httpx and pydantic
TARGET_MEMORY = 1.0  # memory per stream, 1,000 streams open on one client, x hxaio's
TARGET_FIRST_ANSWER = 2.0  # a script's first answer, CPU and wall, x the same script on httpx + json.loads
MEMORY_TARGET_STREAMS = 1000


@dataclass(frozen=True)
class TargetRow:
    """One target for the summary: the ratio to its baseline, and aiohttp alone's (the limit)."""

    target: str
    baseline: str
    ratio: float | None
    floor: float | None
    limit: float


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
    }


def print_machine(info: dict[str, Any]) -> None:
    """One paragraph naming the machine and the versions."""
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    print(f"Machine: {info['cpu_model']}, {info['cores']} cores, Python {info['python']}, {info['platform']}")
    print(f"Packages: {packages}\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with columns padded for the terminal."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def ratio(value: float, base: float | None) -> str:
    """``value / base`` as ``1.23x``, or a dash when there is no base."""
    return f"{value / base:.2f}x" if base else "-"


def verdict(value: float | None, limit: float) -> str:
    """The target beside the measured ratio."""
    if value is None:
        return f"<= {limit}x: not measured"
    return f"<= {limit}x: {'met' if value <= limit else 'MISSED'}"


def print_streaming(rows: list[dict[str, Any]], title: str, baseline: str) -> None:
    """Streamed chat: CPU per chunk, throughput, time to first chunk; ratios to ``baseline``."""
    base = next((r for r in rows if r["name"] == baseline), None)
    b_cpu = base["cpu_us_per_chunk"] if base else None
    b_ttft = base["ttft_ms"] if base else None
    out = []
    for r in rows:
        out.append(
            [
                r["name"],
                f"{r['cpu_us_per_chunk']:.1f}",
                ratio(r["cpu_us_per_chunk"], b_cpu),
                f"{r['chunks_per_s']:,.0f}",
                f"{r['streams_per_s']:.1f}",
                f"{r['ttft_ms']:.2f}",
                ratio(r["ttft_ms"], b_ttft),
            ]
        )
    headers = [
        "client",
        "CPU µs/chunk",
        "x baseline",
        "chunks/s",
        "streams/s",
        "first chunk ms",
        "x baseline",
    ]
    print(f"## {title}\n\nThe baseline is {baseline}.\n\n{table(headers, out)}\n")


def print_whole(rows: list[dict[str, Any]], baseline: str) -> None:
    """Non-streamed chat: CPU per request and requests per second; ratios to ``baseline``."""
    base = next((r for r in rows if r["name"] == baseline), None)
    b_cpu = base["cpu_us_per_request"] if base else None
    out = []
    for r in rows:
        out.append(
            [
                r["name"],
                f"{r['cpu_us_per_request']:.0f}",
                ratio(r["cpu_us_per_request"], b_cpu),
                f"{r['requests_per_s']:,.0f}",
            ]
        )
    headers = ["client", "CPU µs/request", "x baseline", "requests/s"]
    print(f"## Non-streamed chat completion\n\nThe baseline is {baseline}.\n\n{table(headers, out)}\n")


def print_targets(
    rows: list[dict[str, Any]],
    title: str = "CPU targets, paired with their baselines",
    note: str = "",
    measured: str = "CPU per call",
) -> list[TargetRow]:
    """The CPU targets, each from adjacent batches of the case and its baseline (paired.py).

    Beside each, the limit: aiohttp alone's ratio to the same baseline, from the same batches.
    """
    if not rows:
        print(f"## {title}\n\nNot measured (no pairs were run, or a case or its baseline failed).\n")
        return []
    out = [
        [
            r["case"],
            r["baseline"],
            str(r["pairs"]),
            f"{r['median']:.2f}x",
            f"{r['q1']:.2f}x - {r['q3']:.2f}x",
            f"{r['within']}/{r['pairs']}",
            verdict(r["median"], r["limit"]),
            _times(r.get("floor_median")),
        ]
        for r in rows
    ]
    headers = [
        "case",
        "x baseline",
        "pairs",
        "median ratio",
        "middle half",
        "pairs within",
        "target",
        "limit: aiohttp alone",
    ]
    intro = f"{note}\n\n" if note else ""
    print(f"## {title}\n\n{intro}{table(headers, out)}\n")
    return [
        TargetRow(f"{r['case']}, {measured}", r["baseline"], r["median"], r.get("floor_median"), r["limit"])
        for r in rows
    ]


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def print_batch(rows: list[dict[str, Any]], baseline: str) -> None:
    """generate_many against a hand-written gather loop: CPU per request and requests per second."""
    out = []
    for r in rows:
        # Each row is compared with the gather loop over the same model (served or instant).
        suffix = r["name"][r["name"].find(" (") :] if " (" in r["name"] else ""
        base = next((b for b in rows if b["name"] == baseline + suffix), None)
        b_cpu = base["cpu_us_per_request"] if base else None
        b_rate = base["requests_per_s"] if base else None
        out.append(
            [
                r["name"],
                f"{r['cpu_us_per_request']:.1f}",
                ratio(r["cpu_us_per_request"], b_cpu),
                f"{r['requests_per_s']:,.0f}",
                ratio(r["requests_per_s"], b_rate),
            ]
        )
    headers = ["batch of non-streamed calls", "CPU µs/request", "x gather CPU", "requests/s", "x gather throughput"]
    first = rows[0] if rows else {"requests": 0, "concurrency": 0}
    title = f"## Batches ({first['requests']} requests, {first['concurrency']} at once)"
    print(f"{title}\n\n{table(headers, out)}\n")


def print_imports(rows: list[dict[str, Any]], baseline: str) -> None:
    """Cold import time in a fresh interpreter."""
    base = next((r["ms"] for r in rows if r["module"] == baseline), None)
    out = []
    for r in rows:
        target = ""
        if r["module"] == "botticelli":
            target = f"<= {TARGET_IMPORT_MS:.0f} ms: {'met' if r['ms'] <= TARGET_IMPORT_MS else 'MISSED'}"
        out.append(
            [
                f"import {r['module']}",
                f"{r['ms']:.1f}",
                f"±{r['spread_ms'] / 2:.1f}",
                ratio(r["ms"], base),
                target,
            ]
        )
    headers = ["statement", "ms (median)", "spread", f"x import {baseline}", "target"]
    print(f"## Cold import (fresh interpreter, minus `python -c pass`)\n\n{table(headers, out)}\n")


def print_startup(best: dict[str, float], baseline: str, floor: str) -> list[TargetRow]:
    """Start-up CPU of a few programs, against the baseline program; ``floor``'s row is the limit."""
    base = best.get(baseline)
    out = []
    for name, seconds in best.items():
        target = ""
        if name.startswith("botticelli"):
            target = verdict(seconds / base if base else None, TARGET_STARTUP)
        elif name == floor:
            target = "limit"
        out.append([name, f"{seconds * 1000:.0f}", ratio(seconds, base), target])
    headers = ["program", "CPU ms (least)", "x baseline", "target"]
    print(f"## From a fresh interpreter to a usable client\n\n{table(headers, out)}\n")
    # The target is the first botticelli program's: a usable client, as a program starts.
    mine = next((n for n in best if n.startswith("botticelli")), None)
    if mine is None or not base:
        return []
    floor_ratio = best[floor] / base if floor in best else None
    return [TargetRow(f"{mine}, CPU", baseline, best[mine] / base, floor_ratio, TARGET_STARTUP)]


def print_first_answer(times: dict[str, dict[str, float]], baseline: str, floor: str) -> list[TargetRow]:
    """A script's first answer, from a fresh interpreter: CPU and wall time against ``baseline``."""
    base = times.get(baseline)
    out = []
    for name, t in times.items():
        cpu_ratio = t["cpu_s"] / base["cpu_s"] if base else None
        wall_ratio = t["wall_s"] / base["wall_s"] if base else None
        target = ""
        if name.startswith("botticelli"):
            target = f"CPU {verdict(cpu_ratio, TARGET_FIRST_ANSWER)}; wall {verdict(wall_ratio, TARGET_FIRST_ANSWER)}"
        elif name == floor:
            target = "limit"
        out.append(
            [
                name,
                f"{t['cpu_s'] * 1000:.0f}",
                _times(cpu_ratio),
                f"{t['wall_s'] * 1000:.0f}",
                _times(wall_ratio),
                target,
            ]
        )
    headers = ["script", "CPU ms (median)", "x baseline", "wall ms (median)", "x baseline", "target"]
    intro = (
        "A fresh interpreter imports the client, makes it and asks the canned server once for a"
        " non-streamed answer; timed from start to exit."
    )
    print(f"## A script's first answer\n\n{intro}\n\n{table(headers, out)}\n")
    mine = next((n for n in times if n.startswith("botticelli")), None)
    if mine is None or base is None:
        return []
    lim = times.get(floor)
    return [
        TargetRow(
            f"{mine}, first answer {label}",
            baseline,
            times[mine][key] / base[key],
            lim[key] / base[key] if lim else None,
            TARGET_FIRST_ANSWER,
        )
        for key, label in (("cpu_s", "CPU"), ("wall_s", "wall"))
    ]


def print_memory(rows: list[dict[str, Any]], baseline: str, floor: str) -> list[TargetRow]:
    """Streams held open at once: memory growth, completion, sockets; ``floor``'s rows are the limit."""
    base = {r["streams"]: r for r in rows if r["client"] == baseline}
    out = []
    for r in rows:
        per = _kib_per_stream(r)
        b = base.get(r["streams"])
        b_per = _kib_per_stream(b) if b else None
        target = ""
        if r["client"].startswith("botticelli") and b_per:
            target = verdict(per / b_per, TARGET_MEMORY)
        elif r["client"] == floor:
            target = "limit"
        out.append(
            [
                r["client"],
                f"{r['streams']:.0f}",
                f"{r['opened_at_once']:.0f}",
                f"{r['complete']:.0f}",
                f"{r['rss_delta_mib']:.1f}",
                f"{per:.1f}",
                ratio(per, b_per),
                target,
                f"{r['wall_s']:.1f}",
                " / ".join(f"{r[k]:.0f}" for k in ("sockets_open", "sockets_pooled_after", "sockets_after_aclose")),
            ]
        )
    headers = [
        "client",
        "streams",
        "open at once",
        "complete",
        "RSS growth MiB",
        "KiB/stream",
        "x baseline",
        "target",
        "wall s",
        "sockets open / pooled after / after aclose",
    ]
    print(f"## Many concurrent streams on one client\n\nThe baseline is {baseline}.\n\n{table(headers, out)}\n")
    return _memory_verdict(rows, baseline, floor)


def _kib_per_stream(row: dict[str, Any]) -> float:
    return float(row["rss_delta_mib"]) * 1024 / float(row["streams"])


def _memory_verdict(rows: list[dict[str, Any]], baseline: str, floor: str) -> list[TargetRow]:
    """The target at 1,000 streams or, in a shorter run, the most streams botticelli and the baseline both held."""
    per = {(r["client"], r["streams"]): _kib_per_stream(r) for r in rows}
    shared = [n for (client, n) in per if client == "botticelli" and (baseline, n) in per]
    if not shared:
        return []
    streams = MEMORY_TARGET_STREAMS if MEMORY_TARGET_STREAMS in shared else max(shared)
    base = per[baseline, streams]
    floor_per = per.get((floor, streams))
    return [
        TargetRow(
            f"botticelli, memory per stream at {streams:.0f} streams",
            baseline,
            per["botticelli", streams] / base,
            floor_per / base if floor_per is not None else None,
            TARGET_MEMORY,
        )
    ]


def print_summary(verdicts: list[TargetRow]) -> None:
    """Every target measured in this run, in one table: the figures of the sections above."""
    if not verdicts:
        return
    out = [[v.target, v.baseline, _times(v.ratio), verdict(v.ratio, v.limit), _times(v.floor)] for v in verdicts]
    headers = ["measured", "x baseline", "ratio", "target", "limit: aiohttp alone"]
    print(f"## The targets of issue 23, measured in this run\n\n{table(headers, out)}\n")


def print_affinity(rows: list[dict[str, Any]]) -> None:
    """A replica pool over three real servers, by balance: time to first chunk, prompt work, spread."""
    title = "## Cache affinity: a replica pool over three llama-cpp-python servers"
    if not rows:
        print(f"{title}\n\nNot measured (see the line above that says why it was skipped).\n")
        return
    out = [
        [
            r["balance"],
            f"{r['runs']} x {r['turns'] // r['runs']}",
            f"{r['first_chunk_p50_ms']:.1f}",
            f"{r['first_chunk_p90_ms']:.1f}",
            f"{r['turn_mean_ms']:.1f}",
            f"{r['run_wall_s']:.2f}",
            f"{r['prompt_ms_per_run']:.0f}",
            f"{r['prompt_tokens_per_run']:,.0f}",
            ", ".join(r["conversations_per_replica"]),
            f"{r['replicas_per_conversation_mean']:.2f} (max {r['replicas_per_conversation_max']})",
            f"{r['turns_at_home']:.0%}",
        ]
        for r in rows
    ]
    headers = [
        "balance",
        "runs x turns",
        "first chunk p50 ms",
        "p90 ms",
        "turn mean ms",
        "run s",
        "server prompt ms/run",
        "prompt tokens evaluated/run",
        "conversations per replica, each run",
        "replicas per conversation",
        "turns on its main replica",
    ]
    last = rows[0]["last_prompt_tokens"]
    cache = "`--cache True`" if rows[0].get("server_cache", True) else "no `--cache` (each keeps its last prompt only)"
    intro = (
        "Eight conversations of six turns (the last prompt about"
        f" {last:,.0f} tokens), four requests in flight, one pool of three servers,"
        f" {cache}."
        " First chunk and turn times are over every turn of every run; the"
        " servers' prompt time and evaluated tokens (from their own `prompt eval time` lines)"
        " and the run time are medians per run. A conversation's main replica is the one that"
        " served most of its turns."
    )
    print(f"{title}\n\n{intro}\n\n{table(headers, out)}\n")
