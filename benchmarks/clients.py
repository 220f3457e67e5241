"""One small adapter per client under comparison, all doing the same job.

Every streamed case posts the same chat request, reads every event, takes the text of
each content delta and counts it; every non-streamed case reads the whole answer's
text. Each adapter owns one client object (one connection pool) for the whole run, as
an application would. The targets are held to hxaio (httpx on httpx-aiohttp's transport,
with httpx-sse); aiohttp alone, SSE lines split by hand, shows how low a client on aiohttp
could go. Peers are imported inside their adapter so one that is not
installed is skipped instead of stopping the run.

A stream may be held open at its first chunk by a :class:`Gate`, which the memory
benchmark uses to have many streams open at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

PROMPT = "Say something."
OPENAI_BODY: dict[str, Any] = {
    "model": "canned",
    "messages": [{"role": "user", "content": PROMPT}],
    "stream": True,
    "stream_options": {"include_usage": True},
}
GEMINI_BODY: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}
GEMINI_STREAM_PATH = "/v1beta/models/canned:streamGenerateContent?alt=sse"
# The cases the targets name (paired.py, run.py): hxaio is the baseline, aiohttp alone the limit.
HXAIO_STREAM = "hxaio: httpx-aiohttp + httpx-sse + json.loads"  # the chat and the Gemini stream
HXAIO_WHOLE = "hxaio: httpx-aiohttp (post + json.loads)"
AIOHTTP_STREAM = "aiohttp alone (lines split by hand + json.loads)"  # the chat and the Gemini stream
AIOHTTP_READLINE = "aiohttp alone (readline + json.loads)"
AIOHTTP_WHOLE = "aiohttp alone (read + json.loads)"
# Sized for the memory run (1,000 streams at once); the speed runs use 16.
POOL = 2048
# botticelli keeps at most 100 idle connections; the httpx peers get the same. (httpcore
# scans every pooled connection on each request, so a far larger idle pool costs time.)
KEEPALIVE = 100
# No call to the canned server should take more than a fraction of this; it only bounds a hang.
TIMEOUT = 60.0


class Gate:
    """Holds streams at their first chunk until :meth:`release`; counts arrivals."""

    def __init__(self, expected: int) -> None:
        self.arrived = 0
        self.expected = expected
        self.all_arrived = asyncio.Event()
        self._open = asyncio.Event()

    async def arrive(self) -> None:
        """Called by a stream that has its first chunk; waits for the release."""
        self.arrived += 1
        if self.arrived >= self.expected:
            self.all_arrived.set()
        await self._open.wait()

    def release(self) -> None:
        """Let every held stream run to its end."""
        self._open.set()


StreamFn = Callable[["Gate | None"], Coroutine[Any, Any, tuple[int, float]]]
WholeFn = Callable[[], Coroutine[Any, Any, int]]


@dataclass
class Case:
    """One row of the table: a client doing one kind of call."""

    name: str
    kind: str  # "stream", "whole" or "gemini-stream"
    fn: StreamFn | WholeFn
    weight: float = 1.0
    """Fraction of the standard workload; slow peers run fewer calls (the figure is per call)."""


@dataclass
class Client:
    """A client object with its cases and the close that releases its pool."""

    label: str
    cases: list[Case] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        """Close every pool the adapter opened."""
        for close in self.closers:
            await close()


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=POOL, max_keepalive_connections=KEEPALIVE)


def _httpx(base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, limits=_limits(), timeout=TIMEOUT)


def _post_whole(http: httpx.AsyncClient) -> WholeFn:
    """A non-streamed chat request, its body parsed by json.loads."""

    async def whole() -> int:
        resp = await http.post("/v1/chat/completions", json={**OPENAI_BODY, "stream": False})
        text: str = json.loads(resp.content)["choices"][0]["message"]["content"]
        return len(text)

    return whole


def raw_httpx(base: str) -> Client:
    """httpx streaming lines, no SSE decoder, no JSON parse: the floor of an httpx stream."""
    http = _httpx(base)

    async def stream(gate: Gate | None) -> tuple[int, float]:
        n, first = 0, 0.0
        async with http.stream("POST", "/v1/chat/completions", json=OPENAI_BODY) as resp:
            async for line in resp.aiter_lines():
                if '"content"' in line:
                    if not n:
                        first = time.perf_counter()
                        if gate:
                            await gate.arrive()
                    n += 1
        return n, first

    return Client(
        "raw httpx",
        [
            Case("raw httpx (aiter_lines)", "stream", stream),
            Case("raw httpx (post + json.loads)", "whole", _post_whole(http)),
        ],
        [http.aclose],
    )


def _sse_cases(http: httpx.AsyncClient, name: str) -> list[Case]:
    """A chat and a Gemini stream read with httpx-sse and json.loads, taking the text of each delta."""
    from httpx_sse import aconnect_sse  # noqa: PLC0415

    async def stream(gate: Gate | None) -> tuple[int, float]:
        n, first = 0, 0.0
        async with aconnect_sse(http, "POST", "/v1/chat/completions", json=OPENAI_BODY) as source:
            async for event in source.aiter_sse():
                if event.data == "[DONE]":
                    # Reading on to the end of the body, as the SDKs do, keeps the connection
                    # reusable; leaving early makes httpx close it.
                    continue
                choices = json.loads(event.data)["choices"]
                if choices and choices[0]["delta"].get("content"):
                    if not n:
                        first = time.perf_counter()
                        if gate:
                            await gate.arrive()
                    n += 1
        return n, first

    async def gemini(gate: Gate | None) -> tuple[int, float]:
        n, first = 0, 0.0
        async with aconnect_sse(http, "POST", GEMINI_STREAM_PATH, json=GEMINI_BODY) as source:
            async for event in source.aiter_sse():
                parts = json.loads(event.data)["candidates"][0]["content"]["parts"]
                if parts and parts[0].get("text"):
                    if not n:
                        first = time.perf_counter()
                        if gate:
                            await gate.arrive()
                    n += 1
        return n, first

    return [Case(name, "stream", stream), Case(name, "gemini-stream", gemini)]


def httpx_sse_baseline(base: str) -> Client:
    """httpx (on its own httpcore pool) + httpx-sse + json.loads: the baseline before hxaio."""
    http = _httpx(base)
    return Client("httpx-sse", _sse_cases(http, "httpx + httpx-sse + json.loads"), [http.aclose])


def hxaio(base: str) -> Client:
    """The baseline: httpx on httpx-aiohttp's transport + httpx-sse + json.loads.

    This is the stack the openai SDK's DefaultAioHttpClient gives an application: httpx's
    API and models, aiohttp's connection pool and HTTP parser underneath.
    """
    from httpx_aiohttp import AiohttpTransport  # noqa: PLC0415

    # httpx passes no limits to a transport it is given, so the pool size goes to the transport;
    # aiohttp takes max_connections as its pool size and has no cap on idle connections (they
    # expire after keepalive_expiry), so KEEPALIVE has no effect on this peer.
    http = httpx.AsyncClient(base_url=base, transport=AiohttpTransport(limits=_limits()), timeout=TIMEOUT)
    return Client(
        "hxaio",
        [*_sse_cases(http, HXAIO_STREAM), Case(HXAIO_WHOLE, "whole", _post_whole(http))],
        [http.aclose],
    )


def aiohttp_alone(base: str) -> Client:
    """The limit: aiohttp's ClientSession, SSE lines split by hand, json.loads on each event.

    No decoder and no response model: what any client on aiohttp pays at least. The limit
    splits each read into lines itself; reading them with aiohttp's own readline (the
    ``readline`` row) costs a coroutine per line, about as much as hxaio in all, so it is shown
    but is not the limit. Built inside a running event loop (an aiohttp session takes the
    loop it is made on).
    """
    import aiohttp  # noqa: PLC0415

    # The same timeouts httpx-aiohttp gives aiohttp for TIMEOUT: on connecting and on each
    # read, no total deadline (which would add a timer per request).
    timeout = aiohttp.ClientTimeout(total=None, connect=TIMEOUT, sock_connect=TIMEOUT, sock_read=TIMEOUT)
    session = aiohttp.ClientSession(base_url=base, connector=aiohttp.TCPConnector(limit=POOL), timeout=timeout)

    def split_by_hand(path: str, body: dict[str, Any], text_of: TextOf) -> StreamFn:
        async def stream(gate: Gate | None) -> tuple[int, float]:
            n, first, rest = 0, 0.0, b""
            async with session.post(path, json=body) as resp:
                # Read to the end of the body (past [DONE]), so the connection is reused.
                async for data in resp.content.iter_any():
                    *lines, rest = (rest + data).split(b"\n")
                    for line in lines:
                        if _has_text(line, text_of):
                            if not n:
                                first = time.perf_counter()
                                if gate:
                                    await gate.arrive()
                            n += 1
            return n, first

        return stream

    async def readline(gate: Gate | None) -> tuple[int, float]:
        n, first = 0, 0.0
        async with session.post("/v1/chat/completions", json=OPENAI_BODY) as resp:
            async for line in resp.content:
                if _has_text(line, _chat_delta_text):
                    if not n:
                        first = time.perf_counter()
                        if gate:
                            await gate.arrive()
                    n += 1
        return n, first

    async def whole() -> int:
        async with session.post("/v1/chat/completions", json={**OPENAI_BODY, "stream": False}) as resp:
            text: str = json.loads(await resp.read())["choices"][0]["message"]["content"]
        return len(text)

    return Client(
        "aiohttp alone",
        [
            Case(AIOHTTP_STREAM, "stream", split_by_hand("/v1/chat/completions", OPENAI_BODY, _chat_delta_text)),
            Case(AIOHTTP_READLINE, "stream", readline),
            Case(AIOHTTP_STREAM, "gemini-stream", split_by_hand(GEMINI_STREAM_PATH, GEMINI_BODY, _gemini_text)),
            Case(AIOHTTP_WHOLE, "whole", whole),
        ],
        [session.close],
    )


TextOf = Callable[[Any], Any]


def _has_text(line: bytes, text_of: TextOf) -> bool:
    """Whether an SSE line is a data event whose text (``text_of`` the parsed JSON) is not empty."""
    if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
        return False
    # json.loads takes bytes, and the line's trailing newline or CR, as they are.
    return bool(text_of(json.loads(line[6:])))


def _chat_delta_text(event: Any) -> Any:
    choices = event["choices"]
    return choices and choices[0]["delta"].get("content")


def _gemini_text(event: Any) -> Any:
    parts = event["candidates"][0]["content"]["parts"]
    return parts and parts[0].get("text")


def openai_sdk(base: str) -> Client:
    """The openai SDK's AsyncOpenAI with its own default HTTP client."""
    from openai import AsyncOpenAI  # noqa: PLC0415

    sdk = AsyncOpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0, timeout=TIMEOUT)
    messages = OPENAI_BODY["messages"]

    async def stream(gate: Gate | None) -> tuple[int, float]:
        n, first = 0, 0.0
        response = await sdk.chat.completions.create(
            model="canned", messages=messages, stream=True, stream_options={"include_usage": True}
        )
        async with response:
            async for chunk in response:
                if chunk.choices and chunk.choices[0].delta.content:
                    if not n:
                        first = time.perf_counter()
                        if gate:
                            await gate.arrive()
                    n += 1
        return n, first

    async def whole() -> int:
        completion = await sdk.chat.completions.create(model="canned", messages=messages)
        return len(completion.choices[0].message.content or "")

    # Six times the baseline's cost per chunk: half the streams keep the run short.
    return Client(
        "openai",
        [Case("openai AsyncOpenAI", "stream", stream, weight=0.5), Case("openai AsyncOpenAI", "whole", whole)],
        [sdk.close],
    )


def litellm_client(base: str) -> Client:
    """LiteLLM's ``acompletion`` through its OpenAI-compatible provider."""
    # Without this LiteLLM fetches its model price list from the internet at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm  # noqa: PLC0415

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    messages = OPENAI_BODY["messages"]
    kwargs: dict[str, Any] = {
        "model": "openai/canned",
        "api_base": f"{base}/v1",
        "api_key": "unused",
        "timeout": TIMEOUT,
        "max_retries": 0,
    }

    async def stream(gate: Gate | None) -> tuple[int, float]:
        n, first = 0, 0.0
        response = await litellm.acompletion(
            messages=messages, stream=True, stream_options={"include_usage": True}, **kwargs
        )
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                if not n:
                    first = time.perf_counter()
                    if gate:
                        await gate.arrive()
                n += 1
        return n, first

    async def whole() -> int:
        completion = await litellm.acompletion(messages=messages, **kwargs)
        return len(completion.choices[0].message.content or "")

    # LiteLLM costs an order of magnitude more per call; a quarter of the calls keeps the run short.
    return Client(
        "litellm",
        [
            Case("litellm acompletion", "stream", stream, weight=0.25),
            Case("litellm acompletion", "whole", whole, weight=0.25),
        ],
    )


def botticelli_server(base: str) -> Client:
    """botticelli's ServerClient: wire-level chunks, provider-neutral chunks, and whole answers."""
    from botticelli_core import GenerateRequest, Message  # noqa: PLC0415
    from botticelli_server import ChatCompletionRequest, ChatMessage, ServerClient, ServerConfig  # noqa: PLC0415

    # Out-of-the-box timeouts, as most callers will run it; `deadlined` below is the variant
    # with a total deadline shorter than the read timeout, which adds a timer per read.
    client = ServerClient(ServerConfig(base_url=base, model="canned", max_retries=0, max_connections=POOL))
    deadlined = ServerClient(
        ServerConfig(base_url=base, model="canned", max_retries=0, max_connections=POOL, total_timeout=TIMEOUT)
    )
    request = GenerateRequest(messages=[Message.user(PROMPT)])
    chat = ChatCompletionRequest(model="canned", messages=[ChatMessage(role="user", content=PROMPT)])

    def generate_stream_with(model: ServerClient) -> StreamFn:
        async def generate_stream(gate: Gate | None) -> tuple[int, float]:
            n, first = 0, 0.0
            async with model.generate_stream(request) as chunks:
                async for chunk in chunks:
                    if chunk.text:
                        if not n:
                            first = time.perf_counter()
                            if gate:
                                await gate.arrive()
                        n += 1
            return n, first

        return generate_stream

    async def chat_stream(gate: Gate | None) -> tuple[int, float]:
        n, first = 0, 0.0
        async with client.chat_completion_stream(chat) as chunks:
            async for chunk in chunks:
                delta = chunk.choices[0].delta if chunk.choices else None
                if delta and delta.content:
                    if not n:
                        first = time.perf_counter()
                        if gate:
                            await gate.arrive()
                    n += 1
        return n, first

    async def generate() -> int:
        return len((await client.generate(request)).text)

    async def chat_completion() -> int:
        completion = await client.chat_completion(chat)
        message = completion.choices[0].message if completion.choices else None
        return len(message.content or "") if message else 0

    return Client(
        "botticelli",
        [
            Case("botticelli generate_stream", "stream", generate_stream_with(client)),
            Case("botticelli chat_completion_stream", "stream", chat_stream),
            Case(f"botticelli generate_stream, total_timeout={TIMEOUT:g}s", "stream", generate_stream_with(deadlined)),
            Case("botticelli generate", "whole", generate),
            Case("botticelli chat_completion", "whole", chat_completion),
        ],
        [client.aclose, deadlined.aclose],
    )


def botticelli_gemini(base: str) -> Client:
    """botticelli's Gemini backend pointed at the canned Gemini endpoint."""
    from botticelli_core import GenerateRequest, Message  # noqa: PLC0415
    from botticelli_gemini import GeminiClient, GeminiConfig  # noqa: PLC0415

    client = GeminiClient(GeminiConfig(api_key="unused", model="canned", base_url=base, max_retries=0))
    request = GenerateRequest(messages=[Message.user(PROMPT)])

    async def generate_stream(gate: Gate | None) -> tuple[int, float]:
        n, first = 0, 0.0
        async with client.generate_stream(request) as chunks:
            async for chunk in chunks:
                if chunk.text:
                    if not n:
                        first = time.perf_counter()
                        if gate:
                            await gate.arrive()
                    n += 1
        return n, first

    return Client(
        "botticelli-gemini",
        [Case("botticelli gemini generate_stream", "gemini-stream", generate_stream)],
        [client.aclose],
    )


FACTORIES: dict[str, Callable[[str], Client]] = {
    "aiohttp": aiohttp_alone,
    "hxaio": hxaio,
    "raw-httpx": raw_httpx,
    "httpx-sse": httpx_sse_baseline,
    "openai": openai_sdk,
    "litellm": litellm_client,
    "botticelli": botticelli_server,
    "botticelli-gemini": botticelli_gemini,
}
