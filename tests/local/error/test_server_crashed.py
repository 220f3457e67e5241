"""ServerCrashedError: what a caller branches on, and no secret in the server's last words."""

from __future__ import annotations

from botticelli_error import ServerCrashedError, ServerUnavailableError, register_secret, unregister_secret


def test_the_output_tail_is_scrubbed_and_the_error_is_an_unavailable_server() -> None:
    secret = "sk-crash-test-0123456789"
    register_secret(secret, setting="a test key")
    try:
        error = ServerCrashedError(
            f"exited; last output:\n--api-key {secret}", exit_code=1, output_tail=f"--api-key {secret}", restarts=2
        )
    finally:
        unregister_secret(secret)
    assert secret not in error.output_tail
    assert secret not in str(error)
    assert (error.exit_code, error.restarts, error.provider, error.retryable) == (1, 2, "local", False)
    assert isinstance(error, ServerUnavailableError)
