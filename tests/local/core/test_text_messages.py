"""Text-only messages and prompt-only requests are built without validation, and equal the validated ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botticelli_core import GenerateRequest, Message, TextInput
from botticelli_core.role import Role
from botticelli_error import ConfigurationError

# Any text, lone surrogates included: those must still be refused, with the validated path's words.
texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
CONSTRUCTORS = {Role.SYSTEM: Message.system, Role.USER: Message.user, Role.ASSISTANT: Message.assistant}


def _validated(role: Role, text: str) -> Message:
    return Message.model_validate({"role": role, "content": [TextInput.model_validate({"text": text})]})


def _outcome(build: object) -> tuple[str, object]:
    try:
        value = build() if callable(build) else build
    except ConfigurationError as exc:
        return "error", exc.message
    assert isinstance(value, Message | GenerateRequest)
    return "ok", (value, value.model_dump(), value.model_fields_set, repr(value), hash(value))


@given(role=st.sampled_from(list(CONSTRUCTORS)), text=texts)
def test_a_text_message_equals_the_validated_one_or_fails_the_same_way(role: Role, text: str) -> None:
    assert _outcome(lambda: CONSTRUCTORS[role](text)) == _outcome(lambda: _validated(role, text))


@given(prompt=texts, system=st.none() | texts)
def test_a_prompt_only_request_equals_the_validated_one_or_fails_the_same_way(prompt: str, system: str | None) -> None:
    def validated() -> GenerateRequest:
        messages = [_validated(Role.SYSTEM, system)] if system else []
        return GenerateRequest.model_validate({"messages": [*messages, _validated(Role.USER, prompt)]})

    assert _outcome(lambda: GenerateRequest.from_prompt(prompt, system=system)) == _outcome(validated)


def test_a_text_message_keeps_the_message_rules() -> None:
    # model_construct still runs model_post_init, so a text message is checked like any other.
    message = Message.user("hi")
    assert message.content == (TextInput(text="hi"),)
    assert message.model_copy(update={}) == message


def test_a_str_subclass_goes_through_validation() -> None:
    class Name(str):
        __slots__ = ()

    part = Message.user(Name("hi")).content[0]
    assert isinstance(part, TextInput)
    assert type(part.text) is str


def test_parameters_still_go_through_validation() -> None:
    with pytest.raises(ConfigurationError, match="max_tokens"):
        GenerateRequest.from_prompt("hi", max_tokens=0)
