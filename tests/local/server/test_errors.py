"""Error replies through the client: typed, attributed, and never carrying the API key."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from botticelli_error import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BotticelliError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerUnavailableError,
)

from . import wire
from .support import REQUEST, collect_text, make_client

pytestmark = pytest.mark.anyio

API_KEY = "sk-local-5b9f2c1e8d7a"


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, BadRequestError, False),
        (401, AuthenticationError, False),
        (403, AuthenticationError, False),
        (404, NotFoundError, False),
        (408, APIStatusError, True),
        (409, APIStatusError, True),
        (413, BadRequestError, False),
        (422, BadRequestError, False),
        (429, RateLimitError, True),
        (500, ServerUnavailableError, True),
        (502, ServerUnavailableError, True),
        (503, ServerUnavailableError, True),
        (504, ServerUnavailableError, True),
        (451, APIStatusError, False),
    ],
)
async def test_status_codes_map_to_typed_errors_with_the_servers_details(
    status: int, cls: type[BotticelliError], retryable: bool
) -> None:
    body = {"error": {"message": f"failure {status}", "type": "server_said", "code": status}}
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(status, json=body, headers={"x-request-id": "req-7f3a"})
        async with make_client(max_retries=0) as client:
            with pytest.raises(cls) as caught:
                await client.generate(REQUEST)
    err = caught.value
    assert type(err) is cls
    assert (err.status_code, err.retryable, err.request_id) == (status, retryable, "req-7f3a")
    assert (err.server_message, err.error_type, err.provider) == (f"failure {status}", "server_said", "local")
    assert err.body is not None
    assert f"failure {status}" in err.body
    assert "req-7f3a" in str(err)


async def test_a_plain_text_error_body_becomes_the_server_message() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(400, text="Bad Request: no messages", headers={"content-type": "text/plain"})
        async with make_client() as client:
            with pytest.raises(BadRequestError) as caught:
                await client.generate(REQUEST)
    assert caught.value.server_message == "Bad Request: no messages"


async def test_an_html_error_page_from_a_proxy_is_a_typed_error_keeping_the_page() -> None:
    page = "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(502, html=page)
        async with make_client(max_retries=0) as client:
            with pytest.raises(ServerUnavailableError) as caught:
                await collect_text(client)
    assert caught.value.body == page


async def test_invalid_json_on_200_is_a_response_decode_error() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, text="{not json", headers={"content-type": "application/json"})
        async with make_client() as client:
            with pytest.raises(ResponseDecodeError) as caught:
                await client.generate(REQUEST)
    assert caught.value.body == "{not json"


async def test_a_completion_without_choices_is_a_response_decode_error() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(200, json={**wire.OPENAI_COMPLETION, "choices": []})
        async with make_client() as client:
            with pytest.raises(ResponseDecodeError):
                await client.generate(REQUEST)


async def test_bearer_authorization_is_sent_only_when_a_key_is_set() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        route = mock.post(wire.CHAT_URL).respond(200, json=wire.OPENAI_COMPLETION)
        async with make_client(api_key=API_KEY) as client:
            await client.generate(REQUEST)
        async with make_client() as client:
            await client.generate(REQUEST)
    with_key, without_key = (call.request.headers for call in route.calls)
    assert with_key["authorization"] == f"Bearer {API_KEY}"
    assert "authorization" not in without_key


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
async def test_an_api_key_echoed_by_the_server_never_appears_in_the_error_or_the_log(
    stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="botticelli")
    echo = {"error": {"message": f"invalid api key: Bearer {API_KEY}", "type": "authentication_error"}}
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).respond(401, json=echo, headers={"x-request-id": "r1"})
        async with make_client(api_key=API_KEY) as client:
            call = collect_text(client) if stream else client.generate(REQUEST)
            with pytest.raises(AuthenticationError) as caught:
                await call
    err = caught.value
    for text in (str(err), repr(err), err.body or "", err.server_message or "", err.message):
        assert API_KEY not in text
    assert err.server_message == "invalid api key: ***"
    assert caplog.records  # the failure was logged...
    assert all(API_KEY not in record.getMessage() for record in caplog.records)  # ...without the key


async def test_an_api_key_in_a_connection_error_message_is_scrubbed() -> None:
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.post(wire.CHAT_URL).mock(side_effect=httpx.ConnectError(f"proxy refused token {API_KEY}"))
        async with make_client(api_key=API_KEY, max_retries=0) as client:
            with pytest.raises(BotticelliError) as caught:
                await client.generate(REQUEST)
    assert API_KEY not in str(caught.value)
    assert API_KEY not in repr(caught.value)


async def test_the_api_key_is_not_in_the_clients_repr() -> None:
    async with make_client(api_key=API_KEY) as client:
        assert API_KEY not in repr(client)
        assert API_KEY not in repr(client.config)
        assert API_KEY not in repr(client._transport)
