"""``kind`` is read from the class: one source of truth, never set per error."""

from __future__ import annotations

import pytest

from botticelli_error import (
    BotticelliError,
    ConfigurationError,
    ErrorKind,
    StreamInterruptedError,
    TransportError,
)


def test_kind_cannot_be_passed_or_set() -> None:
    with pytest.raises(TypeError):
        BotticelliError("x", kind=ErrorKind.STREAM)  # type: ignore[call-arg]
    err = TransportError("x")
    with pytest.raises(AttributeError):
        err.kind = ErrorKind.API  # type: ignore[misc]
    assert err.kind is ErrorKind.HTTP


def test_a_subclass_inherits_the_kind_of_its_branch() -> None:
    class ModelCrashed(StreamInterruptedError):
        pass

    class BadSetting(ConfigurationError):
        pass

    assert ModelCrashed("x").kind is ErrorKind.STREAM
    assert BadSetting("x").kind is ErrorKind.CONFIGURATION
