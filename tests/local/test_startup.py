"""Building a usable local client loads only what it uses (docs/design.md, "Exports load on first access")."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What a program that builds a client and a request never needs until it sends one: the
# conversions, wire and response models, the stream reader, embeddings, token counting, the
# launcher, the transport itself (and so httpx), the response and output types, the errors
# of downloads, routing and server processes, and anyio (asyncio programs only).
NOT_LOADED = (
    "aiohttp",
    "anyio",
    "botticelli_core.output",
    "botticelli_error.download",
    "botticelli_error.lifecycle",
    "botticelli_error.routing",
    "botticelli_core.catalog",
    "botticelli_core.embedding",
    "botticelli_core.response",
    "botticelli_interface.capabilities",
    "botticelli_interface.protocols",
    "botticelli_server.convert",
    "botticelli_server.embeddings",
    "botticelli_server.launcher",
    "botticelli_server.request",
    "botticelli_server.response",
    "botticelli_server.streaming",
    "botticelli_server.tokens",
    "botticelli_transport._aiohttp",
    "botticelli_transport._http",
    "botticelli_transport._stream",
    "botticelli_transport._watchdog",
    "botticelli_transport.sse",
    "httpx",
    "httpx_sse",
    "pydantic.type_adapter",
)

PROGRAM = """
import json, sys
from botticelli_core import GenerateRequest
from botticelli_server import ServerClient, ServerConfig
client = ServerClient(ServerConfig(base_url="http://127.0.0.1:8080", model="m"))
request = GenerateRequest.from_prompt("hi")
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def loaded() -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("module", NOT_LOADED)
def test_a_usable_client_does_not_load(loaded: set[str], module: str) -> None:
    assert module not in loaded


def test_a_usable_client_loads_its_settings(loaded: set[str]) -> None:
    assert {"botticelli_server.client", "botticelli_server.config", "botticelli_transport.settings"} <= loaded


def test_a_prompt_only_request_builds_no_validator() -> None:
    code = PROGRAM.replace(
        "print(json.dumps(sorted(sys.modules)))",
        "from botticelli_core import Message, TextInput\n"
        "print(GenerateRequest.__pydantic_complete__, Message.__pydantic_complete__, TextInput.__pydantic_complete__)",
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "False"]


def test_embedding_wire_models_defer_their_schemas() -> None:
    code = (
        "from botticelli_server import embeddings; from botticelli_gemini import embeddings as g\n"
        "print(embeddings.EmbeddingList.__pydantic_complete__, g.WireBatchEmbedResponse.__pydantic_complete__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_lazy_exports_still_reach_every_name() -> None:
    import botticelli_server  # noqa: PLC0415
    from botticelli_server.response import ChatCompletionChunk  # noqa: PLC0415

    assert botticelli_server.ChatCompletionChunk is ChatCompletionChunk
    assert "ChatCompletionChunk" in dir(botticelli_server)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = botticelli_server.Nope
