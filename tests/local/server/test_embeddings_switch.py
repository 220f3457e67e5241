"""The presets' embeddings switch: ``[server] embeddings = true`` / ``InferenceServer(embeddings=True)``.

Serving embeddings used to take the server's own flag in ``extra_args``, which each server
spells differently (and some cannot take at all). The switch adds the preset's flag, and
refuses where the server cannot embed, saying what works instead.
"""

from __future__ import annotations

import pytest

from botticelli._server_section import server_from_section
from botticelli.config.schema import validate_tables
from botticelli_error import ConfigurationError
from botticelli_server._presets import PRESETS, ServerPreset, get_preset
from botticelli_server.launcher import InferenceServer


@pytest.mark.parametrize(
    ("preset", "model", "flags"),
    [
        ("llama-cpp-python", "models/tiny.gguf", ["--embedding", "true"]),
        ("llama-server", "models/nomic-embed.gguf", ["--embeddings"]),
        ("vllm", "models/e5", ["--runner", "pooling"]),
        ("vllm", "intfloat/e5-mistral-7b-instruct", ["--runner", "pooling"]),
        # mistral.rs has no switch: it embeds whenever the repository's model is an embedding model.
        ("mistralrs", "google/embeddinggemma-300m", []),
    ],
)
def test_each_preset_adds_its_own_servers_switch(preset: str, model: str, flags: list[str]) -> None:
    plain = InferenceServer(preset, model=model, port=8080).argv
    embedding = InferenceServer(preset, model=model, port=8080, embeddings=True).argv
    assert embedding == [*plain, *flags]


def test_extra_args_come_after_the_switch_so_they_can_override_it() -> None:
    server = InferenceServer(
        "llama-cpp-python", model="m.gguf", port=8080, embeddings=True, extra_args=["--embedding", "false"]
    )
    assert server.argv[-4:] == ["--embedding", "true", "--embedding", "false"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_has_a_switch_or_its_own_refusal_for_each_kind_of_model_it_loads(name: str) -> None:
    preset = PRESETS[name]
    generic = ServerPreset.model_fields["embeddings_refusal"].default
    switches = [preset.embeddings_argv] + ([preset.repo_embeddings_argv] if preset.repo_argv is not None else [])
    for switch in switches:
        assert switch is not None or preset.embeddings_refusal != generic


@pytest.mark.parametrize("preset", ["mistralrs", "mistralrs-server"])
def test_mistral_rs_on_a_gguf_file_cannot_embed_and_the_error_names_what_can(preset: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        InferenceServer(preset, model="models/phi.gguf", embeddings=True)
    message = caught.value.message
    assert f"the {preset!r} server preset cannot serve embeddings" in message
    assert "never from a GGUF file" in message or "GGUF files only" in message
    assert 'model = "google/embeddinggemma-300m"' in message


def test_a_custom_command_cannot_take_the_switch_it_carries_its_own_flags() -> None:
    with pytest.raises(ConfigurationError) as caught:
        InferenceServer(["my-server", "--port", "{port}"], embeddings=True)
    assert "add the server's embeddings flag" in caught.value.message
    assert "--embedding true" in caught.value.message


def test_the_server_table_switch_reaches_the_command() -> None:
    settings = validate_tables(
        {"server": {"preset": "llama-cpp-python", "model_path": "models/tiny.gguf", "port": 8080, "embeddings": True}}
    )
    assert settings.server is not None
    assert settings.server.embeddings is True
    assert server_from_section(settings.server).argv[-2:] == ["--embedding", "true"]


def test_the_switch_is_off_unless_set() -> None:
    settings = validate_tables({"server": {"preset": "llama-server", "model_path": "m.gguf", "port": 8080}})
    assert settings.server is not None
    assert "--embeddings" not in server_from_section(settings.server).argv
    assert get_preset("llama-server").argv_for(model="m.gguf", model_name="m", host="h", port=1)[-1] != "--embeddings"


def test_a_switch_the_server_cannot_take_is_a_configuration_error_of_the_table() -> None:
    settings = validate_tables({"server": {"preset": "mistralrs-server", "model_path": "m.gguf", "embeddings": True}})
    assert settings.server is not None
    with pytest.raises(ConfigurationError, match="cannot serve embeddings"):
        server_from_section(settings.server)
