"""The chain walker the secret tests rely on finds what a ``from None`` only hides from the printer."""

from __future__ import annotations

import pytest

from botticelli_error import ResponseDecodeError
from tests.local.error.chains import exception_chain, secret_leaks

KEY = "sk-chain-test-8a2f4c6e1b"


def test_a_suppressed_context_is_still_on_the_chain() -> None:
    def decode() -> None:
        try:
            raise ValueError(f"input {KEY}")
        except ValueError:
            raise ResponseDecodeError("scrubbed") from None

    with pytest.raises(ResponseDecodeError) as caught:
        decode()
    assert [type(e) for e in exception_chain(caught.value)] == [ResponseDecodeError, ValueError]
    assert secret_leaks(caught.value, KEY) == ["ValueError.str", "ValueError.repr", "ValueError.args"]


def test_both_links_of_every_exception_are_followed() -> None:
    hidden = ValueError(f"behind the cause's context {KEY[:10]}")
    cause = KeyError("cause")
    cause.__context__ = hidden
    error = RuntimeError("top")
    error.__cause__ = cause
    error.__context__ = TypeError("context")
    assert [type(e) for e in exception_chain(error)] == [RuntimeError, KeyError, ValueError, TypeError]
    assert secret_leaks(error, KEY) == ["ValueError.str", "ValueError.repr", "ValueError.args"]


def test_group_members_are_walked_and_a_cycle_ends() -> None:
    member = ResponseDecodeError("member")
    member.body = KEY  # a text attribute, looked at too (no key registered: nothing scrubs it)
    group = ExceptionGroup("batches", [member])
    member.__context__ = group
    assert exception_chain(group) == [group, member]
    assert secret_leaks(group, KEY) == ["ResponseDecodeError.body"]


@pytest.mark.parametrize("error", [ValueError(), ResponseDecodeError("nothing to hide")])
def test_an_error_alone_is_its_own_chain(error: BaseException) -> None:
    assert exception_chain(error) == [error]
    assert secret_leaks(error, KEY) == []
