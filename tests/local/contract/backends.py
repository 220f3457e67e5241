"""Scripted servers for the provider-neutral contract: each speaks its backend's wire format.

A contract test says *what* the server does ("answers these pieces of text, then stops
for length"); each backend here turns that into its own wire bytes, following the
documented formats: OpenAI-compatible chat completions for the local backend, and
Gemini's ``generateContent`` / ``streamGenerateContent?alt=sse`` (CRLF-separated, usage on
every chunk, no ``[DONE]``) for Gemini.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import httpx
import respx

from botticelli_gemini import GeminiClient, GeminiConfig
from botticelli_interface import GenerativeModel
from botticelli_server import ServerClient, ServerConfig

API_KEY = "sk-contract-SECRET-0123456789"


@dataclass(frozen=True)
class Usage:
    prompt: int
    completion: int


class ScriptedBackend(Protocol):
    """What a contract test may ask of a backend's scripted server."""

    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> GenerativeModel: ...

    def answer(self, pieces: list[str], *, finish: str, usage: Usage) -> respx.Route: ...
    def stream(self, pieces: list[str], *, finish: str, usage: Usage) -> respx.Route: ...
    def cut_stream(self, pieces: list[str]) -> respx.Route: ...
    def error_mid_stream(self, pieces: list[str], message: str) -> respx.Route: ...
    def fail(
        self,
        status: int,
        message: str,
        *,
        retry_after_s: int | None = None,
        then_answer: str | None = None,
        streamed: bool = False,
    ) -> respx.Route: ...


def _sse(payloads: list[dict[str, Any]], *, separator: bytes, done: bool) -> bytes:
    body = b"".join(b"data: " + json.dumps(p).encode() + separator for p in payloads)
    return body + (b"data: [DONE]" + separator if done else b"")


class LocalBackend:
    """An OpenAI-compatible server (the shape llama.cpp, vLLM and Ollama share)."""

    provider: ClassVar[str] = "local"
    finish_values: ClassVar[Mapping[str, str]] = {"stop": "stop", "length": "length", "unknown": "abort"}

    def __init__(self, mock: respx.MockRouter) -> None:
        self._mock = mock
        self.model = ServerClient(
            ServerConfig(
                base_url="http://local.test", model="tiny", api_key=API_KEY, backoff_initial=0.0, backoff_max=0.0
            )
        )
        self._route = mock.post("http://local.test/v1/chat/completions")

    def _completion(self, text: str, finish: str, usage: Usage) -> dict[str, Any]:
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "tiny",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": usage.prompt,
                "completion_tokens": usage.completion,
                "total_tokens": usage.prompt + usage.completion,
            },
        }

    def _chunks(self, pieces: list[str]) -> list[dict[str, Any]]:
        return [
            {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": p}}]}
            for p in pieces
        ]

    def _stream_response(self, body: bytes) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    def answer(self, pieces: list[str], *, finish: str, usage: Usage) -> respx.Route:
        body = self._completion("".join(pieces), self.finish_values[finish], usage)
        return self._route.mock(return_value=httpx.Response(200, json=body))

    def stream(self, pieces: list[str], *, finish: str, usage: Usage) -> respx.Route:
        payloads = [
            *self._chunks(pieces),
            {"choices": [{"index": 0, "delta": {}, "finish_reason": self.finish_values[finish]}]},
            {"choices": [], "usage": {"prompt_tokens": usage.prompt, "completion_tokens": usage.completion}},
        ]
        return self._route.mock(return_value=self._stream_response(_sse(payloads, separator=b"\n\n", done=True)))

    def cut_stream(self, pieces: list[str]) -> respx.Route:
        body = _sse(self._chunks(pieces), separator=b"\n\n", done=False)
        return self._route.mock(return_value=self._stream_response(body))

    def error_mid_stream(self, pieces: list[str], message: str) -> respx.Route:
        payloads = [*self._chunks(pieces), {"error": {"message": message, "type": "server_error"}}]
        return self._route.mock(return_value=self._stream_response(_sse(payloads, separator=b"\n\n", done=True)))

    def fail(
        self,
        status: int,
        message: str,
        *,
        retry_after_s: int | None = None,
        then_answer: str | None = None,
        streamed: bool = False,
    ) -> respx.Route:
        headers = {"retry-after": str(retry_after_s)} if retry_after_s is not None else {}
        failure = httpx.Response(status, json={"error": {"message": message, "type": "error"}}, headers=headers)
        if then_answer is None:
            return self._route.mock(return_value=failure)
        usage = Usage(3, 1)
        success = (
            self._stream_response(
                _sse(
                    [*self._chunks([then_answer]), {"choices": [{"delta": {}, "finish_reason": "stop"}]}],
                    separator=b"\n\n",
                    done=True,
                )
            )
            if streamed
            else httpx.Response(200, json=self._completion(then_answer, "stop", usage))
        )
        return self._route.mock(side_effect=[failure, success])


class GeminiBackend:
    """Gemini's REST API, field for field as Google documents it."""

    provider: ClassVar[str] = "gemini"
    finish_values: ClassVar[Mapping[str, str]] = {
        "stop": "STOP",
        "length": "MAX_TOKENS",
        "unknown": "FINISH_REASON_UNSPECIFIED",
    }
    _statuses: ClassVar[Mapping[int, str]] = {
        400: "INVALID_ARGUMENT",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }

    def __init__(self, mock: respx.MockRouter) -> None:
        self.model = GeminiClient(
            GeminiConfig(
                api_key=API_KEY,
                model="gemini-2.5-flash",
                base_url="http://gemini.test",
                backoff_initial=0.0,
                backoff_max=0.0,
            )
        )
        base = "http://gemini.test/v1beta/models/gemini-2.5-flash"
        self._answer_route = mock.post(f"{base}:generateContent")
        self._stream_route = mock.post(f"{base}:streamGenerateContent", params={"alt": "sse"})

    @staticmethod
    def _usage(usage: Usage | None, prompt: int = 3) -> dict[str, int]:
        if usage is None:
            return {"promptTokenCount": prompt, "totalTokenCount": prompt}
        return {
            "promptTokenCount": usage.prompt,
            "candidatesTokenCount": usage.completion,
            "totalTokenCount": usage.prompt + usage.completion,
        }

    def _candidate(self, text: str, finish: str | None) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
        if finish is not None:
            candidate["finishReason"] = finish
        return candidate

    def _reply(self, text: str, finish: str | None, usage: Usage | None) -> dict[str, Any]:
        return {
            "candidates": [self._candidate(text, finish)],
            "usageMetadata": self._usage(usage),
            "modelVersion": "gemini-2.5-flash",
            "responseId": "resp-1",
        }

    def _stream_body(self, pieces: list[str], finish: str | None, usage: Usage | None) -> bytes:
        payloads = [self._reply(p, None, None) for p in pieces]
        if finish is not None:
            payloads.append(self._reply("", finish, usage))
        return _sse(payloads, separator=b"\r\n\r\n", done=False)

    def _stream_response(self, body: bytes) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    def answer(self, pieces: list[str], *, finish: str, usage: Usage) -> respx.Route:
        body = self._reply("".join(pieces), self.finish_values[finish], usage)
        return self._answer_route.mock(return_value=httpx.Response(200, json=body))

    def stream(self, pieces: list[str], *, finish: str, usage: Usage) -> respx.Route:
        body = self._stream_body(pieces, self.finish_values[finish], usage)
        return self._stream_route.mock(return_value=self._stream_response(body))

    def cut_stream(self, pieces: list[str]) -> respx.Route:
        return self._stream_route.mock(return_value=self._stream_response(self._stream_body(pieces, None, None)))

    def error_mid_stream(self, pieces: list[str], message: str) -> respx.Route:
        body = self._stream_body(pieces, None, None) + _sse(
            [{"error": {"code": 500, "message": message, "status": "INTERNAL"}}], separator=b"\r\n\r\n", done=False
        )
        return self._stream_route.mock(return_value=self._stream_response(body))

    def fail(
        self,
        status: int,
        message: str,
        *,
        retry_after_s: int | None = None,
        then_answer: str | None = None,
        streamed: bool = False,
    ) -> respx.Route:
        error: dict[str, Any] = {"code": status, "message": message, "status": self._statuses.get(status, "UNKNOWN")}
        if retry_after_s is not None:
            error["details"] = [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after_s}s"}
            ]
        failure = httpx.Response(status, json={"error": error})
        route = self._stream_route if streamed else self._answer_route
        if then_answer is None:
            return route.mock(return_value=failure)
        success = (
            self._stream_response(self._stream_body([then_answer], "STOP", Usage(3, 1)))
            if streamed
            else httpx.Response(200, json=self._reply(then_answer, "STOP", Usage(3, 1)))
        )
        return route.mock(side_effect=[failure, success])
