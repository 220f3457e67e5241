"""Presets and ``[server]`` take model references: repo ids pass through, ``hf:`` files are fetched first."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

from botticelli.config import load_settings
from botticelli_core import ModelRef
from botticelli_error import ConfigurationError, ModelAccessError
from botticelli_server.launcher import InferenceServer
from tests.local.hub._fake_hub import COMMIT, FakeHub
from tests.local.hub.conftest import FILE, GATED, REPO

STUB = str(Path(__file__).parents[1] / "server" / "_stub_server.py")
PHI = "microsoft/Phi-3.5-mini-instruct"


def test_a_repo_id_is_not_cut_at_its_dot() -> None:
    # The bug of issue 12: Path(model).stem made this "Phi-3".
    server = InferenceServer("vllm", model=PHI, port=8000)
    assert server.model_name == "Phi-3.5-mini-instruct"
    assert server.argv[:3] == ["vllm", "serve", PHI]


def test_the_mistralrs_preset_loads_a_repo_with_in_situ_quantization() -> None:
    server = InferenceServer("mistralrs", model=PHI, port=1234, extra_args=["--isq", "q4k"])
    assert server.argv == ["mistralrs", "serve", "--host", "127.0.0.1", "-p", "1234", "-m", PHI, "--isq", "q4k"]
    assert server.model_name == "default"


def test_the_mistralrs_preset_still_loads_a_local_gguf() -> None:
    server = InferenceServer("mistralrs", model="./models/Phi-3.5-mini-instruct-Q4_K_M.gguf", port=1234)
    assert server.argv[-6:] == ["--format", "gguf", "-m", "models", "-f", "Phi-3.5-mini-instruct-Q4_K_M.gguf"]


def test_a_preset_that_needs_a_file_refuses_a_repo_and_says_how_to_name_one() -> None:
    with pytest.raises(ConfigurationError, match=rf"hf:{PHI}/FILE") as caught:
        InferenceServer("llama-server", model=PHI)
    assert "mistralrs, vllm" in caught.value.message


def test_a_pinned_revision_of_a_pass_through_repo_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="--revision"):
        InferenceServer("vllm", model=f"{PHI}@main")


def test_a_custom_command_has_no_directory_for_a_repo() -> None:
    with pytest.raises(ConfigurationError, match="model_dir"):
        InferenceServer(["srv", "{model_dir}"], model=PHI)
    assert InferenceServer(["srv", "{model}"], model=PHI, port=1).argv == ["srv", PHI]


def test_an_hf_file_shows_its_reference_until_start_fetches_it() -> None:
    server = InferenceServer("llama-server", model=f"hf:{REPO}/{FILE}", port=8080)
    assert server.argv[:3] == ["llama-server", "-m", f"hf:{REPO}/{FILE}"]
    assert server.model_name == "tiny.Q8_0"


def _stub(model: str | ModelRef) -> InferenceServer:
    return InferenceServer(
        [sys.executable, STUB, "--host", "{host}", "--port", "{port}", "--model-name", "{model_file}"],
        model=model,
        startup_timeout=15.0,
        stop_grace=2.0,
        poll_interval=0.05,
    )


def test_start_fetches_an_hf_file_and_runs_the_command_on_its_path(
    hub: FakeHub, gguf_bytes: bytes, tmp_path: Path
) -> None:
    server = _stub(ModelRef.parse(f"hf:{REPO}/{FILE}"))

    async def main() -> list[str]:
        async with server:
            return server.argv

    argv = anyio.run(main)
    assert argv[-1] == FILE
    assert hub.requests("GET")
    snapshot = tmp_path / "hf" / "hub" / "models--botticelli-test--tiny-GGUF" / "snapshots" / COMMIT / FILE
    assert snapshot.read_bytes() == gguf_bytes


def test_a_failed_fetch_starts_nothing(hub: FakeHub) -> None:
    server = _stub(f"hf:{GATED}/{FILE}")
    with pytest.raises(ModelAccessError):
        anyio.run(server.start)
    assert server.pid is None


def test_the_server_table_keeps_a_repo_id_as_written(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "botticelli.toml"
    config.parent.mkdir()
    config.write_text(f'[server]\npreset = "vllm"\nmodel_path = "{PHI}"\n')
    section = load_settings(config, env={}).server
    assert section is not None
    assert section.model_ref == ModelRef.parse(PHI)
    config.write_text(f'[server]\npreset = "llama-server"\nmodel_path = "hf:{REPO}/{FILE}@main"\n')
    section = load_settings(config, env={}).server
    assert section is not None
    assert str(section.model_ref) == f"hf:{REPO}/{FILE}@main"
    config.write_text('[server]\npreset = "llama-server"\nmodel_path = "m.gguf"\n')
    section = load_settings(config, env={}).server
    assert section is not None
    assert section.model_ref == ModelRef.parse(str(tmp_path / "conf" / "m.gguf"))


def test_a_malformed_reference_in_the_server_table_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "botticelli.toml"
    config.write_text('[server]\npreset = "llama-server"\nmodel_path = "hf:org"\n')
    with pytest.raises(ConfigurationError, match=r"server\.model_path.*not a repository id"):
        load_settings(config, env={})
