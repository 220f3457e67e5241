"""TransportOptions: the transport settings declared once, URLs checked in full, passwords never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from botticelli_transport import HttpSettings, TransportOptions, check_base_url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:99999", "port"),
        ("http://127.0.0.1:0", "port"),
        ("http://127.0.0.1:", "port"),
        ("http://127.0.0.1:http", "port"),
        ("http://:8080", "host"),
        ("http://bad host:8080", "host"),
        ("http://-leading.example.com", "host"),
        ("ftp://127.0.0.1:21", "http://"),
        ("127.0.0.1:8080", "http://"),
        ("http://127.0.0.1:8080?debug=1", "query"),
    ],
)
def test_a_bad_base_url_says_what_is_wrong(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_base_url(url)


@pytest.mark.parametrize(
    "url",
    ["http://localhost:8080", "https://gpu.example.com/llm", "http://[::1]:8080", "http://10.0.0.5", "http://my_box:1"],
)
def test_good_base_urls_pass_without_their_trailing_slash(url: str) -> None:
    assert check_base_url(f"  {url}/ ") == url


def test_the_options_validate_the_url_and_the_limits() -> None:
    with pytest.raises(ValidationError, match="base_url"):
        TransportOptions(base_url="http://127.0.0.1:70000")
    with pytest.raises(ValidationError, match="max_retries"):
        TransportOptions(base_url="http://h:1", max_retries=21)


def test_a_password_in_the_base_url_is_never_shown_but_still_used() -> None:
    settings = HttpSettings(provider="local", base_url="http://alice:s3cr3t-pw@127.0.0.1:8080")
    assert settings.base_url == "http://alice:s3cr3t-pw@127.0.0.1:8080"
    for text in (repr(settings), str(settings)):
        assert "s3cr3t-pw" not in text
        assert "alice:***@127.0.0.1:8080" in text
    assert "s3cr3t-pw" in settings.secrets()


def test_http_settings_copy_every_transport_option_from_a_backend_config(tmp_path: Path) -> None:
    for name in ("ca.pem", "me.pem", "me.key"):
        (tmp_path / name).write_text("-")
    values = {
        "base_url": "http://127.0.0.1:9",
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "total_timeout": None,
        "stream_idle_timeout": 3.0,
        "max_retries": 4,
        "max_retry_after": 5.0,
        "backoff_initial": 0.1,
        "backoff_max": 0.2,
        "max_connections": 7,
        "retry_read_timeouts": True,
        "max_response_bytes": 8,
        "max_sse_line_chars": 9,
        "max_sse_event_chars": 10,
        "ca_bundle": str(tmp_path / "ca.pem"),
        "client_cert": str(tmp_path / "me.pem"),
        "client_key": str(tmp_path / "me.key"),
    }
    assert set(values) == set(TransportOptions.model_fields)
    settings = HttpSettings.from_config(TransportOptions(**values), provider="local")
    assert settings.model_dump(include=set(values)) == values
