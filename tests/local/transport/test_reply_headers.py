"""A reply's headers read in one pass give what httpx's own lookups give."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st

from botticelli_error import request_id
from botticelli_transport._http import _by_name

NAMES = st.sampled_from(["Content-Encoding", "content-encoding", "X-Request-ID", "request-id", "CF-Ray", "Server"])
VALUES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=6)


@given(st.lists(st.tuples(NAMES, VALUES), max_size=6))
def test_every_name_reads_as_headers_get_reads_it(pairs: list[tuple[str, str]]) -> None:
    headers = httpx.Headers(pairs)
    found = _by_name(headers)
    for name in ("content-encoding", "x-request-id", "request-id", "cf-ray", "server", "absent"):
        assert found.get(name) == headers.get(name)
    assert request_id(found) == request_id(headers)
