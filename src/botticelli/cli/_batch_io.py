"""The output file of ``botticelli generate --batch``: results to lines, and the ids already answered.

The input lines are read by :func:`botticelli.batch.parse_batch` (the format is documented
there and in docs/batch.md): the same reader Python code uses, so a file the command reads
reads the same from Python.

Output: one JSON object a line, ``{"id", "text", "finish_reason", "usage"}`` for an
answer, ``{"id", "error": {"type", "message", "retryable"}}`` for a failure. The output
file is only ever appended to; a rerun reads it first (:func:`read_finished`) and skips
every id it already holds an answer for, so failures are tried again and the last line of
an id is its current result.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from botticelli.batch import BatchItem, ItemId
from botticelli_error import BotticelliError

__all__ = ["error_line", "read_finished", "result_line"]


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
        >>> from botticelli_core import GenerateRequest
        >>> item = BatchItem("a", 1, GenerateRequest.from_prompt("hi"))
        >>> result_line(item, "hello", "stop", {"input_tokens": 1, "output_tokens": 2})
        '{"id": "a", "text": "hello", "finish_reason": "stop", "usage": {"input_tokens": 1, "output_tokens": 2}}\n'
    """
    line = {"id": item.id, "text": text, "finish_reason": finish_reason, "usage": usage}
    return json.dumps(line, ensure_ascii=False) + "\n"


def error_line(item: BatchItem, error: BotticelliError) -> str:
    r"""The output line of a failure: the error's type, message (secrets scrubbed) and retryability.

    Examples:
        >>> from botticelli_core import GenerateRequest
        >>> item = BatchItem(7, 7, GenerateRequest.from_prompt("hi"))
        >>> error_line(item, BotticelliError("busy", retryable=True))
        '{"id": 7, "error": {"type": "BotticelliError", "message": "[botticelli] busy", "retryable": true}}\n'
    """
    line = {"id": item.id, "error": {"type": type(error).__name__, "message": str(error), "retryable": error.retryable}}
    return json.dumps(line, ensure_ascii=False) + "\n"
