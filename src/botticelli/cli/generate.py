"""``botticelli generate``: one prompt in, the answer out (whole or streamed)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from botticelli.cli._common import UsageError, add_config_options, emit_json, open_client, provider_from_args, stdout
from botticelli.cli.batch import DEFAULT_CONCURRENCY, run_batch
from botticelli_core import GenerateRequest, GenerateResponse, Usage
from botticelli_interface import call_options

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register ``generate`` on the subcommand parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "generate",
        help="generate an answer to a prompt",
        description="Generate an answer. The prompt is the argument, or standard input when it is '-' or absent.",
    )
    parser.add_argument("prompt", nargs="?", help="the prompt ('-' or absent: read standard input)")
    parser.add_argument("--stream", action="store_true", help="print the answer as it is generated")
    parser.add_argument(
        "--max-tokens",
        type=_positive_int,
        metavar="N",
        help="upper bound on generated tokens (default: the backend's max_tokens setting, if it has one)",
    )
    parser.add_argument("--temperature", type=float, metavar="T", help="sampling temperature, 0 to 2")
    parser.add_argument("--system", metavar="TEXT", help="a system instruction")
    parser.add_argument(
        "--hint", choices=("cheap", "complex"), help="routing hint for the hybrid provider (others ignore it)"
    )
    parser.add_argument(
        "--json", action="store_true", help="machine output: one JSON object (with --stream: one per chunk)"
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="total time each request may take, retries included (overrides total_timeout)",
    )
    parser.add_argument(
        "--max-retries", type=_non_negative_int, metavar="N", help="retries per request (overrides max_retries)"
    )
    batch = parser.add_argument_group("batches", "many prompts from a JSON Lines file (see docs/batch.md)")
    batch.add_argument("--batch", metavar="IN.jsonl", help="answer every line of this file instead of one prompt")
    batch.add_argument("--out", metavar="OUT.jsonl", help="with --batch: append the answers here; reruns skip them")
    batch.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"with --batch: requests in flight at once (default {DEFAULT_CONCURRENCY})",
    )
    add_config_options(parser)
    parser.set_defaults(handler=run)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def read_prompt(prompt: str | None) -> str:
    """The prompt argument, or standard input when it is ``-`` or absent.

    Both must be UTF-8. A byte that is not is refused with a usage error naming where it
    is, rather than replaced: the model would otherwise answer a prompt the user did not
    write. (Python hands an argument's undecodable byte over as a lone surrogate.)
    """
    if prompt is not None and prompt != "-":
        return utf8_argument(prompt, "the prompt")
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("give a prompt, or pipe one on standard input")
    raw = getattr(sys.stdin, "buffer", None)
    try:
        # A text-only stream (tests, embedding) is already decoded; a real one is decoded here, strictly.
        data: str | bytes = sys.stdin.read() if raw is None else raw.read()
    except OSError as exc:  # a terminal that went away (EIO), say
        raise UsageError(f"cannot read the prompt from standard input: {exc.strerror or exc}") from None
    if isinstance(data, str):
        text = utf8_argument(data, "the prompt read from standard input")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(_not_utf8("the prompt read from standard input", data, exc.start)) from None
    if not text.strip():
        raise UsageError("the prompt read from standard input is empty")
    return text


def utf8_argument(text: str, what: str) -> str:
    r"""``text`` unchanged, or a :class:`UsageError` if it held a byte that is not UTF-8.

    Examples:
        >>> utf8_argument("café", "the prompt")
        'café'
        >>> utf8_argument("caf\udce9", "the prompt")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        botticelli.cli._common.UsageError: the prompt is not valid UTF-8: byte 0xe9 at offset 3; ...
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(_not_utf8(what, data, exc.start)) from None
    except UnicodeEncodeError:
        pass  # a surrogate that stands for no byte
    raise UsageError(f"{what} holds a lone surrogate, which is not valid Unicode text")


def _not_utf8(what: str, data: bytes, offset: int) -> str:
    return (
        f"{what} is not valid UTF-8: byte 0x{data[offset]:02x} at offset {offset}; "
        "convert it first (for example: iconv -f latin1 -t utf-8)"
    )


async def run(args: argparse.Namespace) -> int:
    """Generate once and print the result (or, with ``--batch``, answer a whole file).

    ``--timeout`` and ``--max-retries`` are per-call options (:func:`botticelli.call_options`)
    over every request the command sends.
    """
    options = {"timeout": args.timeout, "max_retries": args.max_retries}
    with call_options(**{k: v for k, v in options.items() if v is not None}):
        return await _generate(args)


async def _generate(args: argparse.Namespace) -> int:
    system = utf8_argument(args.system, "--system") if args.system is not None else None
    params: dict[str, Any] = {
        "max_tokens": args.max_tokens,
        "temperature": args.temperature,
        "routing_hint": args.hint,
    }
    if args.batch is not None:
        defaults = {k: v for k, v in {**params, "system": system}.items() if v is not None}
        return await run_batch(args, defaults)
    prompt = read_prompt(args.prompt)
    provider = provider_from_args(args)
    request = GenerateRequest.from_prompt(prompt, system=system, **{k: v for k, v in params.items() if v is not None})
    async with open_client(provider) as client:
        started = time.monotonic()
        if not args.stream:
            response = await client.generate(request)
            if args.json:
                emit_json(_response_json(response, client.provider_name, time.monotonic() - started))
            else:
                stdout().write(response.text + "\n")
            return 0
        out = stdout()
        async with client.generate_stream(request) as stream:
            async for chunk in stream:
                if args.json:
                    emit_json(chunk.model_dump(mode="json", exclude_defaults=True) | {"is_final": chunk.is_final})
                elif chunk.text:
                    out.write(chunk.text)
                    out.flush()
        if not args.json:
            out.write("\n")
    return 0


def _response_json(response: GenerateResponse, provider: str, latency: float) -> dict[str, Any]:
    return {
        "provider": provider,
        "model": response.model,
        "text": response.text,
        "finish_reason": response.finish_reason.value,
        "usage": _usage_json(response.usage),
        "latency_s": round(latency, 4),
    }


def _usage_json(usage: Usage | None) -> dict[str, Any] | None:
    return usage.model_dump(exclude_none=True) if usage is not None else None
