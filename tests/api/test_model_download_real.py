"""An ``hf:`` reference end to end: the real huggingface_hub client fetches the tiny GGUF from the
hub look-alike on 127.0.0.1 (through a cut connection), and llama.cpp's real server serves it."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from botticelli_core import FinishReason, GenerateRequest, GenerateResponse, Message
from botticelli_server.client import ServerClient
from botticelli_server.launcher import InferenceServer
from tests.api._engine import TINY_CONTEXT, TINY_MODEL_NAME
from tests.local.hub._fake_hub import COMMIT, FakeHub, running

pytestmark = [pytest.mark.api, pytest.mark.usefixtures("llama_cpp_server")]

REPO = "botticelli-test/tiny-GGUF"
FILE = "tiny.gguf"


def test_an_hf_reference_is_fetched_then_served_by_llama_cpp(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = FakeHub(files={(REPO, FILE): tiny_model.read_bytes()}, cut_once={(REPO, FILE)})
    for name in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with running(hub):
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        server = InferenceServer(
            "llama-cpp-python",
            model=f"hf:{REPO}/{FILE}",
            model_name=TINY_MODEL_NAME,
            extra_args=["--n_ctx", str(TINY_CONTEXT)],
            startup_timeout=120.0,
        )

        async def serve_one() -> tuple[list[str], GenerateResponse]:
            async with server, ServerClient(server.config) as client:
                request = GenerateRequest(messages=[Message.user("Say something.")], max_tokens=8, temperature=0.0)
                return server.argv, await client.generate(request)

        argv, response = anyio.run(serve_one)
    snapshot = tmp_path / "hf" / "hub" / "models--botticelli-test--tiny-GGUF" / "snapshots" / COMMIT / FILE
    assert argv[argv.index("--model") + 1] == str(snapshot)
    assert snapshot.read_bytes() == tiny_model.read_bytes()
    # The body was cut once: the client asked for the rest, or for all of it again.
    assert len(hub.requests("GET")) == 2
    assert response.finish_reason is FinishReason.LENGTH
    assert response.usage is not None
    assert response.usage.output_tokens == 8
