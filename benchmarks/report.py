"""Turning measured figures into the printed tables (Markdown, so docs can take them as is)."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("botticelli", "httpx", "httpx-sse", "httpcore", "h11", "pydantic", "openai", "httpx2", "litellm")

# The goals the project set itself; printed beside the ratios, never enforced.
# The CPU targets of generate_stream (local and Gemini) and of generate live in paired.TARGETS.
TARGET_IMPORT_MS = 150.0
TARGET_STARTUP = 1.5  # a usable client from a fresh interpreter, x importing asyncio, httpx and pydantic


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
    """Streamed chat: CPU per chunk, throughput, time to first chunk."""
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
    print(f"## {title}\n\n{table(headers, out)}\n")


def print_whole(rows: list[dict[str, Any]], baseline: str) -> None:
    """Non-streamed chat: CPU per request and requests per second."""
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
    headers = ["client", "CPU µs/request", "x raw httpx", "requests/s"]
    print(f"## Non-streamed chat completion\n\n{table(headers, out)}\n")


def print_targets(
    rows: list[dict[str, Any]], title: str = "CPU targets, paired with their baselines", note: str = ""
) -> None:
    """The CPU targets, each from adjacent batches of the case and its baseline (paired.py)."""
    if not rows:
        print(f"## {title}\n\nNot measured (no pairs were run, or a case or its baseline failed).\n")
        return
    out = [
        [
            r["case"],
            r["baseline"],
            str(r["pairs"]),
            f"{r['median']:.2f}x",
            f"{r['q1']:.2f}x - {r['q3']:.2f}x",
            f"{r['within']}/{r['pairs']}",
            verdict(r["median"], r["limit"]),
        ]
        for r in rows
    ]
    headers = ["case", "x baseline", "pairs", "median ratio", "middle half", "pairs within", "target"]
    intro = f"{note}\n\n" if note else ""
    print(f"## {title}\n\n{intro}{table(headers, out)}\n")


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


def print_startup(best: dict[str, float], baseline: str) -> None:
    """Start-up CPU of a few programs, against the baseline program."""
    base = best.get(baseline)
    out = []
    for name, seconds in best.items():
        target = ""
        if name.startswith("botticelli"):
            target = verdict(seconds / base if base else None, TARGET_STARTUP)
        out.append([name, f"{seconds * 1000:.0f}", ratio(seconds, base), target])
    headers = ["program", "CPU ms (least)", "x baseline", "target"]
    print(f"## From a fresh interpreter to a usable client\n\n{table(headers, out)}\n")


def print_memory(rows: list[dict[str, Any]], baseline: str) -> None:
    """Streams held open at once: memory growth, completion, sockets."""
    base = {r["streams"]: r for r in rows if r["client"] == baseline}
    out = []
    for r in rows:
        per = r["rss_delta_mib"] * 1024 / r["streams"]
        b = base.get(r["streams"])
        b_per = b["rss_delta_mib"] * 1024 / b["streams"] if b else None
        out.append(
            [
                r["client"],
                f"{r['streams']:.0f}",
                f"{r['opened_at_once']:.0f}",
                f"{r['complete']:.0f}",
                f"{r['rss_delta_mib']:.1f}",
                f"{per:.1f}",
                ratio(per, b_per),
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
        "wall s",
        "sockets open / pooled after / after aclose",
    ]
    print(f"## Many concurrent streams on one client\n\n{table(headers, out)}\n")
