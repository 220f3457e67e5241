"""read_batch and parse_batch: the batch command's input lines, read from Python."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import botticelli
from botticelli import BatchInput, generate_many, parse_batch, read_batch
from botticelli.batch import BadBatchLine
from botticelli_core import GenerateRequest, Role

from .fakes import CountingModel

DOCS_EXAMPLE = (
    '{"id": "q1", "prompt": "What is 2 + 2?", "max_tokens": 8}\n'
    '{"id": "q2", "messages": [{"role": "system", "content": "Be brief."}, '
    '{"role": "user", "content": "Name a colour."}]}\n'
)


def test_the_commands_line_format_reads_from_python(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(DOCS_EXAMPLE, encoding="utf-8")
    batch = read_batch(path, defaults={"max_tokens": 32})
    assert isinstance(batch, BatchInput)
    assert batch.bad == ()
    assert [(item.id, item.line, item.request.max_tokens) for item in batch.items] == [("q1", 1, 8), ("q2", 2, 32)]
    q2 = batch.items[1].request
    assert [(m.role, m.text) for m in q2.messages] == [(Role.SYSTEM, "Be brief."), (Role.USER, "Name a colour.")]
    assert batch.requests == [item.request for item in batch.items]
    assert botticelli.read_batch is read_batch
    assert botticelli.parse_batch is parse_batch


@pytest.mark.anyio
async def test_the_requests_feed_generate_many_and_results_map_back_to_ids() -> None:
    batch = parse_batch('{"id": "a", "prompt": "one"}\n{"id": "b", "prompt": "bad"}\n')
    results = await generate_many(CountingModel(), batch.requests, concurrency=2)
    assert {batch.items[r.index].id: r.ok for r in results} == {"a": True, "b": False}


def test_content_parts_and_a_default_system_for_prompts_only() -> None:
    parts = {"role": "user", "content": [{"type": "text", "text": "a "}, {"type": "text", "text": "b"}]}
    batch = parse_batch(
        json.dumps({"prompt": "p"}) + "\n" + json.dumps({"messages": [parts]}) + "\n",
        defaults={"system": "Be kind.", "temperature": 0.5},
    )
    prompt, conversation = (item.request for item in batch.items)
    assert [m.text for m in prompt.messages] == ["Be kind.", "p"]
    assert [m.text for m in conversation.messages] == ["a b"]
    assert conversation.temperature == prompt.temperature == 0.5


def test_a_line_without_an_id_never_reads_as_a_repeat() -> None:
    # Line 1 names itself 2; line 2 has no id, so it would be known as 2 too.
    batch = parse_batch('{"id": 2, "prompt": "first"}\n{"prompt": "second"}\n')
    assert [item.id for item in batch.items] == [2]
    (bad,) = batch.bad
    assert bad.line == 2
    assert "repeats" not in bad.reason
    assert bad.reason == "has no id, and its line number 2 is already the id of line 1; give this line an id"
    # The other way round: the line that names itself is told the id is taken, and why.
    (bad,) = parse_batch('{"prompt": "first"}\n{"id": 1, "prompt": "second"}\n').bad
    assert bad.line == 2
    assert "repeats" not in bad.reason
    assert "already line 1's, which has no id and is known by its line number" in bad.reason


def test_an_id_that_is_really_repeated_still_says_so() -> None:
    batch = parse_batch('{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n{"id": 3, "prompt": "z"}\n')
    assert batch.bad == (BadBatchLine(2, "id 'a' repeats line 1"),)
    assert [item.id for item in batch.items] == ["a", 3]  # its own id equal to its own line number is fine


def test_a_null_id_is_no_id() -> None:
    batch = parse_batch('{"id": null, "prompt": "x"}\n')
    assert [item.id for item in batch.items] == [1]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c", "\x1c"])
def test_lines_end_at_newlines_only(separator: str) -> None:
    # json.dumps(ensure_ascii=False) writes these unescaped; str.splitlines would break the line there.
    text = json.dumps({"prompt": f"one{separator}two"}, ensure_ascii=False) + "\n" + '{"prompt": "three"}\n'
    batch = parse_batch(text)
    assert batch.bad == ()
    assert [(item.id, item.request.messages[0].text) for item in batch.items] == [
        (1, f"one{separator}two"),
        (2, "three"),
    ]


def test_crlf_line_ends_and_a_byte_order_mark_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"prompt": "one"}\r\n\r\n{"prompt": "two"}\r\n')
    batch = read_batch(path)
    assert batch.bad == ()
    assert [(item.id, item.request.messages[0].text) for item in batch.items] == [(1, "one"), (3, "two")]


def test_bad_lines_are_values_and_the_rest_are_read() -> None:
    batch = parse_batch('not json\n[1]\n{"id": "a"}\n{"prompt": "ok", "max_tokens": 0}\n{"prompt": "fine"}\n')
    assert [(bad.line, bad.reason.split(":")[0]) for bad in batch.bad] == [
        (1, "invalid JSON"),
        (2, "must be a JSON object, got list"),
        (3, 'needs exactly one of "prompt" and "messages"'),
        (4, "invalid GenerateRequest"),
    ]
    assert [item.request for item in batch.items] == [GenerateRequest.from_prompt("fine")]
