"""Messages and requests in the OpenAI chat shape validate as they are written there."""

from __future__ import annotations

import pytest

from botticelli_core import GenerateRequest, Message, TextInput
from botticelli_core.role import Role
from botticelli_error import ConfigurationError


def test_a_string_content_is_one_text_input_and_equals_the_built_message() -> None:
    message = Message.model_validate({"role": "user", "content": "Name a colour."})
    assert message == Message.user("Name a colour.")
    assert message.content == (TextInput(text="Name a colour."),)


def test_a_request_takes_openai_messages_with_string_content_and_text_parts() -> None:
    request = GenerateRequest.model_validate(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Name "}, {"type": "text", "text": "a colour."}]},
                {"role": "assistant", "content": "Red."},
                {"role": "user", "content": "Another?"},
            ],
            "max_tokens": 16,
            "temperature": 0.2,
            "stop": "\n",
        }
    )
    assert [(m.role, m.text) for m in request.messages] == [
        (Role.SYSTEM, "Be brief."),
        (Role.USER, "Name a colour."),
        (Role.ASSISTANT, "Red."),
        (Role.USER, "Another?"),
    ]
    assert (request.max_tokens, request.temperature, request.stop) == (16, 0.2, ("\n",))


def test_the_developer_role_is_the_system_role() -> None:
    message = Message.model_validate({"role": "developer", "content": "Answer in French."})
    assert message == Message.system("Answer in French.")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "Message.content: must be a string or a list of inputs (got None)"),
        ({"type": "text", "text": "hi"}, "Message.content: must be a string or a list of inputs; put a single input"),
        ([], "Message.content: Tuple should have at least 1 item"),
        # The same words as Message.user gives, for text that is not valid Unicode.
        ("bad \udc80 text", "TextInput.text: holds a lone surrogate"),
    ],
)
def test_content_of_no_usable_shape_says_what_to_write(content: object, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        GenerateRequest.model_validate({"messages": [{"role": "user", "content": content}]})
    assert expected in caught.value.message


def test_stop_as_a_list_is_unchanged_and_an_empty_string_is_still_refused() -> None:
    assert GenerateRequest.from_prompt("hi", stop=["a", "b"]).stop == ("a", "b")
    with pytest.raises(ConfigurationError, match="stop sequences must be non-empty"):
        GenerateRequest.from_prompt("hi", stop="")


def test_a_configured_default_bounds_only_a_request_without_its_own() -> None:
    unbounded = GenerateRequest.from_prompt("hi")
    assert unbounded.with_default_max_tokens(None) is unbounded
    assert unbounded.with_default_max_tokens(64).max_tokens == 64
    assert unbounded.max_tokens is None  # requests are immutable: the default makes a copy
    bounded = GenerateRequest.from_prompt("hi", max_tokens=8)
    assert bounded.with_default_max_tokens(64) is bounded
