"""Embedding throughput of botticelli and the openai SDK on one real server: ``python benchmarks/embeddings.py``.

Both clients embed the same texts through ``POST /v1/embeddings`` of the same
llama-cpp-python server (``--embedding true``) serving the tiny test model written with
a mean pooling type, so the server's work is the same and small: the figures compare
what each client adds. Each figure is the median of ``--runs`` runs; the clients take
turns within a run. A benchmark reports, it does not judge: nothing here fails on a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from botticelli.testing import TinyModelSpec, write_tiny_gguf
from botticelli_server import InferenceServer, ServerClient, ServerConfig

MODEL_NAME = "tiny-pooled"

Embed = Callable[[list[str]], Awaitable[int]]


def texts(count: int) -> list[str]:
    """Short, distinct texts: the server's work stays small beside the clients'."""
    return [f"sentence number {i} about cats" for i in range(count)]


async def timed(embed: Embed, batches: list[list[str]]) -> float:
    """Texts per second over ``batches``, sent one after another."""
    started = time.perf_counter()
    total = 0
    for batch in batches:
        total += await embed(batch)
    return total / (time.perf_counter() - started)


async def run(config: ServerConfig, *, runs: int, batches: int, batch_size: int) -> dict[str, float]:
    """The median texts/s of each client."""
    from openai import AsyncOpenAI  # noqa: PLC0415 - a peer, imported only to compare with it

    work = [texts(batch_size) for _ in range(batches)]
    results: dict[str, list[float]] = {"botticelli ServerClient.embed": [], "openai AsyncOpenAI.embeddings.create": []}
    async with ServerClient(config.model_copy(update={"embed_batch_size": batch_size})) as ours:
        theirs = AsyncOpenAI(base_url=f"{config.base_url}/v1", api_key="unused", max_retries=0)

        async def botticelli_embed(batch: list[str]) -> int:
            return len((await ours.embed(batch)).vectors)

        async def openai_embed(batch: list[str]) -> int:
            reply = await theirs.embeddings.create(model=MODEL_NAME, input=batch, encoding_format="float")
            return len(reply.data)

        try:
            await botticelli_embed(work[0])  # warm both connections and the server
            await openai_embed(work[0])
            for _ in range(runs):
                results["botticelli ServerClient.embed"].append(await timed(botticelli_embed, work))
                results["openai AsyncOpenAI.embeddings.create"].append(await timed(openai_embed, work))
        finally:
            await theirs.close()
    return {name: statistics.median(values) for name, values in results.items()}


async def main() -> None:
    """Start the server, measure, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batches", type=int, default=20, help="requests per run and client")
    parser.add_argument("--batch-size", type=int, default=16, help="texts per request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        model = write_tiny_gguf(Path(scratch) / "pooled.gguf", spec=TinyModelSpec(pooling="mean"))
        server = InferenceServer(
            "llama-cpp-python",
            model=model,
            model_name=MODEL_NAME,
            extra_args=["--n_ctx", "1024", "--embedding", "true"],
            startup_timeout=120.0,
        )
        await server.start()
        try:
            medians = await run(server.config, runs=args.runs, batches=args.batches, batch_size=args.batch_size)
        finally:
            await server.stop()
    baseline = medians["openai AsyncOpenAI.embeddings.create"]
    print(f"{args.batches} requests of {args.batch_size} texts, median of {args.runs} runs\n")
    print("| client | texts/s | vs openai |")
    print("| --- | --- | --- |")
    for name, rate in medians.items():
        print(f"| {name} | {rate:,.0f} | {rate / baseline:.2f}x |")


if __name__ == "__main__":
    asyncio.run(main())
