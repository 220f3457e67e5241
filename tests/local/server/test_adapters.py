"""LoRA adapters: launch flags per preset, and per-request selection per dialect."""

from __future__ import annotations

import json
import sys

import pytest

from botticelli_core import GenerateRequest, LoraAdapter
from botticelli_error import ConfigurationError, UnsupportedInputError
from botticelli_server.convert import to_chat_request
from botticelli_server.launcher import InferenceServer
from botticelli_server.lora_flags import adapter_flags

SQL = LoraAdapter(name="sql", path="adapters/sql.gguf")
TONE = LoraAdapter(name="tone", path="adapters/tone.gguf", scale=0.25)
OFF = LoraAdapter(name="off", path="adapters/off.gguf", scale=0.0)
ASK_TONE = GenerateRequest.from_prompt("hi", adapter="tone")


def body(request: GenerateRequest, **options: object) -> dict[str, object]:
    wire = to_chat_request(request, default_model="base", **options)  # type: ignore[arg-type]
    decoded: dict[str, object] = json.loads(wire.to_json())
    return decoded


# -- launch flags ---------------------------------------------------------------------------------


def test_llama_server_loads_each_adapter_in_order_scaled_where_asked() -> None:
    assert adapter_flags("llama-server", [SQL, TONE, OFF]) == [
        "--lora", "adapters/sql.gguf",
        "--lora-scaled", "adapters/tone.gguf:0.25",
        "--lora-scaled", "adapters/off.gguf:0",
    ]  # fmt: skip


def test_llama_cpp_python_takes_one_unscaled_adapter() -> None:
    assert adapter_flags("llama-cpp-python", [SQL]) == ["--lora_path", "adapters/sql.gguf"]
    with pytest.raises(ConfigurationError, match="loads one LoRA adapter"):
        adapter_flags("llama-cpp-python", [SQL, TONE])
    with pytest.raises(ConfigurationError, match=r"'tone' must have scale 1\.0"):
        adapter_flags("llama-cpp-python", [TONE])


def test_vllm_serves_each_adapter_under_its_name_at_full_strength() -> None:
    assert adapter_flags("vllm", [SQL]) == ["--enable-lora", "--lora-modules", "sql=adapters/sql.gguf"]
    with pytest.raises(ConfigurationError, match="takes no LoRA scale"):
        adapter_flags("vllm", [SQL, TONE])


@pytest.mark.parametrize("preset", ["mistralrs", "mistralrs-server", None])
def test_presets_without_adapter_flags_refuse_them(preset: str | None) -> None:
    with pytest.raises(ConfigurationError, match="adapter"):
        adapter_flags(preset, [SQL])
    assert adapter_flags(preset, []) == []


def test_the_launcher_puts_adapter_flags_before_extra_args_and_tells_the_client() -> None:
    server = InferenceServer(
        "llama-server", model="m.gguf", model_name="m", port=8111, adapters=[SQL, TONE], extra_args=["-c", "64"]
    )
    assert server.argv[-6:] == [
        "--lora", "adapters/sql.gguf", "--lora-scaled", "adapters/tone.gguf:0.25", "-c", "64",
    ]  # fmt: skip
    server._ready = True  # what start() sets; the config is what a started server hands out
    assert server.config.adapters == (SQL, TONE)
    assert server.config.dialect == "llama.cpp"


def test_the_launcher_refuses_adapters_a_preset_or_command_cannot_take() -> None:
    with pytest.raises(ConfigurationError, match="custom server command"):
        InferenceServer([sys.executable, "-m", "srv"], adapters=[SQL])
    with pytest.raises(ConfigurationError, match="must be unique"):
        InferenceServer("llama-server", model="m.gguf", adapters=[SQL, SQL])


# -- per request --------------------------------------------------------------------------------


def test_llama_cpp_selects_the_named_adapter_by_its_position() -> None:
    sent = body(ASK_TONE, dialect="llama.cpp", adapters=[SQL, TONE])
    assert sent["lora"] == [{"id": 1, "scale": 0.25}]
    assert sent["model"] == "base"


def test_llama_cpp_applies_an_adapter_loaded_switched_off_at_full_strength() -> None:
    sent = body(GenerateRequest.from_prompt("hi", adapter="off"), dialect="llama.cpp", adapters=[SQL, OFF])
    assert sent["lora"] == [{"id": 1, "scale": 1.0}]


def test_llama_cpp_needs_the_adapter_listed() -> None:
    for adapters in ([], [SQL]):
        with pytest.raises(UnsupportedInputError, match="no LoRA adapter named 'tone'") as caught:
            body(ASK_TONE, dialect="llama.cpp", adapters=adapters)
        assert caught.value.input_type == "adapter"


def test_vllm_asks_for_the_adapter_as_the_model() -> None:
    assert body(ASK_TONE, dialect="vllm", adapters=[TONE])["model"] == "tone"
    # Adapters loaded at runtime are listed nowhere: the server judges the name.
    assert body(ASK_TONE, dialect="vllm")["model"] == "tone"
    with pytest.raises(UnsupportedInputError, match="no LoRA adapter named 'tone'"):
        body(ASK_TONE, dialect="vllm", adapters=[SQL])


@pytest.mark.parametrize("dialect", ["openai", "llama-cpp-python", "mistral.rs", "ollama", "auto"])
def test_other_dialects_refuse_a_per_request_adapter_naming_it(dialect: str) -> None:
    with pytest.raises(UnsupportedInputError) as caught:
        body(ASK_TONE, dialect=dialect, adapters=[TONE])
    assert caught.value.input_type == "adapter"


def test_a_request_without_an_adapter_is_unchanged_on_every_dialect() -> None:
    plain = GenerateRequest.from_prompt("hi")
    assert body(plain, dialect="llama.cpp", adapters=[SQL]) == body(plain)
