"""Embeddings and token counts against llama.cpp's Python server (llama-cpp-python).

That server embeds only when started with ``--embedding true``, which the generation
server of the suite is not, so this module starts its own, as a ``[server]`` table with
``embeddings = true`` describes it (the preset adds the flag), once per shape:

- the tiny model as written by default, with no pooling type: the server returns
  token-level embeddings (one vector per token);
- the same model with a mean pooling type in its metadata: one vector per input.

Token counts use the suite's generation server. llama-cpp-python can only count raw
text (``/extras/tokenize/count``), so its counts are ``exact=False`` and must not
exceed what a following generation reports; where a server counts exactly, they must
be equal.

No test here sends an input over the context: llama-cpp-python truncates embedding
inputs without an error (measured: several thousand tokens against a 1,024-token context
came back as a vector), so only the unit tests can check ``InputTooLongError``.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from botticelli._server_section import server_from_section
from botticelli.config.schema import validate_tables
from botticelli.testing import TinyModelSpec, write_tiny_gguf
from botticelli_core import GenerateRequest
from botticelli_error import EmbeddingShapeError
from botticelli_server import ServerClient, ServerConfig
from botticelli_server._ports import find_free_port
from botticelli_server.tokens import TokenRoute
from tests.api._engine import TINY_CONTEXT, run_started, run_stopped
from tests.api.test_next_step_real import _argv, _env, _run, _wait_until_serving
from tests.local.docs.snippets import ROOT, SHELL, parse

pytestmark = [pytest.mark.api, pytest.mark.anyio]

TEXTS = ["hello world", "a much longer sentence about cats and dogs", "hi"]


def embedding_server(model: Path, name: str) -> Iterator[ServerConfig]:
    # The documented way, not the server's own flag in extra_args: the switch must be what works.
    table = {
        "preset": "llama-cpp-python",
        "model_path": str(model),
        "alias": name,
        "embeddings": True,
        "extra_args": ["--n_ctx", str(TINY_CONTEXT)],
    }
    section = validate_tables({"server": table}).server
    assert section is not None
    server = server_from_section(section)
    assert server.argv[-4:-2] == ["--embedding", "true"]
    run_started(server)
    try:
        yield server.config
    finally:
        run_stopped(server)


@pytest.fixture(scope="module")
def token_level_server(llama_cpp_server: None, tiny_model: Path) -> Iterator[ServerConfig]:
    yield from embedding_server(tiny_model, "tiny-embed")


@pytest.fixture(scope="module")
def pooled_server(llama_cpp_server: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerConfig]:
    model = write_tiny_gguf(tmp_path_factory.mktemp("pooled") / "pooled.gguf", spec=TinyModelSpec(pooling="mean"))
    yield from embedding_server(model, "tiny-pooled")


@pytest.fixture
async def generation_client(server_config: ServerConfig) -> AsyncIterator[ServerClient]:
    async with ServerClient(server_config) as client:
        yield client


async def test_a_pooled_model_returns_one_vector_per_input_in_order(pooled_server: ServerConfig) -> None:
    async with ServerClient(pooled_server) as client:
        response = await client.embed(TEXTS)
        alone = await client.embed([TEXTS[1]])
    assert len(response.vectors) == len(TEXTS)
    assert response.dimensions == TinyModelSpec().embedding_length
    assert all(math.isfinite(x) for vector in response.vectors for x in vector)
    # The second vector is the second text's: the same as embedding it alone.
    assert response.vectors[1] == pytest.approx(alone.vectors[0], rel=1e-4, abs=1e-5)
    assert response.usage is not None
    assert response.usage.input_tokens > 0


async def test_batches_with_bounded_concurrency_give_the_same_vectors_as_one_request(
    pooled_server: ServerConfig,
) -> None:
    texts = [f"text number {i}" for i in range(7)]
    async with ServerClient(pooled_server) as whole:
        one_request = await whole.embed(texts)
    async with ServerClient(pooled_server.model_copy(update={"embed_batch_size": 2})) as batched:
        in_batches = await batched.embed(texts)
    for a, b in zip(one_request.vectors, in_batches.vectors, strict=True):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-5)


async def test_token_level_embeddings_are_a_typed_error_naming_the_shape(token_level_server: ServerConfig) -> None:
    async with ServerClient(token_level_server) as client:
        with pytest.raises(EmbeddingShapeError) as caught:
            await client.embed(TEXTS)
    assert (caught.value.shape, caught.value.index) == ("token-level", 0)


async def test_the_token_level_error_names_what_works_on_this_server(token_level_server: ServerConfig) -> None:
    # llama-cpp-python's server has no pooling option, so the message must not send anyone looking for one.
    async with ServerClient(token_level_server) as client:
        with pytest.raises(EmbeddingShapeError) as caught:
            await client.embed(TEXTS)
    message = caught.value.message
    assert 'pass pooling="mean" to embed()' in message
    assert 'embed_pooling = "mean" under [model.local]' in message
    assert "llama-cpp-python's server has no pooling option" in message
    assert "start the server with one" not in message


async def test_a_server_started_with_the_switch_still_generates(token_level_server: ServerConfig) -> None:
    # docs/embeddings.md says so of llama-cpp-python (unlike llama-server and vLLM, which stop generating).
    async with ServerClient(token_level_server) as client:
        response = await client.generate(GenerateRequest.from_prompt("hello", max_tokens=2, temperature=0.0))
        pooled = await client.embed("hello", pooling="mean")
    assert response.usage is not None
    assert response.usage.output_tokens > 0
    assert len(pooled.vectors) == 1


async def test_a_single_string_is_one_text(pooled_server: ServerConfig) -> None:
    async with ServerClient(pooled_server) as client:
        alone = await client.embed("a much longer sentence about cats and dogs")
        listed = await client.embed(["a much longer sentence about cats and dogs"])
    assert len(alone.vectors) == 1
    assert alone.vectors[0] == pytest.approx(listed.vectors[0], rel=1e-4, abs=1e-5)


async def test_a_string_is_counted_as_the_same_one_turn_prompt(generation_client: ServerClient) -> None:
    from_string = await generation_client.count_tokens("hello world")
    from_request = await generation_client.count_tokens(GenerateRequest.from_prompt("hello world"))
    assert from_string == from_request
    assert from_string.input_tokens > 0


async def test_token_level_embeddings_are_mean_pooled_when_asked(token_level_server: ServerConfig) -> None:
    async with ServerClient(token_level_server) as client:
        response = await client.embed(TEXTS, pooling="mean")
    assert len(response.vectors) == len(TEXTS)
    assert response.dimensions == TinyModelSpec().embedding_length
    assert all(math.isfinite(x) for vector in response.vectors for x in vector)


async def test_a_raw_text_count_is_not_exact_and_never_exceeds_the_generations_prompt_tokens(
    generation_client: ServerClient,
) -> None:
    request = GenerateRequest.from_prompt("hello world", max_tokens=1, temperature=0.0)
    count = await generation_client.count_tokens(request)
    response = await generation_client.generate(request)
    assert response.usage is not None
    if count.exact:
        assert count.input_tokens == response.usage.input_tokens
    else:
        assert 0 < count.input_tokens < response.usage.input_tokens
    if generation_client._tokenizer.route is TokenRoute.EXTRAS_COUNT:
        assert not count.exact


async def test_a_longer_prompt_counts_more_tokens(generation_client: ServerClient) -> None:
    short = await generation_client.count_tokens(GenerateRequest.from_prompt("hi"))
    long = await generation_client.count_tokens(GenerateRequest.from_prompt("hi " * 50))
    assert long.input_tokens > short.input_tokens


async def test_llama_cpp_python_cuts_an_input_over_its_batch_whatever_truncate_says(
    pooled_server: ServerConfig,
) -> None:
    # llama-cpp-python has no truncation switch: it cuts every input to its batch (n_batch,
    # 512 by default), ignores vLLM's truncate_prompt_tokens, and never refuses a long input.
    long_text = "cats and dogs " * 400
    async with ServerClient(pooled_server) as client:
        truncated = await client.embed([long_text], truncate=True)
        plain = await client.embed([long_text])
    assert truncated.usage is not None
    assert truncated.usage.input_tokens <= TINY_CONTEXT
    assert truncated.vectors == plain.vectors


def test_the_documented_way_to_serve_embeddings_works_as_written(llama_cpp_server: None, tmp_path: Path) -> None:
    # docs/embeddings.md, "Serving embeddings": its real-server blocks and the botticelli.toml
    # between them, run as a reader runs them (the port swapped for a free one).
    snippets = parse(ROOT / "docs" / "embeddings.md")
    shell = [s for s in snippets if s.kind == "real-server" and s.lang in SHELL]
    toml = next(s for s in snippets[snippets.index(shell[0]) :] if s.lang == "toml").code
    (write,), (serve_line,), (embed,) = (s.code.strip().splitlines() for s in shell)
    port = str(find_free_port("127.0.0.1"))
    env = _env(tmp_path)
    done = _run(_argv(write), tmp_path, env)
    assert done.returncode == 0, done.stderr
    (tmp_path / "botticelli.toml").write_text(toml.replace("8080", port), encoding="utf-8")

    with subprocess.Popen(
        _argv(serve_line), cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as serve:
        try:
            _wait_until_serving(serve)
            embedded = _run(_argv(embed), tmp_path, env)
        finally:
            serve.send_signal(signal.SIGINT)
            code = serve.wait(timeout=60)
    assert embedded.returncode == 0, embedded.stderr
    lines = [json.loads(line) for line in embedded.stdout.splitlines()]
    assert [line["index"] for line in lines] == [0, 1]
    assert all(len(line["embedding"]) == TinyModelSpec().embedding_length for line in lines)
    assert code == 130
