import pytest

from botticelli_error import ConfigurationError
from botticelli_gemini import FREE_TIER_LIMITS, GeminiConfig, RateLimits

from . import wire


def test_from_env_reads_the_key_and_an_optional_model() -> None:
    cfg = GeminiConfig.from_env({"GEMINI_API_KEY": wire.API_KEY, "GEMINI_MODEL": "gemini-2.5-pro"})
    assert cfg.api_key.get_secret_value() == wire.API_KEY
    assert cfg.model == "gemini-2.5-pro"
    assert GeminiConfig.from_env({"GEMINI_API_KEY": wire.API_KEY}).model == "gemini-2.5-flash"


@pytest.mark.parametrize("env", [{}, {"GEMINI_API_KEY": ""}, {"GEMINI_API_KEY": "   "}])
def test_from_env_without_a_key_raises_configuration_error_naming_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="GEMINI_API_KEY"):
        GeminiConfig.from_env(env)


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", wire.API_KEY)
    monkeypatch.delenv("GEMINI_MODEL", raising=False)
    assert GeminiConfig.from_env(max_retries=5).max_retries == 5


def test_the_key_never_appears_in_repr_str_or_dump() -> None:
    cfg = GeminiConfig(api_key=wire.API_KEY)
    assert wire.API_KEY not in repr(cfg)
    assert wire.API_KEY not in str(cfg)
    assert wire.API_KEY not in cfg.model_dump_json()


def test_invalid_settings_raise_configuration_error_without_echoing_the_key() -> None:
    with pytest.raises(ConfigurationError) as caught:
        GeminiConfig.build(api_key=wire.API_KEY, base_url="generativelanguage.googleapis.com")
    assert "base_url" in caught.value.message
    assert wire.API_KEY not in str(caught.value)


def test_base_url_is_normalised_and_must_not_include_the_api_version() -> None:
    assert GeminiConfig(api_key="k", base_url="http://127.0.0.1:9/").base_url == "http://127.0.0.1:9"
    with pytest.raises(ConfigurationError, match="v1beta"):
        GeminiConfig.build(api_key="k", base_url="https://generativelanguage.googleapis.com/v1beta")


def test_a_models_prefix_on_the_model_name_is_accepted() -> None:
    assert GeminiConfig(api_key="k", model="models/gemini-2.5-pro").model == "gemini-2.5-pro"


def test_limits_apply_per_model_with_a_wildcard_fallback() -> None:
    cfg = GeminiConfig(api_key="k", rate_limits={**FREE_TIER_LIMITS, "*": RateLimits(max_concurrency=2)})
    assert cfg.limits_for("gemini-2.5-flash") == RateLimits(
        requests_per_minute=10, tokens_per_minute=250_000, requests_per_day=250
    )
    assert cfg.limits_for("gemini-3-pro") == RateLimits(max_concurrency=2)
    assert GeminiConfig(api_key="k").limits_for("gemini-2.5-flash") is None


def test_from_env_takes_env_by_keyword_and_a_key_given_in_code() -> None:
    assert GeminiConfig.from_env(env={"GEMINI_API_KEY": wire.API_KEY}).api_key.get_secret_value() == wire.API_KEY
    assert GeminiConfig.from_env({}, api_key="in-code").api_key.get_secret_value() == "in-code"


def test_base_url_port_and_host_are_checked_and_a_password_is_hidden() -> None:
    with pytest.raises(ConfigurationError, match=r"GeminiConfig\.base_url: the port"):
        GeminiConfig(api_key="k", base_url="https://127.0.0.1:65536")
    with pytest.raises(ConfigurationError, match=r"GeminiConfig\.base_url: the host"):
        GeminiConfig(api_key="k", base_url="https://no spaces.example.com")
    cfg = GeminiConfig(api_key="k", base_url="https://proxy:hunter22@gateway.example.com")
    assert "hunter22" not in repr(cfg)
    assert "hunter22" not in repr(cfg.http_settings())


def test_gemini_shares_the_transport_options_with_its_own_shorter_waits() -> None:
    cfg = GeminiConfig(api_key="k", connect_timeout=None, max_connections=5)
    settings = cfg.http_settings()
    assert (settings.provider, settings.connect_timeout, settings.read_timeout, settings.max_connections) == (
        "gemini",
        None,
        120.0,
        5,
    )
    assert settings.secret_headers["x-goog-api-key"].get_secret_value() == "k"
