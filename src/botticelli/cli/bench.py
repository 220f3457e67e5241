"""``botticelli bench``: time to first token, tokens per second and latency percentiles, per provider."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from typing import Any

import anyio
from pydantic import BaseModel

from botticelli.cli._common import UsageError, emit_json, open_client, provider_from_args, stdout
from botticelli.config import PROVIDERS
from botticelli_core import GenerateRequest
from botticelli_error import BotticelliError
from botticelli_interface import GenerativeModel

__all__ = ["BenchResult", "Sample", "add_parser", "format_table", "percentile", "run", "summarize"]

DEFAULT_PROMPT = "Write one sentence about the sea."


def add_parser(commands: Any) -> None:
    """Register ``bench`` on the subcommand parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "bench",
        help="measure time to first token, tokens/s and latency percentiles",
        description=(
            "Stream the same prompt N times per provider (C at a time) and report time to first token, "
            "tokens per second and latency p50/p90/p99. Without --provider, the configured provider is measured."
        ),
    )
    parser.add_argument(
        "--provider",
        action="append",
        metavar="NAME",
        help=f"a provider to measure ({', '.join(PROVIDERS)}); repeat or separate with commas",
    )
    parser.add_argument("--requests", type=int, default=10, metavar="N", help="requests per provider (default 10)")
    parser.add_argument("--concurrency", type=int, default=1, metavar="C", help="requests at once (default 1)")
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="the prompt to send")
    parser.add_argument("--max-tokens", type=int, default=64, metavar="N", help="tokens per answer (default 64)")
    parser.add_argument("--json", action="store_true", help="machine output: one JSON array")
    parser.add_argument("--config", metavar="PATH", help="the configuration file (default: searched for)")
    parser.set_defaults(handler=run)


class Sample(BaseModel):
    """One streamed request: when its first token came, when it ended, how many tokens it produced."""

    ttft_s: float
    latency_s: float
    output_tokens: int


class BenchResult(BaseModel):
    """The summary of one provider's run; times in seconds, ``None`` when no request succeeded."""

    provider: str
    model: str
    requests: int
    errors: int
    first_error: str | None = None
    ttft_p50_s: float | None = None
    tokens_per_s: float | None = None
    """Mean decoding speed of one request: output tokens after the first, over the time they took."""
    throughput_tokens_per_s: float | None = None
    """All output tokens over the run's wall time (grows with concurrency)."""
    latency_p50_s: float | None = None
    latency_p90_s: float | None = None
    latency_p99_s: float | None = None


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between the closest ranks.

    Example:
        >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
        2.5
        >>> percentile([5.0], 99)
        5.0
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(
    provider: str, model: str, samples: Sequence[Sample], errors: Sequence[str], wall_s: float
) -> BenchResult:
    """Percentiles and rates from the samples of one run.

    Example:
        >>> r = summarize("local", "tiny", [Sample(ttft_s=0.1, latency_s=1.1, output_tokens=11)], [], 1.1)
        >>> r.tokens_per_s, r.latency_p50_s
        (10.0, 1.1)
    """
    result = BenchResult(
        provider=provider,
        model=model,
        requests=len(samples) + len(errors),
        errors=len(errors),
        first_error=errors[0] if errors else None,
    )
    if not samples:
        return result
    latencies = [s.latency_s for s in samples]
    rates = [(s.output_tokens - 1) / (s.latency_s - s.ttft_s) for s in samples if s.latency_s > s.ttft_s]
    return result.model_copy(
        update={
            "ttft_p50_s": percentile([s.ttft_s for s in samples], 50),
            "tokens_per_s": sum(rates) / len(rates) if rates else None,
            "throughput_tokens_per_s": sum(s.output_tokens for s in samples) / wall_s if wall_s > 0 else None,
            "latency_p50_s": percentile(latencies, 50),
            "latency_p90_s": percentile(latencies, 90),
            "latency_p99_s": percentile(latencies, 99),
        }
    )


async def _one(client: GenerativeModel, request: GenerateRequest) -> Sample:
    started = time.monotonic()
    first: float | None = None
    tokens = 0
    reported: int | None = None
    async with client.generate_stream(request) as stream:
        async for chunk in stream:
            if chunk.text and first is None:
                first = time.monotonic()
            if chunk.text:
                tokens += 1
            if chunk.usage is not None:
                reported = chunk.usage.output_tokens
    ended = time.monotonic()
    # Servers usually send one token per chunk; their own count wins when they report one.
    return Sample(
        ttft_s=(first or ended) - started,
        latency_s=ended - started,
        output_tokens=reported if reported is not None else tokens,
    )


async def _bench_one(name: str, args: argparse.Namespace) -> BenchResult:
    provider = provider_from_args(argparse.Namespace(config=args.config, provider=name, model=None))
    request = GenerateRequest.from_prompt(args.prompt, max_tokens=args.max_tokens)
    samples: list[Sample] = []
    errors: list[str] = []
    limiter = anyio.Semaphore(args.concurrency)
    async with open_client(provider) as client:

        async def measure() -> None:
            async with limiter:
                try:
                    samples.append(await _one(client, request))
                except BotticelliError as exc:
                    errors.append(f"{type(exc).__name__}: {exc.message}")

        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for _ in range(args.requests):
                group.start_soon(measure)
        wall = time.monotonic() - started
        return summarize(name, client.model_name, samples, errors, wall)


def _providers(args: argparse.Namespace) -> list[str]:
    names = [n.strip() for item in (args.provider or []) for n in item.split(",") if n.strip()]
    if not names:
        return [provider_from_args(argparse.Namespace(config=args.config, provider=None, model=None)).provider_name]
    unknown = [n for n in names if n not in PROVIDERS]
    if unknown:
        raise UsageError(f"unknown provider {unknown[0]!r}; choose from {', '.join(PROVIDERS)}")
    return list(dict.fromkeys(names))


async def run(args: argparse.Namespace) -> int:
    """Measure each provider in turn; exit 1 if any request failed."""
    if args.requests <= 0 or args.concurrency <= 0 or args.max_tokens <= 0:
        raise UsageError("--requests, --concurrency and --max-tokens must be positive")
    results = [await _bench_one(name, args) for name in _providers(args)]
    if args.json:
        emit_json([r.model_dump(mode="json") for r in results])
    else:
        stdout().write(format_table(results))
    return 1 if any(r.errors for r in results) else 0


def format_table(results: Sequence[BenchResult]) -> str:
    """The results as an aligned text table, errors listed below it."""
    header = ("provider", "model", "ok/total", "ttft p50", "tok/s", "p50", "p90", "p99")
    rows = [
        (
            r.provider,
            r.model,
            f"{r.requests - r.errors}/{r.requests}",
            _ms(r.ttft_p50_s),
            f"{r.tokens_per_s:.1f}" if r.tokens_per_s is not None else "-",
            _ms(r.latency_p50_s),
            _ms(r.latency_p90_s),
            _ms(r.latency_p99_s),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]
    lines += [f"{r.provider}: {r.errors} failed, first: {r.first_error}" for r in results if r.first_error]
    return "\n".join(lines) + "\n"


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds is not None else "-"
