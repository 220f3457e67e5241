"""A real generation with no external service: a tiny model written on the spot, streamed through ModelProvider.

``python -m botticelli demo`` (or ``just demo``) writes a random-weight GGUF model to a
temporary directory, then runs it with the first engine available:

1. llama.cpp's Python server (the ``server`` extra), started with
   :class:`~botticelli_server.launcher.InferenceServer` and used as the ``local`` provider;
2. mistral.rs in-process (the ``embedded`` extra), as the ``embedded`` provider.

The server and the temporary directory are always cleaned up.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel

from botticelli.provider import ModelProvider
from botticelli_core import FinishReason, GenerateRequest, Usage
from botticelli_error import ConfigurationError, ServerUnavailableError
from botticelli_interface import SupportsAclose

__all__ = [
    "DEMO_MAX_TOKENS",
    "DEMO_PROMPT",
    "DemoReport",
    "Engine",
    "available_engines",
    "llama_cpp_server_available",
    "run_demo",
]

Engine = Literal["llama-cpp", "embedded"]
DEMO_PROMPT = "Tell me a story about a lighthouse."
DEMO_MAX_TOKENS = 48
_MODEL_NAME = "tiny"
# The tiny model's context; small keeps llama.cpp's start-up instant.
_CONTEXT = "512"
_PROBE_TIMEOUT = 120.0
_INSTALL_HINT = (
    "the demo needs an inference engine: pip install 'botticelli[server]' (llama.cpp's server) "
    "or 'botticelli[embedded]' (mistral.rs in-process)"
)


class DemoReport(BaseModel):
    """What the demo measured.

    Example:
        >>> DemoReport(engine="embedded", provider="embedded", text="x", finish_reason="length",
        ...            ttft_s=0.01, tokens_per_s=100.0).finish_reason
        <FinishReason.LENGTH: 'length'>
    """

    engine: Engine
    provider: str
    text: str
    finish_reason: FinishReason | None
    usage: Usage | None = None
    ttft_s: float | None
    tokens_per_s: float | None


def llama_cpp_server_available() -> bool:
    """Whether ``python -m llama_cpp.server`` can start: checked in a child, so a broken build cannot harm us."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import llama_cpp.server.app"],
            capture_output=True,
            check=False,
            timeout=_PROBE_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def available_engines() -> list[Engine]:
    """The engines the demo can use here, best first."""
    engines: list[Engine] = []
    if llama_cpp_server_available():
        engines.append("llama-cpp")
    if importlib.util.find_spec("mistralrs") is not None:
        engines.append("embedded")
    return engines


async def run_demo(
    *,
    engine: Engine | None = None,
    prompt: str = DEMO_PROMPT,
    max_tokens: int = DEMO_MAX_TOKENS,
    out: TextIO | None = None,
) -> DemoReport:
    """Write the tiny model, run it with ``engine`` (or the best available), print the stream and a summary.

    Args:
        engine: ``"llama-cpp"`` or ``"embedded"``; ``None`` picks the first available.
        prompt: What to ask.
        max_tokens: How many tokens to generate.
        out: Where to print; standard output when omitted.

    Raises:
        ConfigurationError: No engine is installed (the message names the extras), or the
            ``testing`` extra that writes the model is missing.
        BotticelliError: The generation failed.
    """
    stream_out = out if out is not None else sys.stdout
    engines = [engine] if engine is not None else available_engines()
    if not engines:
        raise ConfigurationError(_INSTALL_HINT)
    from botticelli.testing import write_tiny_gguf  # noqa: PLC0415 - needs the testing extra

    with tempfile.TemporaryDirectory(prefix="botticelli-demo-") as tmp:
        model_path = write_tiny_gguf(Path(tmp) / f"{_MODEL_NAME}.gguf", seed=0)
        request = GenerateRequest.from_prompt(prompt, max_tokens=max_tokens)
        for index, chosen in enumerate(engines):
            try:
                if chosen == "llama-cpp":
                    return await _with_llama_cpp(model_path, request, stream_out)
                return await _stream(chosen, _embedded_provider(model_path), request, stream_out)
            except ServerUnavailableError as exc:
                # llama.cpp failed to start (a broken build, say): the next engine may still work.
                if index + 1 == len(engines):
                    raise
                stream_out.write(
                    f"llama.cpp's server did not start ({exc.message.splitlines()[0]}); trying mistral.rs\n"
                )
    raise AssertionError("unreachable: every engine either returns or raises")  # pragma: no cover


def _embedded_provider(model_path: Path) -> ModelProvider:
    return ModelProvider.from_dict({"model": {"provider": "embedded", "embedded": {"model_path": str(model_path)}}})


async def _with_llama_cpp(model_path: Path, request: GenerateRequest, out: TextIO) -> DemoReport:
    from botticelli_server.launcher import InferenceServer  # noqa: PLC0415 - only this engine needs it

    out.write("starting llama.cpp's server (python -m llama_cpp.server) with the tiny model...\n")
    out.flush()
    server = InferenceServer(
        "llama-cpp-python", model=model_path, model_name=_MODEL_NAME, extra_args=["--n_ctx", _CONTEXT]
    )
    async with server:
        provider = ModelProvider.from_dict(
            {"model": {"provider": "local", "local": {"base_url": server.base_url, "model": server.model_name}}}
        )
        return await _stream("llama-cpp", provider, request, out)


async def _stream(engine: Engine, provider: ModelProvider, request: GenerateRequest, out: TextIO) -> DemoReport:
    client = provider.create_client()
    out.write(
        f"engine: {engine}, provider: {provider.provider_name}, model: {client.model_name}\n"
        "the model has random weights, so the text below is gibberish; what matters is that it streams:\n\n"
    )
    out.flush()
    texts: list[str] = []
    finish: FinishReason | None = None
    usage: Usage | None = None
    started = time.monotonic()
    first: float | None = None
    try:
        async with client.generate_stream(request) as stream:
            async for chunk in stream:
                if chunk.text:
                    first = first if first is not None else time.monotonic()
                    texts.append(chunk.text)
                    out.write(chunk.text)
                    out.flush()
                finish = chunk.finish_reason or finish
                usage = chunk.usage or usage
    finally:
        if isinstance(client, SupportsAclose):
            await client.aclose()
    ended = time.monotonic()
    ttft = first - started if first is not None else None
    tokens = usage.output_tokens if usage is not None else len(texts)
    rate = (tokens - 1) / (ended - first) if first is not None and ended > first and tokens > 1 else None
    report = DemoReport(
        engine=engine,
        provider=provider.provider_name,
        text="".join(texts),
        finish_reason=finish,
        usage=usage,
        ttft_s=ttft,
        tokens_per_s=rate,
    )
    out.write("\n\n" + _summary(report) + "\n")
    out.flush()
    return report


def _summary(report: DemoReport) -> str:
    parts: list[Any] = [f"finish reason: {report.finish_reason.value if report.finish_reason else 'none'}"]
    if report.usage is not None:
        parts.append(f"usage: {report.usage.input_tokens} prompt + {report.usage.output_tokens} output tokens")
    if report.ttft_s is not None:
        parts.append(f"time to first token: {report.ttft_s * 1000:.0f} ms")
    if report.tokens_per_s is not None:
        parts.append(f"{report.tokens_per_s:.1f} tokens/s")
    return "; ".join(parts)
