"""``botticelli health`` over a replica pool and a fallback chain: one line per replica or member."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from botticelli.cli import main
from botticelli.config import PROVIDERS

A, B = "http://replica-a.test", "http://replica-b.test"


def test_health_of_a_pool_reports_each_replica(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "botticelli.toml").write_text(
        f'[model]\nprovider = "local"\n[model.local]\nbase_urls = ["{A}", "{B}"]\nmodel = "phi"\nmax_retries = 0\n'
    )
    with respx.mock(using="httpx", assert_all_mocked=True) as router:
        router.get(f"{A}/health").respond(json={"status": "ok"})
        router.get(f"{B}/health").mock(side_effect=httpx.ConnectError("refused"))
        assert main(["health"]) == 0
        out = capsys.readouterr().out
        assert f"{A}: ok in " in out
        assert f"{B}: not ready (unreachable)" in out
        assert "local: degraded" in out
        assert main(["health", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert list(result["backends"]) == [A, B]
        assert result["status"] == "degraded"


def test_health_of_a_fallback_chain_reports_each_member(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "botticelli.toml").write_text(
        '[model]\nprovider = "fallback"\n[model.fallback]\nchain = ["local", "local:qwen"]\n'
        f'[model.local]\nbase_url = "{A}"\nmodel = "phi"\nmax_retries = 0\n'
    )
    with respx.mock(using="httpx", assert_all_mocked=True) as router:
        router.get(f"{A}/health").mock(side_effect=httpx.ConnectError("refused"))
        assert main(["health"]) == 1
    out = capsys.readouterr().out
    assert "local:phi: not ready (unreachable)" in out
    assert "local:qwen: not ready (unreachable)" in out
    assert "fallback: unreachable" in out


def test_provider_choices_are_the_providers_the_settings_accept(capsys: pytest.CaptureFixture[str]) -> None:
    # One list (botticelli.config.PROVIDERS) for the schema and for every command's --provider.
    assert main(["generate", "--help"]) == 0
    usage = " ".join(capsys.readouterr().out.split())
    assert "--provider {" + ",".join(PROVIDERS) + "}" in usage
    assert "fallback" in PROVIDERS


def test_provider_fallback_on_the_command_line_picks_the_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A local-only file; --provider fallback chooses the chain, whose local member needs no model for health.
    (tmp_path / "botticelli.toml").write_text(
        f'[model]\nprovider = "local"\n[model.fallback]\nchain = ["local"]\n[model.local]\nbase_url = "{A}"\n'
        "max_retries = 0\n"
    )
    with respx.mock(using="httpx", assert_all_mocked=True) as router:
        router.get(f"{A}/health").respond(json={"status": "ok"})
        assert main(["health", "--provider", "fallback", "--config", str(tmp_path / "botticelli.toml")]) == 0
    out = capsys.readouterr().out
    assert "local:default: ok in " in out
    assert "fallback: ok" in out
