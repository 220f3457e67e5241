"""What the local backend is told when [server] autostart starts its server."""

from __future__ import annotations

from typing import Any

import pytest

from botticelli import ModelProvider
from botticelli.autostart import AutostartedClient
from botticelli.config import settings_from_dict
from botticelli_core import LoraAdapter
from botticelli_error import ConfigurationError
from botticelli_server.config import ServerConfig


def provider(server: dict[str, Any], local: dict[str, Any] | None = None) -> ModelProvider:
    table = {"preset": "llama-server", "model": "models/tiny.gguf", "autostart": True, **server}
    return ModelProvider.from_dict({"model": {"local": local or {}}, "server": table})


def local_config(server: dict[str, Any], local: dict[str, Any] | None = None) -> ServerConfig:
    config = provider(server, local).backend_config("local")
    assert isinstance(config, ServerConfig)
    return config


def test_the_server_names_the_model_the_dialect_and_the_adapters() -> None:
    adapters = [{"name": "sql", "path": "sql.gguf", "scale": 0.5}]
    config = local_config({"alias": "tiny", "port": 8099, "adapters": adapters})
    assert config.model == "tiny"
    assert config.dialect == "llama.cpp"
    assert config.adapters == (LoraAdapter(name="sql", path="sql.gguf", scale=0.5),)
    assert config.base_url == "http://127.0.0.1:8099"


def test_model_local_settings_win_over_what_the_server_implies() -> None:
    config = local_config(
        {"alias": "tiny", "adapters": [{"name": "sql", "path": "sql.gguf"}]},
        {"model": "other", "dialect": "openai", "adapters": [], "max_retries": 1},
    )
    assert (config.model, config.dialect, config.adapters, config.max_retries) == ("other", "openai", (), 1)


def test_without_a_port_the_address_is_left_to_the_start() -> None:
    assert local_config({"port": 0}).base_url == "http://127.0.0.1"


def test_a_base_url_contradicts_autostart() -> None:
    with pytest.raises(ConfigurationError, match=r"model\.local\.base_url cannot be used with \[server\] autostart"):
        provider({}, {"base_url": "http://127.0.0.1:9"})


def test_a_preset_that_cannot_load_the_adapters_fails_when_the_provider_is_made() -> None:
    with pytest.raises(ConfigurationError, match=r"server\.preset cannot be used: the 'mistralrs' server preset"):
        provider({"preset": "mistralrs", "adapters": [{"name": "a", "path": "a"}]})


def test_the_client_is_autostarted_and_made_per_create_client() -> None:
    built = provider({"alias": "tiny", "restart": {"max_restarts": 2}})
    first, second = built.create_client(), built.create_client()
    assert isinstance(first, AutostartedClient)
    assert isinstance(second, AutostartedClient)
    assert first is not second
    assert first.model_name == "tiny"
    assert first.restart_policy is not None
    assert first.restart_policy.max_restarts == 2


def test_without_autostart_the_local_client_is_the_plain_one() -> None:
    data = {"model": {"local": {"model": "m"}}, "server": {"preset": "llama-server", "model": "m.gguf"}}
    assert not isinstance(ModelProvider.from_dict(data).create_client(), AutostartedClient)


@pytest.mark.parametrize(
    ("server", "problem"),
    [
        ({"model_path": "b.gguf"}, "give model or model_path, not both"),
        ({"port": -1}, "server.port"),
        ({"restart": {"max_restarts": 0}}, "server.restart.max_restarts"),
        ({"adapters": [{"name": "a", "path": "1"}, {"name": "a", "path": "2"}]}, "repeated: a"),
    ],
)
def test_server_table_mistakes_name_the_key(server: dict[str, Any], problem: str) -> None:
    table = {"preset": "llama-server", "model": "a.gguf", **server}
    with pytest.raises(ConfigurationError, match=problem.replace(".", r"\.")):
        settings_from_dict({"server": table})


def test_an_hf_reference_reaches_the_launcher_as_a_reference_it_downloads_at_start() -> None:
    from botticelli._server_section import server_from_section  # noqa: PLC0415

    settings = settings_from_dict({"server": {"preset": "llama-server", "model": "hf:org/repo/m.gguf@v2"}})
    assert settings.server is not None
    server = server_from_section(settings.server)
    # Nothing is fetched when the server is built: start() downloads it (tested in tests/local/hub).
    assert server._ref is not None
    assert server._ref.needs_download
    assert str(server._ref) == "hf:org/repo/m.gguf@v2"
    assert server._model is None


def test_the_embedded_engine_refuses_adapters_naming_why(tmp_path: Any) -> None:
    from botticelli_embedded.config import EmbeddedConfig  # noqa: PLC0415

    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    with pytest.raises(ConfigurationError, match="PEFT directories"):
        EmbeddedConfig(model_path=model, adapters=[{"name": "a", "path": "a.gguf"}])
    assert EmbeddedConfig(model_path=model).adapters == ()


def test_relative_model_and_adapter_paths_resolve_against_the_file_where_they_exist(tmp_path: Any) -> None:
    from botticelli.config import load_settings  # noqa: PLC0415

    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    (tmp_path / "sql.gguf").write_bytes(b"GGUF")
    config = tmp_path / "botticelli.toml"
    config.write_text(
        '[model.local]\nadapters = [{ name = "hub", path = "org/hub-lora" }]\n'
        '[server]\npreset = "llama-server"\nmodel = "m.gguf"\nadapters = [{ name = "sql", path = "sql.gguf" }]\n'
    )
    settings = load_settings(config, env={})
    assert settings.server is not None
    assert str(settings.server.model) == str(tmp_path / "m.gguf")
    assert settings.server.adapters[0].path == str(tmp_path / "sql.gguf")
    # A repository id is not a file next to the configuration: it is left as written.
    assert settings.model.local.options["adapters"][0]["path"] == "org/hub-lora"
