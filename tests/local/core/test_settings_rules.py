"""The shared settings rules: the credential-name rule, the one error translator, a backend's section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import Field

from botticelli_core import ConfigSection, FrozenModel, Requirement
from botticelli_core._base import is_secret_name, validate_settings
from botticelli_error import ConfigurationError, redact_url
from tests.local.error.chains import exception_chain, secret_leaks


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "apikey",
        "API_KEY",
        "--api-key",
        "--hf-token",
        "hf_token",
        "x-goog-api-key",
        "Authorization",
        "secret",
        "client_secret_value",
        "password",
        "--db-password=x",
        "credentials",
        "model.local.api_key",
    ],
)
def test_credential_names_are_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["max_tokens", "--max-tokens", "--ssl-keyfile", "model", "base_url", "--port", "token_budget", "", "--"]
)
def test_other_names_are_not(name: str) -> None:
    assert not is_secret_name(name)


def test_redact_url_leaves_anything_else_alone() -> None:
    assert redact_url("http://u:p@h:1/x?y") == "http://u:***@h:1/x?y"
    for text in ("not a url", "user@example.com", "http://localhost:8080/v1"):
        assert redact_url(text) == text
    # A lone user name is often a token, and an unparseable URL may hide one.
    assert redact_url("http://user@host") == "http://***@host"
    assert "bad" not in redact_url("http://[bad@")


class Limits(FrozenModel):
    retries: int = Field(default=0, ge=0)
    api_key: str | None = None
    endpoint: str = "http://localhost:1"


def test_frozen_model_names_the_field_and_lists_known_keys_for_an_unknown_one() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Limits(retrys=1)  # type: ignore[call-arg]
    assert (
        caught.value.message == "invalid Limits: Limits.retrys: unknown key; expected one of api_key, endpoint, retries"
    )


def test_values_of_credential_fields_and_url_passwords_are_never_echoed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Limits(api_key=12345, endpoint=["x"])
    assert "12345" not in str(caught.value)
    with pytest.raises(ConfigurationError) as url:
        Limits(retries="http://u:hunter2@h")
    assert "hunter2" not in str(url.value)
    assert "http://u:***@h" in str(url.value)


@pytest.mark.parametrize(
    "build",
    [
        lambda data: Limits(**data),
        lambda data: validate_settings(Limits, data, label=lambda key: f"file.toml: limits.{key}"),
    ],
    ids=["model", "validate_settings"],
)
def test_a_settings_error_leaves_pydantic_error_and_key_off_its_chain(
    build: Callable[[dict[str, Any]], object],
) -> None:
    # pydantic's error quotes the input (the key, here a list it is not), "from None" or not.
    key = "sk-settings-3c8e1f7a90d2"
    with pytest.raises(ConfigurationError) as caught:
        build({"api_key": [key], "retries": -1})
    assert exception_chain(caught.value) == [caught.value]
    assert secret_leaks(caught.value, key) == []


def test_validate_settings_names_each_problem_by_the_label() -> None:
    with pytest.raises(ConfigurationError) as caught:
        validate_settings(Limits, {"retries": -1, "extra": 1}, label=lambda key: f"file.toml: limits.{key}")
    message = caught.value.message
    assert "file.toml: limits.retries: Input should be greater than or equal to 0 (got -1)" in message
    assert "file.toml: limits.extra: unknown key" in message
    # Outside validate_settings, the same model translates its own errors again.
    with pytest.raises(ConfigurationError, match="invalid Limits"):
        Limits(retries=-1)


SECTION = ConfigSection(
    name="demo",
    config_class=Limits,
    env={"DEMO_RETRIES": "retries", "DEMO_KEY": "api_key"},
    required=(Requirement(("api_key",), "the key from the demo console"),),
)


def test_a_section_reads_its_variables_and_lets_overrides_win() -> None:
    config = SECTION.from_env({"DEMO_RETRIES": " 3 ", "DEMO_KEY": "k", "OTHER": "x"})
    assert (config.retries, config.api_key) == (3, "k")
    assert SECTION.from_env({"DEMO_KEY": "k", "DEMO_RETRIES": "3"}, retries=5).retries == 5
    assert SECTION.from_env({}, api_key="given-in-code").api_key == "given-in-code"


def test_a_missing_required_credential_names_its_variable() -> None:
    with pytest.raises(ConfigurationError) as caught:
        SECTION.from_env({"DEMO_KEY": "  "})
    assert caught.value.message == "DEMO_KEY is not set: export it with the key from the demo console"
    assert caught.value.provider == "demo"
    need = SECTION.unmet({})
    assert need is not None
    assert SECTION.missing_advice(need) == "is missing: export DEMO_KEY with the key from the demo console"
