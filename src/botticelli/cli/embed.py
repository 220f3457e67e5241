"""``botticelli embed`` (texts in, one JSON line per vector out) and ``botticelli tokens`` (a prompt's count)."""

from __future__ import annotations

import argparse
from typing import Any

from botticelli.cli._common import UsageError, add_config_options, emit_json, open_client, provider_from_args, stdout
from botticelli.cli.generate import read_prompt, utf8_argument
from botticelli_core import GenerateRequest
from botticelli_error import ConfigurationError
from botticelli_interface import SupportsCountTokens, SupportsEmbed

__all__ = ["add_parsers", "run_embed", "run_tokens"]


def add_parsers(commands: Any) -> None:
    """Register ``embed`` and ``tokens`` on the subcommand parsers."""
    embed: argparse.ArgumentParser = commands.add_parser(
        "embed",
        help="embed texts: one JSON line per text",
        description="Embed each text argument, in order, printing one JSON object per line: "
        '{"index", "model", "embedding"}.',
    )
    embed.add_argument("texts", nargs="+", metavar="TEXT", help="a text to embed")
    embed.add_argument("--dimensions", type=_positive_int, metavar="N", help="ask for vectors of N floats")
    embed.add_argument("--task", metavar="TASK", help="what the vectors are for (Gemini: e.g. RETRIEVAL_QUERY)")
    embed.add_argument(
        "--truncate", action="store_true", help="cut texts over the model's context instead of failing, where possible"
    )
    add_config_options(embed)
    embed.set_defaults(handler=run_embed)

    tokens: argparse.ArgumentParser = commands.add_parser(
        "tokens",
        help="count a prompt's tokens without generating",
        description="Count the prompt's tokens. The prompt is the argument, or standard input when it is '-' "
        "or absent. A count the backend could not make exact (no chat template) is marked as a lower bound.",
    )
    tokens.add_argument("prompt", nargs="?", help="the prompt ('-' or absent: read standard input)")
    tokens.add_argument("--system", metavar="TEXT", help="a system instruction")
    tokens.add_argument("--json", action="store_true", help='machine output: {"input_tokens", "exact"}')
    add_config_options(tokens)
    tokens.set_defaults(handler=run_tokens)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


async def run_embed(args: argparse.Namespace) -> int:
    """Embed the texts and print one JSON line per vector, in input order."""
    texts = [utf8_argument(text, f"text {i}") for i, text in enumerate(args.texts)]
    if any(not text for text in texts):
        raise UsageError("a text to embed is empty")
    async with open_client(provider_from_args(args)) as client:
        if not isinstance(client, SupportsEmbed):
            raise ConfigurationError(
                f"the {client.provider_name} backend has no embeddings", provider=client.provider_name
            )
        response = await client.embed(texts, dimensions=args.dimensions, task=args.task, truncate=args.truncate)
    for index, vector in enumerate(response.vectors):
        emit_json({"index": index, "model": response.model, "embedding": vector})
    return 0


async def run_tokens(args: argparse.Namespace) -> int:
    """Count the prompt's tokens and print the count."""
    prompt = read_prompt(args.prompt)
    system = utf8_argument(args.system, "--system") if args.system is not None else None
    request = GenerateRequest.from_prompt(prompt, system=system)
    async with open_client(provider_from_args(args)) as client:
        if not isinstance(client, SupportsCountTokens):
            raise ConfigurationError(
                f"the {client.provider_name} backend cannot count tokens", provider=client.provider_name
            )
        count = await client.count_tokens(request)
    if args.json:
        emit_json({"input_tokens": count.input_tokens, "exact": count.exact})
    elif count.exact:
        stdout().write(f"{count.input_tokens}\n")
    else:
        stdout().write(f"{count.input_tokens} (at least: the backend counted the text without its chat template)\n")
    return 0
