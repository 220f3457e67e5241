"""The secret registry: whole tokens, escaped and truncated forms, short keys, owners, threads."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator

import pytest

from botticelli_error import (
    BotticelliError,
    ContentBlockedError,
    RateLimitError,
    StreamInterruptedError,
    redact_url,
    register_secret,
    register_url_credentials,
    scrub,
    unregister_secret,
)

KEY = "sk-scrub-test-4f1c9a7e2b"


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Values registered by the test, unregistered afterwards so no other test sees them."""
    values: list[str] = []
    yield values
    for value in values:
        unregister_secret(value)


def register(registered: list[str], value: str, setting: str = "api_key") -> None:
    register_secret(value, setting=setting)
    registered.append(value)


def test_a_one_character_key_is_scrubbed_only_where_it_stands_alone(
    registered: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="botticelli")
    register(registered, "k", setting="model.local.api_key")
    assert scrub("invalid key k, kind of broken (k)") == "invalid key ***, kind of broken (***)"
    assert "model.local.api_key" in caplog.text  # the warning names the setting...
    assert "shorter than 8" in caplog.text
    assert all("k" not in map(str, record.args or ()) for record in caplog.records)  # ...never the value


def test_a_short_key_warns_once_however_often_it_is_registered(
    registered: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="botticelli")
    register(registered, "dev")
    register(registered, "dev")
    assert len([r for r in caplog.records if "shorter than" in r.getMessage()]) == 1


def test_a_key_of_normal_length_does_not_warn(registered: list[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="botticelli")
    register(registered, KEY)
    assert caplog.records == []


def test_a_short_key_inside_a_longer_token_is_left_alone(registered: list[str]) -> None:
    register(registered, "hunter22")
    assert scrub("hunter22 hunter223 xhunter22 hunter22.") == "*** hunter223 xhunter22 ***."


def test_a_long_key_is_scrubbed_even_glued_to_other_text(registered: list[str]) -> None:
    register(registered, KEY)
    assert scrub(f"key={KEY}&x Bearer{KEY}tail") == "key=***&x Bearer***tail"


def test_a_key_cut_short_by_truncation_is_still_scrubbed(registered: list[str]) -> None:
    register(registered, KEY)
    assert scrub(f"said {KEY[:11]}") == "said ***"
    assert scrub(f"b'said {KEY[:9]}'") == "b'said ***'"
    assert scrub(f"x {KEY[:7]}") == f"x {KEY[:7]}"  # seven characters say nothing


def test_json_escaped_and_percent_encoded_forms_are_scrubbed(registered: list[str]) -> None:
    secret = 'pa/ss"w0rd+key'
    register(registered, secret)
    assert scrub('{"k": "pa/ss\\"w0rd+key"}') == '{"k": "***"}'
    assert scrub("key=pa%2Fss%22w0rd%2Bkey&") == "key=***&"


def test_the_longest_registered_value_wins(registered: list[str]) -> None:
    register(registered, KEY)
    register(registered, f"Bearer {KEY}")
    assert scrub(f"invalid: Bearer {KEY}") == "invalid: ***"


def test_secrets_passed_to_scrub_are_scrubbed_like_registered_ones() -> None:
    assert scrub("a sk-1 b sk-1 c tok", ("sk-1", "tok", "")) == "a *** b *** c ***"
    assert scrub("token tok", ("tok",)) == "token ***"


def test_a_value_is_released_when_its_last_owner_is_collected() -> None:
    class Owner:
        pass

    first, second = Owner(), Owner()
    register_secret("sk-owned-by-two-clients", setting="api_key", owner=first)
    register_secret("sk-owned-by-two-clients", setting="api_key", owner=second)
    del first
    gc.collect()
    assert scrub("sk-owned-by-two-clients") == "***"
    del second
    gc.collect()
    assert scrub("sk-owned-by-two-clients") == "sk-owned-by-two-clients"


def test_a_value_registered_without_owner_outlives_owned_registrations(registered: list[str]) -> None:
    class Owner:
        pass

    owner = Owner()
    register_secret(KEY, setting="api_key", owner=owner)
    register(registered, KEY)
    del owner
    gc.collect()
    assert scrub(KEY) == "***"


def test_blank_values_are_ignored() -> None:
    register_secret(None, setting="api_key")
    register_secret("   ", setting="api_key")
    assert scrub("a b") == "a b"


def test_registration_and_scrubbing_from_many_threads_is_safe() -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            value = f"sk-thread-{n:04d}-0123456789"
            for _ in range(50):
                register_secret(value, setting="api_key")
                assert scrub(f"x {value} y") == "x *** y"
                unregister_secret(value)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_every_text_field_of_an_error_is_scrubbed(registered: list[str]) -> None:
    register(registered, KEY)
    err = RateLimitError(
        f"bad {KEY}",
        server_message=f"key {KEY}",
        error_type=KEY,
        body=f'{{"key": "{KEY}"}}',
        request_id=KEY,
        quota=KEY,
    )
    blocked = ContentBlockedError("blocked", reason=f"because {KEY}")
    texts = [str(err), repr(err), err.message, err.server_message, err.error_type, err.body, err.request_id]
    texts += [err.quota, str(err.args), blocked.reason]
    assert all(text is not None and KEY not in text for text in texts)


def test_fields_set_after_construction_are_scrubbed_too(registered: list[str]) -> None:
    register(registered, KEY)
    err = StreamInterruptedError("cut")
    err.message = f"cut at {KEY}"
    err.server_message = KEY
    err.body = KEY
    assert (err.message, err.server_message, err.body) == ("cut at ***", "***", "***")


def test_the_body_is_scrubbed_before_it_is_truncated(registered: list[str]) -> None:
    register(registered, KEY)
    # Cut first, five characters of the key would survive: too few to be recognised as it.
    err = BotticelliError("x", body="y" * 8186 + " " + KEY)
    assert err.body is not None
    assert KEY[:5] not in err.body


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pass@127.0.0.1:8080/v1", "http://user:***@127.0.0.1:8080/v1"),
        ("https://user:p%40ss@example.com", "https://user:***@example.com"),
        ("https://sk-token@example.com/", "https://***@example.com/"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://[::1]:8080/v1", "http://[::1]:8080/v1"),
        ("http://u:pw@[::1", "http://***@[::1"),
    ],
)
def test_redact_url_hides_credentials(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_url_password_is_scrubbed_as_written_and_decoded(registered: list[str]) -> None:
    register_url_credentials("http://admin:s3cr%2Ft-pw@proxy.test:3128", setting="base_url")
    registered += ["s3cr%2Ft-pw", "s3cr/t-pw"]
    err = BotticelliError("cannot connect to http://admin:s3cr%2Ft-pw@proxy.test:3128: refused (s3cr/t-pw)")
    assert "s3cr" not in str(err)
    assert "admin:***@proxy.test" in str(err)


def test_credentials_of_a_url_too_broken_to_parse_are_still_registered(registered: list[str]) -> None:
    register_url_credentials("http://u:pw-secret-77@[::1", setting="base_url")
    registered.append("pw-secret-77")
    assert scrub("cannot reach http://u:pw-secret-77@[::1") == "cannot reach http://u:***@[::1"


def test_an_owner_without_weak_references_is_refused_and_leaves_no_trace() -> None:
    with pytest.raises(TypeError):
        register_secret("sk-no-weakref-0123456789", setting="api_key", owner=42)
    register_secret("sk-rebuilds-the-snapshot-01", setting="api_key")
    unregister_secret("sk-rebuilds-the-snapshot-01")
    assert scrub("sk-no-weakref-0123456789") == "sk-no-weakref-0123456789"
