"""``generationConfig`` for a request: sampling, structured output and thinking. No I/O.

* ``output_schema`` -> ``responseMimeType: application/json`` + ``responseJsonSchema``:
  the full JSON Schema botticelli holds (a pydantic model's ``$defs`` and ``anyOf``
  included), where ``responseSchema`` takes only Google's OpenAPI subset.
* ``thinking`` -> ``thinkingConfig``: ``budget_tokens`` -> ``thinkingBudget`` (the Gemini
  2.5 control; ``0`` turns thinking off where the model allows it), ``effort`` ->
  ``thinkingLevel`` (``LOW``/``MEDIUM``/``HIGH``, the Gemini 3 control), and
  ``include_thoughts`` -> ``includeThoughts``. Gemini refuses a level on a 2.5 model and
  both controls together, so botticelli sends exactly the one the request gives.
"""

from __future__ import annotations

from botticelli_core import GenerateRequest, ThinkingConfig
from botticelli_gemini.request import WireGenerationConfig, WireThinkingConfig

__all__ = ["JSON_MIME_TYPE", "to_generation_config", "to_thinking_config"]

JSON_MIME_TYPE = "application/json"
_LEVELS = {"low": "LOW", "medium": "MEDIUM", "high": "HIGH"}


def to_thinking_config(thinking: ThinkingConfig) -> WireThinkingConfig:
    """``thinkingConfig`` for ``thinking``.

    Examples:
        >>> to_thinking_config(ThinkingConfig(budget_tokens=1024, include_thoughts=True))
        WireThinkingConfig(thinking_budget=1024, thinking_level=None, include_thoughts=True)
        >>> to_thinking_config(ThinkingConfig(effort="high")).thinking_level
        'HIGH'
    """
    level = _LEVELS[thinking.effort] if thinking.effort is not None else None
    return WireThinkingConfig(
        thinking_budget=thinking.budget_tokens,
        thinking_level=level,
        include_thoughts=True if thinking.include_thoughts else None,
    )


def to_generation_config(request: GenerateRequest) -> WireGenerationConfig | None:
    """The ``generationConfig`` for ``request``, or ``None`` when it sets nothing.

    Example:
        >>> req = GenerateRequest.from_prompt("Hi", output_schema={"type": "object"})
        >>> config = to_generation_config(req)
        >>> config.response_mime_type, config.response_json_schema
        ('application/json', {'type': 'object'})
    """
    params = (request.max_tokens, request.temperature, request.top_p, request.stop, request.seed)
    if all(p is None for p in params) and request.output_schema is None and request.thinking is None:
        return None
    schema = request.output_schema
    return WireGenerationConfig(
        max_output_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        stop_sequences=list(request.stop) if request.stop is not None else None,
        seed=request.seed,
        response_mime_type=JSON_MIME_TYPE if schema is not None else None,
        response_json_schema=schema,
        thinking_config=to_thinking_config(request.thinking) if request.thinking is not None else None,
    )
