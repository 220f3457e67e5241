"""A canned server for the documentation's snippets: any host, the routes botticelli calls.

Local OpenAI-compatible routes (chat completions whole and streamed, models, health,
embeddings, tokenize) and Gemini's (generate, stream, count tokens, embed), each with a
small fixed answer, so a snippet runs as written without a network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import respx

ANSWER = ("The ", "Nile, ", "the Amazon ", "and the Danube.")
_USAGE = {"prompt_tokens": 12, "completion_tokens": len(ANSWER), "total_tokens": 12 + len(ANSWER)}
_SSE = {"content-type": "text/event-stream"}


def _sse(*events: Any) -> bytes:
    return b"".join(b"data: " + (e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n\n" for e in events)


def _chat(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    model = body.get("model", "default")
    if not body.get("stream"):
        message = {"role": "assistant", "content": "".join(ANSWER)}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return httpx.Response(200, json={"model": model, "choices": [choice], "usage": _USAGE})
    chunks = [{"model": model, "choices": [{"index": 0, "delta": {"content": text}}]} for text in ANSWER]
    chunks.append({"model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append({"model": model, "choices": [], "usage": _USAGE})
    return httpx.Response(200, headers=_SSE, content=_sse(*chunks, b"[DONE]"))


def _embeddings(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = [{"object": "embedding", "index": i, "embedding": [0.6, 0.8]} for i in range(len(texts))]
    return httpx.Response(200, json={"object": "list", "model": body.get("model"), "data": data})


def _gemini_response() -> dict[str, Any]:
    parts = [{"text": text} for text in ANSWER]
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 4, "totalTokenCount": 16},
        "modelVersion": "gemini-2.5-flash",
    }


def _gemini_embed(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(200, json={"embeddings": [{"values": [0.6, 0.8]} for _ in body["requests"]]})


@contextmanager
def canned_server() -> Iterator[respx.MockRouter]:
    """Answer every request botticelli's snippets send; anything else fails the snippet."""
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as router:
        router.post(url__regex=r"/v1/chat/completions$").mock(side_effect=_chat)
        router.get(url__regex=r"/v1/models$").respond(200, json={"object": "list", "data": [{"id": "default"}]})
        router.get(url__regex=r"/health$").respond(200, json={"status": "ok"})
        router.post(url__regex=r"/v1/embeddings$").mock(side_effect=_embeddings)
        router.post(url__regex=r"/apply-template$").respond(404)
        router.post(url__regex=r"/tokenize$").respond(200, json={"tokens": list(range(12))})
        router.post(url__regex=r":generateContent$").respond(200, json=_gemini_response())
        router.post(url__regex=r":streamGenerateContent").respond(200, headers=_SSE, content=_sse(_gemini_response()))
        router.post(url__regex=r":countTokens$").respond(200, json={"totalTokens": 12})
        router.post(url__regex=r":batchEmbedContents$").mock(side_effect=_gemini_embed)
        yield router
