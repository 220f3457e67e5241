"""Gemini fixtures for tools, structured output and thinking, field for field from Google's docs.

Shapes follow ai.google.dev's function-calling guide (parallel ``functionCall`` parts;
Gemini 3 gives each call an ``id`` and signs the first call of a turn with a
``thoughtSignature``), the structured-output guide (``responseMimeType`` +
``responseJsonSchema``; the answer is JSON text in an ordinary text part) and the
thinking guide (``thought: true`` summary parts, ``usageMetadata.thoughtsTokenCount``),
plus ``cachedContentTokenCount`` of the ``UsageMetadata`` reference.
"""

from __future__ import annotations

from typing import Any

SIGNATURE = "CiQBjz1rXy7I2b1m3fA5Vj0s3t9kZp0Qy8g6wHcQm3Lr4Yh2nG8="

# A Gemini 3 turn of parallel calls: ids on every call, the signature on the first one only.
PARALLEL_CALLS: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {
                        "functionCall": {"id": "fc-disco-1", "name": "power_disco_ball", "args": {"power": True}},
                        "thoughtSignature": SIGNATURE,
                    },
                    {
                        "functionCall": {
                            "id": "fc-music-2",
                            "name": "start_music",
                            "args": {"energetic": True, "loud": True},
                        }
                    },
                    {"functionCall": {"id": "fc-lights-3", "name": "dim_lights", "args": {"brightness": 0.5}}},
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 140,
        "candidatesTokenCount": 42,
        "thoughtsTokenCount": 75,
        "totalTokenCount": 257,
    },
    "modelVersion": "gemini-3-flash-preview",
    "responseId": "parallel-1",
}

# A thinking answer with a thought summary (includeThoughts) and a cache hit.
THOUGHTS_AND_CACHE: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {
                        "text": "**Comparing the numbers**\nNine point eleven is less than nine point nine.",
                        "thought": True,
                    },
                    {"text": "9.9 is larger."},
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 2100,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 311,
        "cachedContentTokenCount": 2048,
        "totalTokenCount": 2416,
        "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 2048}],
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "thinking-cache-1",
}

# Structured output: the JSON comes back as the text of the answer.
RECIPE_JSON: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [{"text": '{"recipe_name": "Chocolate chip cookies", "minutes": 25}'}],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 14, "totalTokenCount": 26},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "json-1",
}

# A stream that thinks, then calls two functions, each whole in its own event.
STREAM_THOUGHT_THEN_CALLS: list[dict[str, Any]] = [
    {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "Two cities, two calls.", "thought": True}]}, "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 30, "totalTokenCount": 30},
    },
    {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {
                            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                            "thoughtSignature": SIGNATURE,
                        }
                    ],
                },
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 30, "totalTokenCount": 30},
    },
    {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Lyon"}}}],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 30,
            "candidatesTokenCount": 16,
            "thoughtsTokenCount": 9,
            "totalTokenCount": 55,
        },
        "modelVersion": "gemini-2.5-flash",
    },
]
