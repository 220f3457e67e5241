"""ServerConfig: URL normalisation, the environment, and the API key kept secret."""

from __future__ import annotations

import pytest

from botticelli_error import ConfigurationError
from botticelli_server import ServerConfig

KEY = "sk-env-9c1d0e7f"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:1234", "http://127.0.0.1:1234"),
        ("http://127.0.0.1:1234/", "http://127.0.0.1:1234"),
        ("http://127.0.0.1:1234/v1", "http://127.0.0.1:1234"),
        ("http://127.0.0.1:1234/v1/", "http://127.0.0.1:1234"),
        ("  https://gpu.example.com/llm/v1  ", "https://gpu.example.com/llm"),
    ],
)
def test_base_url_is_accepted_with_or_without_v1_and_trailing_slash(given: str, expected: str) -> None:
    assert ServerConfig(base_url=given, model="m").base_url == expected


@pytest.mark.parametrize(
    "bad", ["ftp://host:21", "localhost:8080", "http://", "http://host:1/v1?x=1", "http://host/#frag", ""]
)
def test_a_bad_base_url_is_a_configuration_error_naming_base_url(bad: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ServerConfig(base_url=bad, model="m")
    assert "base_url" in str(caught.value)


def test_invalid_settings_are_configuration_errors_naming_the_field() -> None:
    with pytest.raises(ConfigurationError, match="max_retries"):
        ServerConfig(model="m", max_retries=-1)
    with pytest.raises(ConfigurationError, match="model"):
        ServerConfig(model="")
    with pytest.raises(ConfigurationError, match="surprise"):
        ServerConfig(model="m", surprise=1)  # type: ignore[call-arg]


def test_from_env_reads_url_model_and_key() -> None:
    env = {
        "INFERENCE_SERVER_BASE_URL": "http://10.0.0.5:1234/v1",
        "INFERENCE_SERVER_MODEL": "default",
        "INFERENCE_SERVER_API_KEY": KEY,
    }
    cfg = ServerConfig.from_env(env, max_retries=5)
    assert (cfg.base_url, cfg.model, cfg.max_retries) == ("http://10.0.0.5:1234", "default", 5)
    assert cfg.api_key is not None
    assert cfg.api_key.get_secret_value() == KEY


def test_from_env_defaults_the_url_and_leaves_the_key_unset() -> None:
    cfg = ServerConfig.from_env({"INFERENCE_SERVER_MODEL": "phi"})
    assert (cfg.base_url, cfg.api_key) == ("http://localhost:8080", None)
    assert cfg.http_settings().secret_headers == {}


@pytest.mark.parametrize("env", [{}, {"INFERENCE_SERVER_MODEL": "   "}])
def test_from_env_without_a_model_names_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="INFERENCE_SERVER_MODEL"):
        ServerConfig.from_env(env)


def test_from_env_accepts_the_model_as_an_override() -> None:
    assert ServerConfig.from_env({}, model="phi").model == "phi"


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_SERVER_MODEL", "from-os")
    monkeypatch.delenv("INFERENCE_SERVER_BASE_URL", raising=False)
    assert ServerConfig.from_env().model == "from-os"


def test_the_api_key_is_secret_in_repr_str_and_json() -> None:
    cfg = ServerConfig.from_env({"INFERENCE_SERVER_MODEL": "m", "INFERENCE_SERVER_API_KEY": KEY})
    for text in (repr(cfg), str(cfg), cfg.model_dump_json(), repr(cfg.http_settings()), str(cfg.model_dump())):
        assert KEY not in text


def test_the_transport_settings_carry_the_key_as_a_bearer_header() -> None:
    settings = ServerConfig(model="m", api_key=KEY, total_timeout=None).http_settings()
    assert settings.secret_headers["Authorization"].get_secret_value() == f"Bearer {KEY}"
    assert settings.secrets() == (f"Bearer {KEY}", KEY)
    assert settings.total_timeout is None
    assert settings.provider == "local"


@pytest.mark.parametrize(
    "bad", ["http://127.0.0.1:99999", "http://127.0.0.1:0", "http://bad host:8080", "http://:8080", "http://h:port"]
)
def test_a_base_url_with_a_bad_port_or_host_is_refused_at_construction(bad: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ServerConfig(base_url=bad, model="m")
    assert "ServerConfig.base_url" in caught.value.message


def test_a_password_in_the_base_url_never_shows_in_a_repr_or_an_error() -> None:
    cfg = ServerConfig(base_url="http://me:pa55w0rd@127.0.0.1:1234/v1", model="m")
    assert cfg.base_url == "http://me:pa55w0rd@127.0.0.1:1234"
    for text in (repr(cfg), str(cfg), repr(cfg.http_settings())):
        assert "pa55w0rd" not in text
    assert "pa55w0rd" in cfg.http_settings().secrets()
    with pytest.raises(ConfigurationError) as caught:
        ServerConfig(base_url="http://me:pa55w0rd@127.0.0.1:99999", model="m")
    assert "pa55w0rd" not in str(caught.value)


def test_the_transport_options_are_the_shared_declaration() -> None:
    from botticelli_transport import TransportOptions  # noqa: PLC0415 - only this test needs it

    assert issubclass(ServerConfig, TransportOptions)
    assert ServerConfig(model="m", max_connections=3).http_settings().max_connections == 3
    with pytest.raises(ConfigurationError, match="max_retries"):
        ServerConfig(model="m", max_retries=21)
