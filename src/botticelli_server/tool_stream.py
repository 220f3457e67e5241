"""Assembling streamed tool calls from the fragments OpenAI-compatible servers send.

A call streams as pieces keyed by ``index``: the first carries ``id`` and the function's
``name``, the next ones pieces of the ``arguments`` JSON text. Servers bend this (see
the wire-format notes in docs/tools.md), so the rules are:

- a fragment whose ``index`` is new starts a call; one whose ``index`` is known continues
  that call, unless it brings a different ``id`` (Ollama gives parallel calls all index 0);
- a fragment without an ``index`` starts a call if it names one (``id`` or ``name``), and
  otherwise continues the last call;
- ``arguments`` may be a string piece or a whole object;
- the legacy ``function_call`` delta is read only when a chunk has no ``tool_calls``:
  llama-cpp-python sends both for the same call, and reading both would double it.

Nothing here runs for text-only chunks: the stream reader calls :meth:`ToolCallAssembler.feed`
only when a delta carries tool-call fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botticelli_core import ToolCallDelta, ToolCallOutput
from botticelli_server.tools import parse_arguments

__all__ = ["ToolCallAssembler"]


class _Call:
    __slots__ = ("id", "name", "pieces", "position", "whole")

    def __init__(self, position: int) -> None:
        self.position = position
        self.id: str | None = None
        self.name: str | None = None
        self.pieces: list[str] = []
        self.whole: dict[str, Any] | None = None


class ToolCallAssembler:
    """The tool calls of one streamed answer, built up fragment by fragment.

    Examples:
        >>> calls = ToolCallAssembler()
        >>> first = {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "add", "arguments": ""}}]}
        >>> calls.feed(first)[0].name
        'add'
        >>> _ = calls.feed({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]})
        >>> _ = calls.feed({"tool_calls": [{"index": 0, "function": {"arguments": "2}"}}]})
        >>> calls.assembled()[0].arguments
        {'a': 2}
    """

    __slots__ = ("_by_index", "_calls")

    def __init__(self) -> None:
        self._calls: list[_Call] = []
        self._by_index: dict[int, _Call] = {}

    def __bool__(self) -> bool:
        return bool(self._calls)

    def feed(self, delta: Mapping[str, Any]) -> tuple[ToolCallDelta, ...]:
        """Take a delta's tool-call fragments; return them as :class:`ToolCallDelta` s, indexed by call."""
        fragments = delta.get("tool_calls")
        if not fragments:
            legacy = delta.get("function_call")
            fragments = [{"function": legacy}] if isinstance(legacy, dict) else []
        if isinstance(fragments, dict):  # one fragment where a list belongs
            fragments = [fragments]
        out: list[ToolCallDelta] = []
        for fragment in fragments if isinstance(fragments, list) else ():
            if isinstance(fragment, dict):
                out.append(self._take(fragment))
        return tuple(out)

    def _take(self, fragment: dict[str, Any]) -> ToolCallDelta:
        function = fragment.get("function")
        function = function if isinstance(function, dict) else {}
        call_id = _text(fragment.get("id"))
        name = _text(function.get("name"))
        call = self._target(fragment.get("index"), call_id, name)
        if call_id and not call.id:
            call.id = call_id
        if name and not call.name:
            call.name = name
        arguments = function.get("arguments")
        piece = ""
        if isinstance(arguments, dict):
            call.whole = arguments
            piece = json.dumps(arguments, ensure_ascii=False)
        elif isinstance(arguments, str):
            call.pieces.append(arguments)
            piece = arguments
        return ToolCallDelta(index=call.position, id=call_id, name=name, arguments=piece)

    def _target(self, index: object, call_id: str | None, name: str | None) -> _Call:
        if isinstance(index, int) and not isinstance(index, bool):
            known = self._by_index.get(index)
            if known is not None and not (call_id and known.id and call_id != known.id):
                return known
            call = self._start()
            self._by_index[index] = call
            return call
        if call_id or name or not self._calls:
            return self._start()
        return self._calls[-1]

    def _start(self) -> _Call:
        call = _Call(len(self._calls))
        self._calls.append(call)
        return call

    def assembled(self) -> tuple[ToolCallOutput, ...]:
        """Every call so far, its arguments parsed (``raw_arguments`` keeps text that is not an object)."""
        outputs: list[ToolCallOutput] = []
        for call in self._calls:
            raw: str | dict[str, Any] | None = call.whole if call.whole is not None else "".join(call.pieces)
            arguments, raw_text = parse_arguments(raw)
            outputs.append(
                ToolCallOutput(
                    id=call.id or f"call_{call.position}",
                    name=call.name or "",
                    arguments=arguments,
                    raw_arguments=raw_text,
                )
            )
        return tuple(outputs)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
