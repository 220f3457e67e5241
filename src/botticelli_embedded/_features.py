"""Structured output and thinking as mistral.rs ``ChatCompletionRequest`` options. No I/O.

Measured on mistralrs 0.9.5 with botticelli's tiny random GGUF model:

* ``grammar_type="json_schema"`` with the schema as ``grammar`` constrains decoding
  (llguidance), numeric bounds included. Left free to put whitespace between tokens,
  though, a small model fills ``max_tokens`` with spaces before closing the object (3 of 3
  tries); with llguidance's ``"x-guidance": {"whitespace_flexible": false}`` the same
  model closed a valid object within 10 tokens in 3 of 3 tries. botticelli adds that key
  unless the schema sets ``x-guidance`` itself. A schema that allows extra properties
  (JSON Schema's default, and pydantic's) lets the model add keys until ``max_tokens``;
  give ``additionalProperties: false`` (pydantic: ``extra="forbid"``) for small models.
* ``enable_thinking`` and ``reasoning_effort`` (``off``/``low``/``medium``/``high``) are the
  engine's thinking switches, read by the model's chat template; a thinking model's
  thoughts come back as ``reasoning_content``, which botticelli gives as ``reasoning``. The
  engine has no thinking budget, so a positive ``budget_tokens`` is refused.
* Tools are not offered: the engine's ``tool_choice`` knows only ``Auto`` and ``None`` (no
  forced call), and whether a call comes back depends on the model's own template and
  the engine's parser for it; with the tiny model, ``tool_schemas`` gave plain text. See
  docs/tools-backends.md.
"""

from __future__ import annotations

import json
from typing import Any

from botticelli_core import GenerateRequest, ThinkingConfig
from botticelli_embedded.config import PROVIDER
from botticelli_error import UnsupportedInputError

__all__ = ["COMPACT_JSON", "feature_options"]

COMPACT_JSON: dict[str, Any] = {"whitespace_flexible": False}
"""llguidance's ``x-guidance`` setting botticelli adds to a schema that sets none: no free whitespace."""


def feature_options(request: GenerateRequest) -> dict[str, Any]:
    """The ``ChatCompletionRequest`` keywords for the request's ``output_schema`` and ``thinking``.

    Raises:
        UnsupportedInputError: ``thinking.budget_tokens`` above zero (``input_type="thinking"``):
            the engine cannot bound thinking by tokens.

    Examples:
        >>> req = GenerateRequest.from_prompt("Hi", output_schema={"type": "object"})
        >>> options = feature_options(req)
        >>> options["grammar_type"], json.loads(options["grammar"])
        ('json_schema', {'type': 'object', 'x-guidance': {'whitespace_flexible': False}})
        >>> feature_options(GenerateRequest.from_prompt("Hi", thinking=ThinkingConfig(effort="low")))
        {'reasoning_effort': 'low'}
    """
    options: dict[str, Any] = {}
    if request.output_schema is not None:
        schema = request.output_schema
        if "x-guidance" not in schema:
            schema = {**schema, "x-guidance": COMPACT_JSON}
        options["grammar"] = json.dumps(schema)
        options["grammar_type"] = "json_schema"
    if request.thinking is not None:
        options.update(_thinking(request.thinking))
    return options


def _thinking(thinking: ThinkingConfig) -> dict[str, Any]:
    if thinking.effort is not None:
        return {"reasoning_effort": thinking.effort}
    if thinking.budget_tokens is None:
        return {"enable_thinking": True}
    if thinking.budget_tokens == 0:
        return {"enable_thinking": False}
    raise UnsupportedInputError(
        f"the {PROVIDER} engine cannot bound thinking to {thinking.budget_tokens} tokens (it has no thinking "
        "budget); give ThinkingConfig(effort=...) or budget_tokens=0 to turn thinking off",
        provider=PROVIDER,
        input_type="thinking",
    )
