"""A tiny LoRA adapter on the real llama-cpp-python server: greedy output changes with it.

The adapter is written by botticelli.testing for the tiny model and loaded with the
preset's ``--lora_path``; temperature 0 and a fixed seed make both answers repeatable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from botticelli.testing import write_tiny_lora
from botticelli_core import GenerateRequest, LoraAdapter
from botticelli_error import UnsupportedInputError
from botticelli_server.client import ServerClient
from tests.api._engine import tiny_llama_server

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("llama_cpp_server")]

PROMPT = GenerateRequest.from_prompt("Hello", max_tokens=12, temperature=0.0, seed=7)


async def greedy_text(model: Path, adapters: list[LoraAdapter]) -> tuple[str, str]:
    """The answer to PROMPT, twice, from a server started with ``adapters``."""
    async with tiny_llama_server(model, adapters=adapters) as server, ServerClient(server.config) as client:
        assert server.argv.count("--lora_path") == len(adapters)
        first = await client.generate(PROMPT)
        second = await client.generate(PROMPT)
    return first.text, second.text


@pytest.mark.anyio
async def test_the_adapter_changes_greedy_output(tiny_model: Path, tmp_path: Path) -> None:
    lora = write_tiny_lora(tmp_path / "tiny-lora.gguf", seed=3)
    plain, plain_again = await greedy_text(tiny_model, [])
    adapted, adapted_again = await greedy_text(tiny_model, [LoraAdapter(name="tiny-lora", path=str(lora))])
    # Each server is deterministic, so the difference is the adapter's, not sampling noise.
    assert plain == plain_again
    assert adapted == adapted_again
    assert plain != adapted


@pytest.mark.anyio
async def test_llama_cpp_python_cannot_switch_adapters_per_request(tiny_model: Path, tmp_path: Path) -> None:
    lora = write_tiny_lora(tmp_path / "tiny-lora.gguf", seed=3)
    adapters = [LoraAdapter(name="tiny-lora", path=str(lora))]
    async with tiny_llama_server(tiny_model, adapters=adapters) as server, ServerClient(server.config) as client:
        assert server.config.dialect == "llama-cpp-python"
        with pytest.raises(UnsupportedInputError) as caught:
            await client.generate(PROMPT.model_copy(update={"adapter": "tiny-lora"}))
    assert caught.value.input_type == "adapter"
