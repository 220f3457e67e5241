"""Whatever bytes a server sends, a stream yields chunks or raises a BotticelliError: nothing else."""

from __future__ import annotations

import contextlib
import json

import anyio
import httpx
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botticelli_error import BotticelliError
from botticelli_server.streaming import StreamState
from botticelli_transport import SSEDecoder

from . import wire
from .support import collect_text, make_client

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# Chunk-shaped objects with wrong types in every field the decoders read.
chunk_like = st.fixed_dictionaries(
    {},
    optional={
        "model": json_values,
        "choices": st.none()
        | st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "delta": st.none()
                    | st.fixed_dictionaries(
                        {},
                        optional={"content": json_values, "reasoning_content": json_values, "reasoning": json_values},
                    )
                    | json_values,
                    "finish_reason": json_values,
                },
            )
            | json_values,
            max_size=2,
        ),
        "usage": st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "prompt_tokens": json_values,
                "completion_tokens": json_values,
                "total_tokens": json_values,
                "completion_tokens_details": json_values,
                "prompt_tokens_details": st.fixed_dictionaries({}, optional={"cached_tokens": json_values})
                | json_values,
            },
        )
        | json_values,
        "timings": st.fixed_dictionaries({}, optional={"cache_n": json_values}) | json_values,
        "error": json_values,
        "message": json_values,
    },
)
events = st.lists(
    st.one_of(
        chunk_like.map(lambda c: f"data: {json.dumps(c)}\n\n".encode()),
        st.sampled_from([b"data: [DONE]\n\n", b": ping\n\n", b"event: error\ndata: {}\n\n", b"event: x\ndata: 1\n\n"]),
        st.binary(max_size=40),
    ),
    max_size=6,
).map(b"".join)


def run_state(body: bytes, *, text: bool) -> None:
    state = StreamState()
    decoder = SSEDecoder()
    decode = state.text_chunk if text else state.wire_chunk
    for event in decoder.feed(body) + decoder.flush():
        decode(event)
    state.check_finished(decoder.unframed)
    state.final_chunk()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.booleans())
def test_any_stream_through_stream_state_raises_only_botticelli_errors(body: bytes, text: bool) -> None:
    with contextlib.suppress(BotticelliError):
        run_state(body, text=text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=8))
def test_any_stream_through_the_client_raises_only_botticelli_errors(body: bytes, sizes: list[int]) -> None:
    pieces = []
    rest = body
    for size in sizes:
        pieces.append(rest[:size])
        rest = rest[size:]
    pieces.append(rest)

    class Pieces(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            for piece in pieces:
                yield piece

    async def main() -> None:
        with respx.mock(using="httpx", assert_all_mocked=True) as mock:
            mock.post(wire.CHAT_URL).mock(return_value=httpx.Response(200, headers=wire.SSE, stream=Pieces()))
            async with make_client(max_retries=0) as client:
                with contextlib.suppress(BotticelliError):
                    await collect_text(client)

    anyio.run(main)
