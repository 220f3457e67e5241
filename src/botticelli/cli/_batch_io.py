"""The files of ``botticelli generate --batch``: input lines to requests, results to output lines.

Input: one JSON object a line, ``{"id": ..., "prompt": "..."}`` or ``{"id": ...,
"messages": [{"role": "user", "content": "..."}, ...]}``, plus any request parameter (``max_tokens``, ``temperature``,
``stop``, ``system`` with ``prompt``...). ``id`` (a string or an integer) defaults to the
line's number. Blank lines are skipped.

Output: one JSON object a line, ``{"id", "text", "finish_reason", "usage"}`` for an
answer, ``{"id", "error": {"type", "message", "retryable"}}`` for a failure. The output
file is only ever appended to; a rerun reads it first (:func:`read_finished`) and skips
every id it already holds an answer for, so failures are tried again and the last line of
an id is its current result.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botticelli_core import GenerateRequest, TextInput
from botticelli_error import BotticelliError, ConfigurationError

__all__ = ["BadLine", "BatchItem", "error_line", "parse_input", "read_finished", "result_line"]

ItemId = str | int


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One valid input line."""

    id: ItemId
    line: int
    request: GenerateRequest


@dataclass(frozen=True, slots=True)
class BadLine:
    """An input line that makes no request, and why; reported, never fatal to the others."""

    line: int
    reason: str


def parse_input(text: str, defaults: dict[str, Any]) -> tuple[list[BatchItem], list[BadLine]]:
    r"""The requests of an input file, and the lines that are not one.

    Args:
        text: The file's contents.
        defaults: Request parameters from the command line; a line's own win.

    Examples:
        >>> items, bad = parse_input('{"id": "a", "prompt": "hi", "max_tokens": 4}\n\nnot json\n', {})
        >>> [(i.id, i.line, i.request.max_tokens) for i in items], [(b.line, b.reason[:12]) for b in bad]
        ([('a', 1, 4)], [(3, 'invalid JSON')])
    """
    items: list[BatchItem] = []
    bad: list[BadLine] = []
    seen: dict[ItemId, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = _item(raw, number, defaults)
        except _Bad as exc:
            bad.append(BadLine(number, str(exc)))
            continue
        if item.id in seen:
            bad.append(BadLine(number, f"id {item.id!r} repeats line {seen[item.id]}"))
            continue
        seen[item.id] = number
        items.append(item)
    return items, bad


class _Bad(Exception):
    pass


def _item(raw: str, number: int, defaults: dict[str, Any]) -> BatchItem:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise _Bad(f"invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _Bad(f"must be a JSON object, got {type(value).__name__}")
    fields = dict(value)
    item_id = fields.pop("id", number)
    if isinstance(item_id, bool) or not isinstance(item_id, str | int):
        raise _Bad(f"id must be a string or an integer, got {item_id!r}")
    has_prompt, has_messages = "prompt" in fields, "messages" in fields
    if has_prompt == has_messages:
        raise _Bad('needs exactly one of "prompt" and "messages"')
    try:
        if has_prompt:
            params = {**defaults, **fields}
            prompt = params.pop("prompt")
            system = params.pop("system", None)
            request = GenerateRequest.from_prompt(prompt, system=system, **params)
        else:
            # A conversation brings its own system message: --system applies to prompts only.
            shared = {k: v for k, v in defaults.items() if k != "system"}
            fields["messages"] = _messages(fields["messages"])
            request = GenerateRequest.model_validate({**shared, **fields})
    except ConfigurationError as exc:
        raise _Bad(exc.message) from None
    return BatchItem(item_id, number, request)


def _messages(value: object) -> object:
    """Messages as JSON, where a ``content`` may also be a plain string (the common shape)."""
    if not isinstance(value, list):
        return value
    return [
        {**m, "content": [TextInput(text=m["content"])]}
        if isinstance(m, dict) and isinstance(m.get("content"), str)
        else m
        for m in value
    ]


def read_finished(path: Path) -> set[ItemId]:
    """The ids ``path`` already holds an answer for; a half-written last line is cut off.

    A run that was killed mid-write leaves a last line without its newline: it is removed
    (the only change ever made to existing bytes), so the next line appended starts clean.
    A missing file has no answers.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return set()
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        with path.open("r+b") as handle:
            handle.truncate(complete)
            handle.flush()
            os.fsync(handle.fileno())
    finished: set[ItemId] = set()
    for raw in data[:complete].splitlines():
        try:
            value = json.loads(raw)
        except ValueError:
            continue  # not ours to judge: an answer line is always valid JSON
        if isinstance(value, dict) and "error" not in value and isinstance(value.get("id"), str | int):
            finished.add(value["id"])
    return finished


def result_line(item: BatchItem, text: str, finish_reason: str, usage: dict[str, Any] | None) -> str:
    r"""The output line of an answer.

    Examples:
        >>> item = BatchItem("a", 1, GenerateRequest.from_prompt("hi"))
        >>> result_line(item, "hello", "stop", {"input_tokens": 1, "output_tokens": 2})
        '{"id": "a", "text": "hello", "finish_reason": "stop", "usage": {"input_tokens": 1, "output_tokens": 2}}\n'
    """
    line = {"id": item.id, "text": text, "finish_reason": finish_reason, "usage": usage}
    return json.dumps(line, ensure_ascii=False) + "\n"


def error_line(item: BatchItem, error: BotticelliError) -> str:
    r"""The output line of a failure: the error's type, message (secrets scrubbed) and retryability.

    Examples:
        >>> item = BatchItem(7, 7, GenerateRequest.from_prompt("hi"))
        >>> error_line(item, BotticelliError("busy", retryable=True))
        '{"id": 7, "error": {"type": "BotticelliError", "message": "[botticelli] busy", "retryable": true}}\n'
    """
    line = {"id": item.id, "error": {"type": type(error).__name__, "message": str(error), "retryable": error.retryable}}
    return json.dumps(line, ensure_ascii=False) + "\n"
