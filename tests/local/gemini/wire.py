"""Gemini wire-format fixtures, field for field as Google documents them.

Shapes follow the REST reference of ``generateContent``/``streamGenerateContent``
(``GenerateContentResponse``, ``UsageMetadata``, ``PromptFeedback``) and the error
model of ai.google.dev/gemini-api/docs/troubleshooting (``google.rpc.Status`` with typed
``details``). Streams use ``\\r\\n\\r\\n`` between events, as the API does.
"""

from __future__ import annotations

import json
from typing import Any

BASE_URL = "https://generativelanguage.googleapis.com"
API_KEY = "AIzaSyTEST-not-a-real-key-0123456789abc"
MODEL = "gemini-2.5-flash"
GENERATE_PATH = f"/v1beta/models/{MODEL}:generateContent"
STREAM_PATH = f"/v1beta/models/{MODEL}:streamGenerateContent"


def usage(prompt: int, candidates: int | None = None, thoughts: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "promptTokenCount": prompt,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    total = prompt
    if candidates is not None:
        meta["candidatesTokenCount"] = candidates
        total += candidates
    if thoughts is not None:
        meta["thoughtsTokenCount"] = thoughts
        total += thoughts
    meta["totalTokenCount"] = total
    return meta


def text_candidate(*texts: str, finish: str | None = None, thought: bool = False) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"text": t, "thought": True} if thought else {"text": t} for t in texts]
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return candidate


def response(*candidates: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "candidates": list(candidates),
        "modelVersion": MODEL,
        "responseId": "mOd8abGuO5rgz7IP5tLEGA",
    }
    if meta is not None:
        body["usageMetadata"] = meta
    return body


GENERATE_OK = response(text_candidate("Paris is the capital", " of France.", finish="STOP"), meta=usage(8, 7))

THINKING = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {"text": "The user asks for a capital. France -> Paris.", "thought": True},
                    {"text": "Paris."},
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": usage(8, 2, thoughts=31),
    "modelVersion": MODEL,
    "responseId": "thinking-1",
}

TOOL_CALLS = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {
                        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                        "thoughtSignature": "Es8FCswFAdHtim8=",
                    },
                    {"functionCall": {"name": "get_weather", "args": {"city": "Lyon"}}},
                ],
            },
            "finishReason": "STOP",
            "finishMessage": "Model generated function call(s).",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 83,
        "candidatesTokenCount": 30,
        "thoughtsTokenCount": 190,
        "totalTokenCount": 303,
    },
    "modelVersion": "gemini-3-flash-preview",
    "responseId": "wOd8abGuO5rgz7IP5tLEGA",
}

SAFETY_RATINGS = [
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
]

BLOCKED_PROMPT = {
    "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": SAFETY_RATINGS},
    "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
    "modelVersion": MODEL,
    "responseId": "blocked-1",
}

SAFETY_FINISH = {
    "candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": SAFETY_RATINGS}],
    "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
    "modelVersion": MODEL,
    "responseId": "safety-1",
}

MALFORMED_FUNCTION_CALL = {
    "candidates": [{"content": {}, "finishReason": "MALFORMED_FUNCTION_CALL", "index": 0}],
    "usageMetadata": {"promptTokenCount": 40, "totalTokenCount": 40},
    "modelVersion": MODEL,
}

QUOTA_HELP = {
    "@type": "type.googleapis.com/google.rpc.Help",
    "links": [
        {
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
        }
    ],
}


def error(code: int, status: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        body["details"] = list(details)
    return {"error": body}


def quota_failure(quota_id: str, metric: str, value: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {
                "quotaMetric": metric,
                "quotaId": quota_id,
                "quotaDimensions": {"location": "global", "model": MODEL},
                "quotaValue": value,
            }
        ],
    }


def retry_info(delay: str) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}


PER_MINUTE_QUOTA = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
PER_DAY_QUOTA = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
REQUESTS_METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_requests"


def rate_limited_per_minute(delay: str = "53s") -> dict[str, Any]:
    return error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details. "
        f"* Quota exceeded for metric: {REQUESTS_METRIC}, limit: 10, model: {MODEL}\n"
        f"Please retry in {delay}.",
        quota_failure(PER_MINUTE_QUOTA, REQUESTS_METRIC, "10"),
        QUOTA_HELP,
        retry_info(delay),
    )


RATE_LIMITED_PER_DAY = error(
    429,
    "RESOURCE_EXHAUSTED",
    "You exceeded your current quota, please check your plan and billing details. "
    f"* Quota exceeded for metric: {REQUESTS_METRIC}, limit: 250, model: {MODEL}\n"
    "Please retry in 7h2m5.5s.",
    quota_failure(PER_DAY_QUOTA, REQUESTS_METRIC, "250"),
    QUOTA_HELP,
    retry_info("25325s"),
)

RATE_LIMITED_LIMIT_ZERO = error(
    429,
    "RESOURCE_EXHAUSTED",
    "You exceeded your current quota, please check your plan and billing details. "
    "* Quota exceeded for metric: "
    "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count, "
    "limit: 0, model: gemini-2.5-pro\nPlease retry in 41.2s.",
    retry_info("41s"),
)

OVERLOADED = error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
INTERNAL = error(
    500,
    "INTERNAL",
    "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
)
DEADLINE = error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")
NOT_FOUND = error(
    404,
    "NOT_FOUND",
    "models/gemini-9-ultra is not found for API version v1beta, or is not supported for generateContent.",
)
PERMISSION_DENIED = error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.")
INVALID_ARGUMENT = error(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature' (TYPE_FLOAT).")
FAILED_PRECONDITION = error(
    400,
    "FAILED_PRECONDITION",
    "User location is not supported for the API use without a billing account linked.",
)
API_KEY_INVALID = error(
    400,
    "INVALID_ARGUMENT",
    "API key not valid. Please pass a valid API key.",
    {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    },
)

MID_STREAM_ERROR = {"error": {"code": 500, "message": "Error", "status": "INTERNAL"}}


def dumps(body: Any) -> bytes:
    return json.dumps(body).encode()


def sse(*events: Any, sep: bytes = b"\r\n\r\n") -> bytes:
    """A stream body as Gemini writes it: ``data: <json>`` events, CRLF-separated, no ``[DONE]``."""
    return b"".join(b"data: " + dumps(event) + sep for event in events)


STREAM_EVENTS = [
    response(text_candidate("The"), meta=usage(15)),
    response(text_candidate(" capital of France"), meta=usage(15)),
    response(text_candidate(" is Paris.\n", finish="STOP"), meta=usage(13, 8)),
]

MODEL_ENTRY = {
    "name": f"models/{MODEL}",
    "version": "001",
    "displayName": "Gemini 2.5 Flash",
    "description": "Stable version of Gemini 2.5 Flash.",
    "inputTokenLimit": 1048576,
    "outputTokenLimit": 65536,
    "supportedGenerationMethods": [
        "generateContent",
        "countTokens",
        "createCachedContent",
        "batchGenerateContent",
    ],
    "temperature": 1,
    "topP": 0.95,
    "topK": 64,
    "maxTemperature": 2,
    "thinking": True,
}
