"""Wire fixtures of each OpenAI-compatible server, field for field as each one sends them.

Where each shape comes from:
- OpenAI: openai-python ``tests/lib/chat/test_completions.py`` and its recorded streams
  (``.inline-snapshot/external/*.bin``); chunk fields per ``types/chat/chat_completion_chunk.py``.
- mistral.rs: ``mistralrs-server-core`` (``handler_core.rs`` error bodies ``{"message": ...}``,
  ``streaming.rs openai_error_event``, ``pipeline/sampling.rs`` usage with ``avg_tok_per_sec``...),
  keep-alive comments (``KEEP_ALIVE_INTERVAL``) and named ``agentic_tool_call_progress`` events.
- llama.cpp: ``tools/server/server-context.cpp`` / ``utils.hpp`` (``format_error_response``:
  ``{"error": {"code", "message", "type"}}``, ``exceed_context_size_error`` with ``n_prompt_tokens``
  and ``n_ctx``, 503 ``Loading model``, ``timings`` on responses, ``meta`` in ``/v1/models``).
- vLLM: ``vllm/entrypoints/openai/protocol.py`` (``ErrorResponse`` flat in older versions,
  ``UsageInfo``, ``stream_options.continuous_usage_stats``, ``ModelCard.max_model_len``).
- Ollama: ``openai/openai.go`` and ``middleware/openai.go`` (``writeError`` writes bare JSON,
  ``include_usage`` adds a ``choices: []`` chunk, ``fp_ollama`` fingerprint, ``reasoning``).
"""

from __future__ import annotations

import json
from typing import Any

BASE_URL = "http://inference.test"
CHAT_URL = f"{BASE_URL}/v1/chat/completions"
MODELS_URL = f"{BASE_URL}/v1/models"
HEALTH_URL = f"{BASE_URL}/health"
SSE = {"content-type": "text/event-stream"}
CREATED = 1727346168


def sse(*events: dict[str, Any] | str, done: bool = True, crlf: bool = False) -> bytes:
    """An event stream: dicts become ``data:`` JSON events, strings are written as they are."""
    parts = [e if isinstance(e, str) else f"data: {json.dumps(e)}\n\n" for e in events]
    if done:
        parts.append("data: [DONE]\n\n")
    body = "".join(parts)
    return body.replace("\n", "\r\n").encode() if crlf else body.encode()


# -- OpenAI (the reference the others deviate from) ----------------------------------------


def openai_chunk(
    content: str | None = None, *, finish: str | None = None, role: str | None = None, **extra: Any
) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-ABfwG5y2yq0P1jxA3M6z2l4oG8fXa",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_b40fb1c6fb",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        **extra,
    }


def openai_usage_chunk(prompt: int, completion: int, reasoning: int = 0) -> dict[str, Any]:
    return {
        "id": "chatcmpl-ABfwG5y2yq0P1jxA3M6z2l4oG8fXa",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-4o-2024-08-06",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        },
    }


OPENAI_STREAM = (
    openai_chunk("", role="assistant", refusal=None),
    openai_chunk("I'm"),
    openai_chunk(" here."),
    openai_chunk(finish="stop"),
    openai_usage_chunk(14, 30),
)

OPENAI_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-ABfvaueLEMLNYbT8YzpJxsmiQ6HSY",
    "object": "chat.completion",
    "created": 1727346142,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "I'm unable to provide real-time weather.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 14,
        "completion_tokens": 37,
        "total_tokens": 51,
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
    "system_fingerprint": "fp_b40fb1c6fb",
}


def openai_tool_completion(arguments: str | dict[str, Any]) -> dict[str, Any]:
    """A non-streamed reply asking for one tool call (openai-python ``test_parse_pydantic_tool``)."""
    return {
        **OPENAI_COMPLETION,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "tool_calls": [
                        {
                            "id": "call_4XzlGBLtUe9dy3GVNV4jhq7h",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": arguments},
                        }
                    ],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
    }


# -- mistral.rs ------------------------------------------------------------------------------


def mistralrs_chunk(content: str, *, finish: str | None = None, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    # ChatCompletionChunkResponse: usage is null on every chunk but the one with finish_reason.
    return {
        "id": "1",
        "choices": [
            {"index": 0, "delta": {"content": content, "role": "assistant"}, "finish_reason": finish, "logprobs": None}
        ],
        "created": CREATED,
        "model": "default",
        "system_fingerprint": "local",
        "object": "chat.completion.chunk",
        "usage": usage,
    }


MISTRALRS_USAGE: dict[str, Any] = {
    "completion_tokens": 3,
    "prompt_tokens": 9,
    "total_tokens": 12,
    "avg_tok_per_sec": 41.7,
    "avg_prompt_tok_per_sec": 310.3,
    "avg_compl_tok_per_sec": 25.0,
    "total_time_sec": 0.288,
    "total_prompt_time_sec": 0.029,
    "total_completion_time_sec": 0.12,
}

# The final content chunk carries the finish reason and the usage; its choices are not empty.
MISTRALRS_STREAM = sse(
    ": keep-alive\n\n",
    mistralrs_chunk("Hello"),
    "event: agentic_tool_call_progress\n"
    'data: {"tool_call_id":"call_0","tool_name":"web_search","status":"running"}\n\n',
    ": keep-alive\n\n",
    mistralrs_chunk(" there"),
    mistralrs_chunk("!", finish="stop", usage=MISTRALRS_USAGE),
)

# streaming.rs openai_error_event: an error object as a data event, then [DONE].
MISTRALRS_MID_STREAM_ERROR = sse(
    mistralrs_chunk("Hel"),
    {"error": {"message": "CUDA error: out of memory", "type": "server_error", "param": None, "code": None}},
)

MISTRALRS_422 = {"message": "Failed to deserialize the JSON body into the target type: missing field `messages`"}
MISTRALRS_500 = {"message": "Model failed with error: Tokenizer error", "partial_response": None}

MISTRALRS_MODELS: dict[str, Any] = {
    "object": "list",
    "data": [
        {"id": "default", "object": "model", "created": CREATED, "owned_by": "local"},
        {
            "id": "microsoft/Phi-3.5-mini-instruct",
            "object": "model",
            "created": CREATED,
            "owned_by": "local",
            "status": "loaded",
            "tools_available": False,
        },
        {
            "id": "Qwen/Qwen3-4B",
            "object": "model",
            "created": CREATED,
            "owned_by": "local",
            "status": "unloaded",
            "tools_available": True,
        },
    ],
}

# -- llama.cpp -------------------------------------------------------------------------------

LLAMACPP_LOADING = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
LLAMACPP_EXCEED_CONTEXT = {
    "error": {
        "code": 400,
        "message": "the request exceeds the available context size, try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 5012,
        "n_ctx": 4096,
    }
}
LLAMACPP_INVALID = {"error": {"code": 400, "message": "'messages' is required", "type": "invalid_request_error"}}
LLAMACPP_TIMINGS: dict[str, Any] = {
    "cache_n": 0,
    "prompt_n": 9,
    "prompt_ms": 35.2,
    "prompt_per_token_ms": 3.9,
    "prompt_per_second": 255.6,
    "predicted_n": 3,
    "predicted_ms": 61.0,
    "predicted_per_token_ms": 20.3,
    "predicted_per_second": 49.2,
}


def llamacpp_chunk(content: str | None, *, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "choices": [{"finish_reason": finish, "index": 0, "delta": {} if content is None else {"content": content}}],
        "created": CREATED,
        "id": "chatcmpl-QnXhM0Y5nKJ8tdMtbeLq8Cwz8b7Fg6yT",
        "model": "qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "system_fingerprint": "b5710-3cb20385",
        "object": "chat.completion.chunk",
        **extra,
    }


LLAMACPP_COMPLETION: dict[str, Any] = {
    "choices": [{"finish_reason": "stop", "index": 0, "message": {"role": "assistant", "content": "Hi there!"}}],
    "created": CREATED,
    "model": "qwen2.5-0.5b-instruct-q4_k_m.gguf",
    "system_fingerprint": "b5710-3cb20385",
    "object": "chat.completion",
    "usage": {"completion_tokens": 3, "prompt_tokens": 9, "total_tokens": 12},
    "id": "chatcmpl-QnXhM0Y5nKJ8tdMtbeLq8Cwz8b7Fg6yT",
    "timings": LLAMACPP_TIMINGS,
}

# Prompt caching (server-task.cpp): n_prompt_tokens counts the whole prompt, n_prompt_tokens_cache
# the part reused from the slot's KV cache. Newer builds report it twice, as OpenAI's
# usage.prompt_tokens_details.cached_tokens and as timings.cache_n; older ones only in timings.
# On a stream, timings go on the last chunk (deltas.back()): the choices: [] usage chunk when
# include_usage is asked, else the finish chunk.
LLAMACPP_CACHED_TIMINGS: dict[str, Any] = {**LLAMACPP_TIMINGS, "cache_n": 7, "prompt_n": 2}
LLAMACPP_CACHED_USAGE: dict[str, Any] = {
    "completion_tokens": 3,
    "prompt_tokens": 9,
    "total_tokens": 12,
    "prompt_tokens_details": {"cached_tokens": 7},
}


def llamacpp_cached_completion(*, details: bool = True) -> dict[str, Any]:
    """A reply whose prompt was 7 of 9 tokens cached; ``details=False`` is an older build's (timings only)."""
    usage = LLAMACPP_CACHED_USAGE if details else LLAMACPP_COMPLETION["usage"]
    return {**LLAMACPP_COMPLETION, "usage": usage, "timings": LLAMACPP_CACHED_TIMINGS}


def llamacpp_cached_stream(*, details: bool = True) -> bytes:
    usage = LLAMACPP_CACHED_USAGE if details else LLAMACPP_COMPLETION["usage"]
    return sse(
        llamacpp_chunk("Hi"),
        llamacpp_chunk(None, finish="stop"),
        {**llamacpp_chunk(None), "choices": [], "usage": usage, "timings": LLAMACPP_CACHED_TIMINGS},
    )


# server-context.cpp: after an error event the stream simply closes (no [DONE]).
LLAMACPP_MID_STREAM_ERROR = sse(
    llamacpp_chunk("Hi"),
    {"error": {"code": 500, "message": "failed to decode the batch", "type": "server_error"}},
    done=False,
)

LLAMACPP_MODELS: dict[str, Any] = {
    "object": "list",
    "data": [
        {
            "id": "qwen2.5-0.5b-instruct-q4_k_m.gguf",
            "object": "model",
            "created": CREATED,
            "owned_by": "llamacpp",
            "meta": {
                "vocab_type": 2,
                "n_vocab": 151936,
                "n_ctx_train": 32768,
                "n_embd": 896,
                "n_params": 494032768,
                "size": 491400032,
            },
        }
    ],
}

# -- vLLM ------------------------------------------------------------------------------------


def vllm_chunk(content: str | None, *, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-8f6b3c2a9d7e4b1f",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "Qwen/Qwen2.5-0.5B-Instruct",
        "choices": [
            {
                "index": 0,
                "delta": {} if content is None else {"content": content},
                "logprobs": None,
                "finish_reason": finish,
                "stop_reason": None,
            }
        ],
        **extra,
    }


def vllm_usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "total_tokens": prompt + completion, "completion_tokens": completion}


def vllm_cached_usage(prompt: int, completion: int, cached: int | None) -> dict[str, Any]:
    """protocol.py UsageInfo with --enable-prompt-tokens-details: PromptTokenUsageInfo(cached_tokens)."""
    return {**vllm_usage(prompt, completion), "prompt_tokens_details": {"cached_tokens": cached}}


def vllm_completion(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-8f6b3c2a9d7e4b1f",
        "object": "chat.completion",
        "created": CREATED,
        "model": "Qwen/Qwen2.5-0.5B-Instruct",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!", "tool_calls": []},
                "logprobs": None,
                "finish_reason": "stop",
                "stop_reason": None,
            }
        ],
        "usage": usage,
        "prompt_logprobs": None,
    }


VLLM_FLAT_ERROR = {
    "object": "error",
    "message": "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.",
    "type": "BadRequestError",
    "param": None,
    "code": 400,
}

VLLM_MODELS: dict[str, Any] = {
    "object": "list",
    "data": [
        {
            "id": "Qwen/Qwen2.5-0.5B-Instruct",
            "object": "model",
            "created": CREATED,
            "owned_by": "vllm",
            "root": "Qwen/Qwen2.5-0.5B-Instruct",
            "parent": None,
            "max_model_len": 4096,
            "permission": [],
        }
    ],
}

# -- Ollama ----------------------------------------------------------------------------------


def ollama_chunk(content: str, *, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-373",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "llama3.2",
        "system_fingerprint": "fp_ollama",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}],
    }


OLLAMA_USAGE_CHUNK = {
    "id": "chatcmpl-373",
    "object": "chat.completion.chunk",
    "created": CREATED,
    "model": "llama3.2",
    "system_fingerprint": "fp_ollama",
    "choices": [],
    "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13},
}

OLLAMA_NOT_FOUND = {
    "error": {
        "message": 'model "llama9" not found, try pulling it first',
        "type": "not_found_error",
        "param": None,
        "code": None,
    }
}
OLLAMA_API_ERROR = {
    "error": {
        "message": "an error was encountered while running the model",
        "type": "api_error",
        "param": None,
        "code": None,
    }
}
