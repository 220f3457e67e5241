"""Input a user can get wrong: wrong types, booleans for numbers, text that is not valid Unicode."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from botticelli_core import GenerateRequest, ImageInput, MediaSource, Message, TextInput
from botticelli_error import ConfigurationError

SURROGATE = "caf\udce9"  # what the byte 0xe9 of a Latin-1 "café" becomes in a command line argument


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Message.user(123), "Message.content"),  # type: ignore[arg-type]
        (lambda: Message.user(None), "Message.content"),  # type: ignore[arg-type]
        (lambda: Message.system(b"bytes are not text"), "Message.content"),  # type: ignore[arg-type]
        (lambda: Message.assistant(3.5), "Message.content"),  # type: ignore[arg-type]
        (lambda: Message.user([123]), "Message.content"),  # type: ignore[list-item]
        (lambda: GenerateRequest.from_prompt(None), "prompt"),  # type: ignore[arg-type]
        (lambda: GenerateRequest.from_prompt(42), "prompt"),  # type: ignore[arg-type]
        (lambda: GenerateRequest.from_prompt("hi", system=7), "system"),  # type: ignore[arg-type]
    ],
    ids=["int", "none", "bytes", "float", "list-of-int", "prompt-none", "prompt-int", "system-int"],
)
def test_content_that_is_not_text_or_inputs_is_a_configuration_error(build: Callable[[], object], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build()
    assert field in caught.value.message


@pytest.mark.parametrize("field", ["max_tokens", "temperature", "top_p", "seed"])
@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_taken_as_a_number(field: str, value: bool) -> None:
    params: dict[str, object] = {field: value}
    with pytest.raises(ConfigurationError) as caught:
        GenerateRequest.from_prompt("hi", **params)  # type: ignore[arg-type]
    assert f"GenerateRequest.{field}" in caught.value.message
    assert "boolean" in caught.value.message


def test_numbers_of_either_kind_are_still_accepted() -> None:
    request = GenerateRequest.from_prompt("hi", max_tokens=5, temperature=1, top_p=1, seed=0)
    assert (request.max_tokens, request.temperature, request.top_p, request.seed) == (5, 1.0, 1.0, 0)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: GenerateRequest.from_prompt(SURROGATE), "TextInput.text"),
        (lambda: GenerateRequest.from_prompt("hi", system=SURROGATE), "TextInput.text"),
        (lambda: Message.user([TextInput(text=SURROGATE)]), "TextInput.text"),
        (
            lambda: GenerateRequest.model_validate(
                {"messages": [{"role": "user", "content": [{"type": "text", "text": SURROGATE}]}]}
            ),
            "text",
        ),
        (lambda: GenerateRequest.from_prompt("hi", stop=[SURROGATE]), "GenerateRequest.stop"),
        (lambda: GenerateRequest.from_prompt("hi", model=SURROGATE), "GenerateRequest.model"),
        (lambda: MediaSource.from_url("https://example.com/" + SURROGATE), "MediaSource.url"),
        (
            lambda: ImageInput(mime="image/png", source=MediaSource.from_bytes(b"x"), filename=SURROGATE),
            "ImageInput.filename",
        ),
    ],
    ids=["prompt", "system", "text-input", "validated-dict", "stop", "model", "url", "filename"],
)
def test_a_lone_surrogate_is_refused_where_it_enters(build: Callable[[], object], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build()
    assert field in caught.value.message
    assert "lone surrogate (U+DCE9 at index" in caught.value.message


def test_valid_unicode_of_every_plane_is_accepted_and_serialises() -> None:
    text = "héllo, 世界, 🦜, \u0000 and \U0010fffd"
    request = GenerateRequest.from_prompt(text, stop=["🦜"])
    assert json.loads(request.model_dump_json())["messages"][0]["content"][0]["text"] == text


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_tokens", 2**31), ("max_tokens", 10**30), ("seed", 2**63), ("seed", -(2**63) - 1)],
    ids=["max-tokens-32-bit", "max-tokens-huge", "seed-above-64-bit", "seed-below-64-bit"],
)
def test_integers_no_backend_can_take_are_refused(field: str, value: int) -> None:
    params: dict[str, object] = {field: value}
    with pytest.raises(ConfigurationError) as caught:
        GenerateRequest.from_prompt("hi", **params)  # type: ignore[arg-type]
    assert f"GenerateRequest.{field}" in caught.value.message


def test_the_largest_integers_every_backend_takes_are_accepted() -> None:
    request = GenerateRequest.from_prompt("hi", max_tokens=2**31 - 1, seed=-(2**63))
    assert (request.max_tokens, request.seed) == (2**31 - 1, -(2**63))
