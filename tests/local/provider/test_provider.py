"""ModelProvider: each provider name builds its backend, checks its settings up front, imports it lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from botticelli.hybrid import HybridModel
from botticelli.provider import ModelProvider
from botticelli_embedded import EmbeddedModel
from botticelli_error import ConfigurationError
from botticelli_gemini import GeminiClient
from botticelli_server import ServerClient


def tiny_file(tmp_path: Path) -> Path:
    # EmbeddedConfig only checks that the file exists; nothing loads it in these tests.
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF")
    return path


@pytest.mark.anyio
async def test_local_builds_a_server_client_with_the_sections_other_settings() -> None:
    provider = ModelProvider.from_dict(
        {"model": {"local": {"base_url": "http://127.0.0.1:9000/v1", "model": "phi", "read_timeout": 5}}}
    )
    async with provider.create_client() as client:
        assert isinstance(client, ServerClient)
        assert (client.config.base_url, client.config.model, client.config.read_timeout) == (
            "http://127.0.0.1:9000",
            "phi",
            5.0,
        )


@pytest.mark.anyio
async def test_gemini_takes_its_key_from_the_environment() -> None:
    provider = ModelProvider.from_dict(
        {"model": {"provider": "gemini", "gemini": {"model": "gemini-2.5-pro", "max_retries": 1}}},
        env={"GEMINI_API_KEY": "AIza-test-key"},
    )
    async with provider.create_client() as client:
        assert isinstance(client, GeminiClient)
        assert (client.model_name, client.config.max_retries) == ("gemini-2.5-pro", 1)
        assert client.config.api_key.get_secret_value() == "AIza-test-key"
    assert "AIza-test-key" not in repr(provider) + repr(provider.settings) + repr(client)


def test_embedded_builds_an_embedded_model(tmp_path: Path) -> None:
    tiny_file(tmp_path)
    relative = ModelProvider.from_config(
        _write(tmp_path, '[model]\nprovider = "embedded"\n[model.embedded]\nmodel_path = "tiny.gguf"\n'), env={}
    )
    client = relative.create_client()
    assert isinstance(client, EmbeddedModel)
    assert client.config.model_path == tmp_path / "tiny.gguf"
    assert relative.provider_name == "embedded"


def _write(folder: Path, text: str) -> Path:
    path = folder / "botticelli.toml"
    path.write_text(text)
    return path


def test_embedded_with_a_missing_relative_file_fails_naming_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path, '[model]\nprovider = "embedded"\n[model.embedded]\nmodel_path = "gone.gguf"\n')
    with pytest.raises(ConfigurationError) as caught:
        ModelProvider.from_config(path, env={})
    assert caught.value.message.startswith(f"{path}: model.embedded.model_path: model file ")
    assert "gone.gguf does not exist" in caught.value.message


@pytest.mark.anyio
async def test_hybrid_builds_both_backends_with_the_policy(tmp_path: Path) -> None:
    provider = ModelProvider.from_dict(
        {
            "model": {
                "provider": "hybrid",
                "local": {"model": "phi"},
                "hybrid": {"prefer": "local", "fallback": "gemini", "prompt_tokens_threshold": 10},
            }
        },
        env={"GEMINI_API_KEY": "k"},
    )
    assert provider.backends == ("local", "gemini")
    async with provider.create_client() as client:
        assert isinstance(client, HybridModel)
        assert isinstance(client.preferred, ServerClient)
        assert isinstance(client.fallback, GeminiClient)
        assert client.policy.prompt_tokens_threshold == 10


@pytest.mark.parametrize(
    ("data", "env", "expected"),
    [
        ({}, {}, "settings: model.local.model is missing: name the model the server serves"),
        ({"model": {"provider": "gemini"}}, {}, "settings: model.gemini.api_key is missing: export GEMINI_API_KEY"),
        ({"model": {"provider": "embedded"}}, {}, "settings: model.embedded.model_path is missing"),
        (
            {"model": {"local": {"model": "phi", "max_retries": -1}}},
            {},
            "settings: model.local.max_retries: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            {"model": {"local": {"model": "phi", "retries": 3}}},
            {},
            "settings: model.local.retries: unknown key; expected one of adapters, api_key, ",
        ),
        (
            {"model": {"local": {"model": "phi", "base_url": "localhost:8080"}}},
            {},
            "settings: model.local.base_url: must be an http:// or https:// URL",
        ),
        (
            {"model": {"provider": "hybrid", "local": {"model": "phi"}}},
            {},
            "settings: model.gemini.api_key is missing",
        ),
    ],
    ids=["no-local-model", "no-gemini-key", "no-embedded-path", "bad-retries", "unknown-key", "bad-url", "hybrid"],
)
def test_the_chosen_backends_settings_are_checked_up_front(
    data: dict[str, object], env: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ModelProvider.from_dict(data, env=env)
    assert caught.value.message.startswith(expected)


def test_backend_errors_name_the_file_or_variable_the_value_came_from(tmp_path: Path) -> None:
    path = _write(tmp_path, '[model.local]\nmodel = "phi"\nconnect_timeout = 0\n')
    with pytest.raises(ConfigurationError) as from_file:
        ModelProvider.from_config(path, env={})
    assert from_file.value.message.startswith(f"{path}: model.local.connect_timeout: Input should be greater")
    with pytest.raises(ConfigurationError) as from_env:
        ModelProvider.from_config(path, env={"INFERENCE_SERVER_BASE_URL": "ftp://x"})
    assert from_env.value.message.startswith("environment variable INFERENCE_SERVER_BASE_URL: model.local.base_url")


def test_a_gemini_key_never_appears_in_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        ModelProvider.from_dict({"model": {"provider": "gemini", "gemini": {"api_key": "AIza-leak", "bad": 1}}})
    assert "AIza-leak" not in str(caught.value)


def test_a_section_not_in_use_is_not_checked() -> None:
    provider = ModelProvider.from_dict({"model": {"local": {"model": "phi"}, "gemini": {"timeout_typo": 1}}})
    assert provider.provider_name == "local"
    with pytest.raises(ConfigurationError, match=r"model\.gemini\.api_key is missing"):
        provider.with_overrides(provider="gemini")


def test_overrides_choose_another_provider_or_model() -> None:
    provider = ModelProvider.from_dict({"model": {"local": {"model": "phi"}}}, env={"GEMINI_API_KEY": "k"})
    assert provider.with_overrides(provider="gemini", model="gemini-2.5-pro").create_client().model_name == (
        "gemini-2.5-pro"
    )
    assert provider.with_overrides() is provider
    with pytest.raises(ConfigurationError, match="unknown provider 'openai'; choose one of local, gemini"):
        provider.with_overrides(provider="openai")
    with pytest.raises(ConfigurationError, match="hybrid uses two"):
        provider.with_overrides(provider="hybrid", model="x")


def test_backend_config_is_only_given_for_backends_in_use() -> None:
    provider = ModelProvider.from_dict({"model": {"local": {"model": "phi"}}})
    assert provider.backend_config("local").model_dump()["model"] == "phi"
    with pytest.raises(ConfigurationError, match="does not use the 'gemini' backend"):
        provider.backend_config("gemini")


def test_from_env_reads_only_the_environment() -> None:
    provider = ModelProvider.from_env({"INFERENCE_SERVER_MODEL": "default"})
    assert (provider.provider_name, provider.create_client().model_name) == ("local", "default")


def test_backends_are_imported_only_when_chosen() -> None:
    code = (
        "import sys, botticelli\n"
        "from botticelli.provider import ModelProvider\n"
        "p = ModelProvider.from_dict({'model': {'local': {'model': 'phi'}}})\n"
        "p.create_client()\n"
        "print(sorted(m for m in ('botticelli_gemini', 'botticelli_embedded', 'botticelli_server', 'mistralrs')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['botticelli_server']"


def test_a_base_url_with_an_impossible_port_fails_when_the_provider_is_made(tmp_path: Path) -> None:
    path = _write(tmp_path, '[model.local]\nmodel = "phi"\nbase_url = "http://127.0.0.1:99999"\n')
    with pytest.raises(ConfigurationError) as caught:
        ModelProvider.from_config(path, env={})
    assert caught.value.message.startswith(f"{path}: model.local.base_url: the port must be a number from 1 to 65535")


def test_the_provider_builds_exactly_the_backends_config_class() -> None:
    from botticelli_server import ServerConfig  # noqa: PLC0415 - imported lazily by the provider too

    config = ModelProvider.from_dict({"model": {"local": {"model": "phi"}}}).backend_config("local")
    assert type(config) is ServerConfig
