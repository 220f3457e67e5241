"""Every backend's public methods, given an argument of the wrong type: a typed error, nothing sent.

``embed`` and ``count_tokens`` also take a plain ``str``: one text (one vector back) and a
one-turn prompt. ``generate`` and ``generate_stream`` refuse it, with the way to build a
request in the message. Before, a ``str`` was embedded letter by letter (it is a
``Sequence[str]``), and everything else ended in a builtin ``AttributeError`` or
``TypeError`` from deep inside a backend.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx

from botticelli.batch import generate_many
from botticelli.hybrid import HybridModel
from botticelli.routing import FallbackModel, ReplicaPool
from botticelli.sync import SyncModel
from botticelli_core import GenerateRequest, TokenCount
from botticelli_embedded import EmbeddedConfig, EmbeddedModel
from botticelli_error import ConfigurationError
from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import SupportsAclose
from botticelli_server import ServerClient, ServerConfig

LOCAL = "http://args.test"
OTHER_REPLICA = "http://args-2.test"
GEMINI = "https://gemini.args.test"
EMBED_BATCH = f"{GEMINI}/v1beta/models/gemini-embedding-001:batchEmbedContents"
COUNT = f"{GEMINI}/v1beta/models/gemini-2.5-flash:countTokens"


def server(base_url: str = LOCAL) -> ServerClient:
    return ServerClient(ServerConfig(base_url=base_url, model="m", max_retries=0, dialect="llama.cpp"))


def gemini() -> GeminiClient:
    return GeminiClient(GeminiConfig(api_key="AIza-args-test-key", base_url=GEMINI, max_retries=0))


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The embedded model loads its file on first use only; a wrong argument must be refused before.
    path = tmp_path_factory.mktemp("embedded") / "tiny.gguf"
    path.write_bytes(b"GGUF")
    return path


# Each backend by the name its messages use; SyncModel wraps a ServerClient.
def build(name: str, gguf: Path) -> Any:
    if name == "ServerClient":
        return server()
    if name == "GeminiClient":
        return gemini()
    if name == "EmbeddedModel":
        return EmbeddedModel(EmbeddedConfig(model_path=gguf))
    if name == "HybridModel":
        return HybridModel(server(), gemini())
    if name == "FallbackModel":
        return FallbackModel(server(), gemini())
    if name == "ReplicaPool":
        return ReplicaPool(server(), server(OTHER_REPLICA), health_interval=None)
    assert name == "SyncModel"
    return SyncModel(server())


BACKENDS = ["ServerClient", "GeminiClient", "EmbeddedModel", "HybridModel", "FallbackModel", "ReplicaPool", "SyncModel"]

# What came instead, and how the message names it.
NOT_A_REQUEST: list[tuple[object, str]] = [
    ("a prompt", "not a str; wrap a prompt with GenerateRequest.from_prompt"),
    (None, "not None"),
    (42, "not an int"),
    ([1, 2], "not a list"),
    (b"bytes", "not bytes"),
    ({"messages": []}, "not a dict"),
]
NOT_A_PROMPT: list[tuple[object, str]] = [
    (None, "not None"),
    (42, "not an int"),
    ([1, 2], "not a list"),
    (b"bytes", "not bytes"),
    (3.5, "not a float"),
]
NOT_TEXTS: list[tuple[object, str]] = [
    (None, "not None"),
    (42, "not an int"),
    ([1, 2], "texts[0] is an int, not a str"),
    (b"bytes", "not bytes (decode it first)"),
    (["fine", None], "texts[1] is None, not a str"),
    (["caf\udce9"], "texts[0] holds a lone surrogate"),
    ({"a cat", "a dog"}, "not a set (a set has no order"),
    ({"a cat": 1}, "not a dict"),
]

CASES = [
    pytest.param(backend, method, value, said, id=f"{backend}.{method}-{value!r}"[:60])
    for backend in BACKENDS
    for method, values in (
        ("generate", NOT_A_REQUEST),
        ("generate_stream", NOT_A_REQUEST),
        ("count_tokens", NOT_A_PROMPT),
        ("embed", NOT_TEXTS),
    )
    for value, said in values
    # The embedded engine has neither embeddings nor token counts (docs/embeddings.md).
    if not (backend == "EmbeddedModel" and method in ("count_tokens", "embed"))
]


@pytest.fixture
def network() -> Iterator[respx.MockRouter]:
    """Every host the backends know, answering 500: a request sent at all fails the test below."""
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        mock.route().respond(500, json={"error": {"message": "nothing should have been sent"}})
        yield mock


def run_on(model: Any, work: Callable[[Any], Any]) -> Any:
    """``work(model)`` to its end, then the model closed: blocking for a SyncModel, on an event loop otherwise."""
    if isinstance(model, SyncModel):
        try:
            return work(model)
        finally:
            model.close()

    async def run() -> Any:
        try:
            result = work(model)
            return await result if inspect.isawaitable(result) else result
        finally:
            assert isinstance(model, SupportsAclose)
            await model.aclose()

    return anyio.run(run)


def invoke(method: str, *args: object, **kwargs: object) -> Callable[[Any], Any]:
    """Calls ``model.method(*args, **kwargs)``; a stream is opened and read to its end."""

    async def drain(stream: Any) -> None:
        async with stream as chunks:
            async for _ in chunks:
                pass

    def work(model: Any) -> Any:
        result = getattr(model, method)(*args, **kwargs)
        if method != "generate_stream":
            return result
        return list(result) if isinstance(model, SyncModel) else drain(result)

    return work


@pytest.mark.parametrize(("backend", "method", "value", "said"), CASES)
def test_a_wrong_argument_is_a_configuration_error_naming_it_and_nothing_is_sent(
    network: respx.MockRouter, gguf: Path, backend: str, method: str, value: object, said: str
) -> None:
    model = build(backend, gguf)
    with pytest.raises(ConfigurationError) as caught:
        run_on(model, invoke(method, value))
    assert f"{backend}.{method}" in caught.value.message
    assert said in caught.value.message
    assert not network.calls


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "EmbeddedModel"])
@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("dimensions", "256", "dimensions must be a positive int or None, not a str"),
        ("dimensions", True, "not a bool"),
        ("dimensions", 0, "not 0"),
        ("model", 7, "model must be a non-empty str or None, not an int"),
        ("model", "", "not an empty str"),
        ("task", ["RETRIEVAL_QUERY"], "task must be a non-empty str or None, not a list"),
        ("truncate", "yes", "truncate must be a bool, not a str"),
    ],
)
def test_a_wrong_embed_option_is_a_configuration_error_naming_it(
    network: respx.MockRouter, gguf: Path, backend: str, option: str, value: object, said: str
) -> None:
    model = build(backend, gguf)
    with pytest.raises(ConfigurationError) as caught:
        run_on(model, invoke("embed", ["a cat"], **{option: value}))
    assert f"{backend}.embed's" in caught.value.message
    assert said in caught.value.message
    assert not network.calls


# -- a plain str is taken where that is unambiguous -------------------------------------------


def local_embeddings(request: httpx.Request) -> httpx.Response:
    texts = json.loads(request.content)["input"]
    return httpx.Response(200, json={"data": [{"index": i, "embedding": [0.6, 0.8]} for i in range(len(texts))]})


def gemini_embeddings(request: httpx.Request) -> httpx.Response:
    count = len(json.loads(request.content)["requests"])
    return httpx.Response(200, json={"embeddings": [{"values": [0.6, 0.8]}] * count})


ANSWERING = ["ServerClient", "GeminiClient", "HybridModel", "FallbackModel", "ReplicaPool", "SyncModel"]


@pytest.mark.parametrize("backend", ANSWERING)
def test_a_single_string_is_embedded_as_one_text(gguf: Path, backend: str) -> None:
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        local = mock.post(f"{LOCAL}/v1/embeddings").mock(side_effect=local_embeddings)
        replica = mock.post(f"{OTHER_REPLICA}/v1/embeddings").mock(side_effect=local_embeddings)
        remote = mock.post(EMBED_BATCH).mock(side_effect=gemini_embeddings)
        response = run_on(build(backend, gguf), invoke("embed", "a cat"))
    assert response.vectors == [[0.6, 0.8]]
    sent = [json.loads(call.request.content) for route in (local, replica, remote) for call in route.calls]
    assert len(sent) == 1
    if "input" in sent[0]:
        assert sent[0]["input"] == ["a cat"]
    else:
        assert [r["content"]["parts"][0]["text"] for r in sent[0]["requests"]] == ["a cat"]


@pytest.mark.parametrize("backend", ANSWERING)
def test_a_string_is_counted_as_a_one_turn_prompt(gguf: Path, backend: str) -> None:
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        # llama.cpp's two steps (the clients are configured with its dialect), and Gemini's one.
        templates = [
            mock.post(f"{url}/apply-template").respond(200, json={"prompt": "<|user|>hello"})
            for url in (LOCAL, OTHER_REPLICA)
        ]
        for url in (LOCAL, OTHER_REPLICA):
            mock.post(f"{url}/tokenize").respond(200, json={"tokens": [1, 2, 3]})
        remote = mock.post(COUNT).respond(200, json={"totalTokens": 3})
        count = run_on(build(backend, gguf), invoke("count_tokens", "hello"))
    assert count == TokenCount(input_tokens=3, exact=True)
    sent = [json.loads(call.request.content) for route in (*templates, remote) for call in route.calls]
    assert len(sent) == 1
    if "messages" in sent[0]:
        assert sent[0]["messages"] == [{"role": "user", "content": "hello"}]
    else:
        contents = sent[0]["generateContentRequest"]["contents"]
        assert contents == [{"role": "user", "parts": [{"text": "hello"}]}]


@pytest.mark.parametrize(
    "texts",
    [("a cat", "a dog"), (text for text in ("a cat", "a dog")), ["a cat", "a dog"]],
    ids=["tuple", "generator", "list"],
)
def test_any_ordered_collection_of_strings_is_taken_in_its_order(gguf: Path, texts: object) -> None:
    with respx.mock(using="httpx", assert_all_called=False) as mock:
        route = mock.post(f"{LOCAL}/v1/embeddings").mock(side_effect=local_embeddings)
        response = run_on(build("ServerClient", gguf), invoke("embed", texts))
    assert len(response.vectors) == 2
    assert json.loads(route.calls.last.request.content)["input"] == ["a cat", "a dog"]


@pytest.mark.anyio
@pytest.mark.parametrize("wrong", ["hi", None, 3, {"messages": []}], ids=["str", "None", "int", "dict"])
async def test_the_wire_level_methods_refuse_anything_but_a_chat_completion_request(wrong: object) -> None:
    with respx.mock(using="httpx", assert_all_called=False) as router:
        route = router.post(f"{LOCAL}/v1/chat/completions")
        async with server() as client:
            with pytest.raises(ConfigurationError, match="takes a ChatCompletionRequest"):
                await client.chat_completion(wrong)  # type: ignore[arg-type]
            with pytest.raises(ConfigurationError, match="takes a ChatCompletionRequest"):
                async with client.chat_completion_stream(wrong):  # type: ignore[arg-type]
                    pass
    assert not route.called


@pytest.mark.anyio
@pytest.mark.parametrize(
    "wrong",
    ["a prompt", None, 7, GenerateRequest.from_prompt("one"), {"prompt": "x"}],
    ids=["str", "None", "int", "one-request", "dict"],
)
async def test_generate_many_refuses_what_is_not_an_iterable_of_requests(wrong: object) -> None:
    with pytest.raises(ConfigurationError, match="generate_many takes an iterable of GenerateRequest"):
        generate_many(server(), wrong, concurrency=2)  # type: ignore[arg-type]
