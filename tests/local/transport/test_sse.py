"""The SSE decoder: framing rules, line endings, chunk boundaries and leniency at the end."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from botticelli_transport import ServerSentEvent, SSEDecoder


def decode(*pieces: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.flush()


def datas(events: list[ServerSentEvent]) -> list[bytes]:
    return [e.data for e in events]


STREAM = (
    b"\xef\xbb\xbf: keep-alive\r\n\r\n"
    b"id: 1\nretry: 3000\n\n"
    b'data: {"a":1}\r\n\r\n'
    b"event: agentic_tool_call_progress\rdata: {}\r\r"
    b"data: line one\ndata: line two\n\n"
    b"id: 7\r\n\r\n"
    b"data:no-space\n"
    b"mystery: field\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    ServerSentEvent(b'{"a":1}', "message", "1"),
    ServerSentEvent(b"{}", "agentic_tool_call_progress", "1"),
    ServerSentEvent(b"line one\nline two", "message", "1"),
    ServerSentEvent(b"no-space", "message", "7"),
    ServerSentEvent(b"[DONE]", "message", "7"),
]


def test_a_mixed_stream_fed_whole_decodes_to_the_expected_events() -> None:
    assert decode(STREAM) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=20))
def test_splitting_a_stream_at_any_points_yields_the_same_events_as_feeding_it_whole(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    pieces = [STREAM[a:b] for a, b in itertools.pairwise(bounds)]
    assert decode(*pieces) == EXPECTED


@given(st.data())
def test_feeding_byte_by_byte_with_any_line_ending_is_the_same_as_lf(data: st.DataObject) -> None:
    lines = [b"data: x", b"", b": ping", b"", b"event: e", b"data: y", b"data: z", b""]
    body = b""
    for line in lines:
        # A CR ending followed by an empty line's LF would be one CRLF, not two endings.
        after_cr = body.endswith(b"\r") and not line
        body += line + data.draw(st.sampled_from([b"\r", b"\r\n"] if after_cr else [b"\n", b"\r", b"\r\n"]))
    events = decode(*(body[i : i + 1] for i in range(len(body))))
    assert events == [ServerSentEvent(b"x"), ServerSentEvent(b"y\nz", "e")]


@given(st.text(max_size=40), st.binary(max_size=6), st.lists(st.integers(min_value=0, max_value=80), max_size=6))
def test_text_decodes_the_same_whether_reads_are_valid_utf8_or_not(text: str, junk: bytes, cuts: list[int]) -> None:
    # Multi-byte characters cut between reads, and invalid bytes (U+FFFD), in any read.
    body = b"data: " + text.replace("\r", "").replace("\n", "").encode() + junk.replace(b"\n", b"").replace(b"\r", b"")
    body += b"\n\n"
    bounds = [0, *sorted(c for c in cuts if c <= len(body)), len(body)]
    pieces = [body[a:b] for a, b in itertools.pairwise(bounds)]
    expected = body[6:-2].decode("utf-8", "replace").encode()
    assert datas(decode(*pieces)) == [expected]


def test_comment_lines_produce_no_events() -> None:
    assert decode(b": keep-alive\n\n:\n\n: OPENROUTER PROCESSING\n\n") == []


def test_id_and_retry_blocks_followed_by_blank_lines_never_produce_empty_events() -> None:
    # openai-python #2722/#3833: an empty-data event after "id:"/"retry:" reached json.loads("").
    assert decode(b"id: 1\n\nretry: 500\n\nid: 2\nretry: 10\n\n\n\n") == []


def test_a_blank_data_line_still_dispatches_an_event_with_empty_data() -> None:
    # Per WHATWG, "data:" alone is a data line; it is a real event the caller may judge.
    assert datas(decode(b"data:\n\n")) == [b""]


def test_a_data_field_without_colon_is_an_empty_data_line() -> None:
    assert datas(decode(b"data\ndata: x\n\n")) == [b"\nx"]


def test_only_one_space_after_the_colon_is_stripped() -> None:
    assert datas(decode(b"data:  two spaces\n\n")) == [b" two spaces"]


def test_event_name_applies_only_to_its_own_event() -> None:
    events = decode(b"event: ping\n\nevent: error\ndata: boom\n\ndata: after\n\n")
    assert [(e.event, e.data) for e in events] == [("error", b"boom"), ("message", b"after")]


def test_an_id_containing_nul_is_ignored() -> None:
    assert decode(b"id: a\0b\ndata: x\n\n") == [ServerSentEvent(b"x", "message", None)]


def test_a_bom_is_stripped_even_when_split_across_reads() -> None:
    assert datas(decode(b"\xef", b"\xbb", b"\xbfdata: x\n\n")) == [b"x"]


def test_a_bom_only_at_the_very_start_is_stripped() -> None:
    assert decode(b"data: x\n\n\xef\xbb\xbfdata: y\n\n")[0] == ServerSentEvent(b"x")


def test_a_short_first_read_that_is_not_a_bom_is_kept() -> None:
    assert datas(decode(b"d", b"ata: x\n\n")) == [b"x"]


def test_a_crlf_split_between_reads_is_one_line_ending() -> None:
    assert datas(decode(b"data: x\r", b"\n\r", b"\ndata: y\r\n\r\n")) == [b"x", b"y"]


def test_a_cr_ending_one_read_and_the_lf_starting_the_next_end_one_line() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"data: a\r") + decoder.feed(b"\ndata: b\r\n\r\n")
    # The blank line completes the event: it must come out now, not wait for the end of the stream.
    assert events == [ServerSentEvent(b"a\nb")]
    assert decoder.flush() == []


def test_unknown_fields_are_ignored_and_remembered_as_unframed() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'{"error":{"message":"boom"}}\n\n') == []
    assert decoder.unframed == b'{"error":{"message":"boom"}}'


def test_flush_dispatches_a_complete_last_line_missing_its_blank_line() -> None:
    assert datas(decode(b"data: a\n\ndata: tail\n")) == [b"a", b"tail"]


def test_flush_keeps_a_last_line_cut_mid_way_as_unframed_instead_of_dispatching_it() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b'data: a\n\ndata: {"choices":[{"del')
    events += decoder.flush()
    assert datas(events) == [b"a"]
    assert decoder.unframed == b'data: {"choices":[{"del'


def test_flush_of_a_finished_stream_adds_nothing() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n")
    assert decoder.flush() == []


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0, max_value=300), max_size=8))
def test_arbitrary_bytes_never_raise_and_never_yield_events_without_data_lines(body: bytes, cuts: list[int]) -> None:
    bounds = [0, *sorted(c for c in cuts if c <= len(body)), len(body)]
    events = decode(*(body[a:b] for a, b in itertools.pairwise(bounds)))
    assert len(events) <= body.count(b"data")


def test_the_private_line_decoder_of_httpx_sse_keeps_the_contract_sse_py_relies_on() -> None:
    # sse.py uses httpx-sse's line splitter, which lives in a private module (docs/design.md,
    # "SSE decoding"): this fails the day that module moves or changes what sse.py reads of it.
    from httpx_sse._decoders import SSELineDecoder  # noqa: PLC0415

    lines = SSELineDecoder()
    assert lines.decode("data: a\r") == []  # a CR ending a read waits: a LF may follow it
    assert lines.trailing_cr is True
    assert lines.decode("\ndata: b\nda") == ["data: a", "data: b"]
    assert lines.buffer == ["da"]  # the unfinished line, as pieces whose lengths sse.py adds up
    assert sum(map(len, lines.buffer)) == 2
    assert lines.decode("ta: c") == []
    assert lines.flush() == ["data: c"]
