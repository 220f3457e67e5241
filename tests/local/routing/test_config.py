"""``[model.fallback]`` and ``[model.local] base_urls`` in botticelli.toml, and what the provider builds from them."""

from __future__ import annotations

import pytest

from botticelli import FallbackModel, ModelProvider, ReplicaPool
from botticelli.config import settings_from_dict
from botticelli_error import ConfigurationError
from botticelli_server import ServerClient

LOCAL = {"base_url": "http://127.0.0.1:8080", "model": "phi"}
GEMINI = {"api_key": "AIza-routing-config-test", "model": "gemini-2.5-flash"}


def test_a_chain_builds_a_fallback_model_with_each_entrys_model() -> None:
    provider = ModelProvider.from_dict(
        {
            "model": {
                "provider": "fallback",
                "fallback": {"chain": ["local", "gemini", "gemini:gemini-2.5-pro"], "cooldown": 5},
                "local": LOCAL,
                "gemini": GEMINI,
            }
        }
    )
    assert provider.backends == ("local", "gemini")
    client = provider.create_client()
    assert isinstance(client, FallbackModel)
    assert list(client.stats()) == ["local:phi", "gemini:gemini-2.5-flash", "gemini:gemini-2.5-pro"]
    assert client.members[1].breaker.cooldown == 5.0
    assert client.model_name == "phi|gemini-2.5-flash|gemini-2.5-pro"


@pytest.mark.parametrize(
    ("chain", "problem"),
    [
        (["openai"], "the backend must be one of local, gemini, embedded"),
        (["gemini:"], "nothing after ':'"),
        ([], "at least 1 item"),
    ],
)
def test_a_bad_chain_is_a_configuration_error_naming_the_key(chain: list[str], problem: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings_from_dict({"model": {"provider": "fallback", "fallback": {"chain": chain}}})
    assert "model.fallback.chain" in raised.value.message
    assert problem in raised.value.message


def test_a_chain_checks_every_backend_it_uses_at_once() -> None:
    with pytest.raises(ConfigurationError, match=r"model\.gemini\.api_key is missing"):
        ModelProvider.from_dict({"model": {"provider": "fallback", "local": LOCAL}}, env={})


def test_a_model_override_is_refused_for_a_chain() -> None:
    provider = ModelProvider.from_dict({"model": {"provider": "fallback", "local": LOCAL, "gemini": GEMINI}})
    with pytest.raises(ConfigurationError, match="fallback uses a chain of them"):
        provider.with_overrides(model="qwen")


def test_base_urls_build_a_replica_pool_with_the_sections_settings() -> None:
    provider = ModelProvider.from_dict(
        {
            "model": {
                "local": {
                    "model": "phi",
                    "base_urls": ["http://10.0.0.1:8080/v1", "http://10.0.0.2:8080"],
                    "eject_after": 5,
                    "health_check_interval": 2.5,
                }
            }
        }
    )
    client = provider.create_client()
    assert isinstance(client, ReplicaPool)
    assert list(client.stats()) == ["http://10.0.0.1:8080", "http://10.0.0.2:8080"]
    assert client.health_interval == 2.5
    assert client.members[0].breaker.failure_threshold == 5
    assert all(isinstance(r, ServerClient) and r.config.base_urls == () for r in client.replicas)
    assert client.balance == "affinity"


def test_pool_balance_chooses_how_the_pool_balances() -> None:
    local = {"model": "phi", "base_urls": ["http://10.0.0.1:8080", "http://10.0.0.2:8080"]}
    provider = ModelProvider.from_dict({"model": {"local": {**local, "pool_balance": "least_outstanding"}}})
    client = provider.create_client()
    assert isinstance(client, ReplicaPool)
    assert client.balance == "least_outstanding"
    with pytest.raises(ConfigurationError, match="pool_balance"):
        ModelProvider.from_dict({"model": {"local": {**local, "pool_balance": "random"}}})


def test_a_pool_inside_a_chain() -> None:
    client = ModelProvider.from_dict(
        {
            "model": {
                "provider": "fallback",
                "fallback": {"chain": ["local", "gemini"]},
                "local": {"model": "phi", "base_urls": ["http://10.0.0.1:8080", "http://10.0.0.2:8080"]},
                "gemini": GEMINI,
            }
        }
    ).create_client()
    assert isinstance(client, FallbackModel)
    assert isinstance(client.models[0], ReplicaPool)


def test_a_section_repr_hides_credentials_in_base_urls() -> None:
    settings = settings_from_dict({"model": {"local": {"model": "phi", "base_urls": ["http://u:hunter22@h:1"]}}})
    assert "hunter22" not in repr(settings.model.local)
