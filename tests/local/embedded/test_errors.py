from pathlib import Path

from botticelli_embedded import EmbeddedConfig
from botticelli_embedded.errors import engine_message, load_error, request_error
from botticelli_error import (
    BadRequestError,
    ConfigurationError,
    ServerUnavailableError,
    StreamInterruptedError,
)

_BACKTRACE = "\n   0: <candle_core::error::Error>::bt\n   1: <anyhow::Error>::msg"


def test_the_engine_message_drops_the_rust_backtrace() -> None:
    assert engine_message(ValueError("  it broke  " + _BACKTRACE)) == "it broke"


def test_an_empty_engine_message_falls_back_to_the_exception_type() -> None:
    assert engine_message(RuntimeError("")) == "RuntimeError"


def test_a_load_failure_names_the_model_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"junk")
    error = load_error(ValueError("invalid GGUF magic" + _BACKTRACE), EmbeddedConfig(model_path=path))
    assert isinstance(error, ConfigurationError)
    assert str(path.resolve()) in error.message
    assert error.server_message == "invalid GGUF magic"
    assert error.body is not None
    assert "candle_core" in error.body
    assert (error.provider, error.error_type) == ("embedded", "ValueError")


def test_a_hub_load_failure_names_the_repository_and_file() -> None:
    config = EmbeddedConfig(model_id="org/Model-GGUF", filename="m.gguf")
    assert "org/Model-GGUF/m.gguf" in load_error(OSError("offline"), config).message


def test_a_prompt_longer_than_the_context_is_a_bad_request() -> None:
    exc = ValueError("Prompt sequence length is greater than 2048, perhaps consider using `truncate_sequence`?")
    error = request_error(exc)
    assert isinstance(error, BadRequestError)
    assert not error.retryable
    assert error.provider == "embedded"


def test_any_other_engine_failure_before_output_is_the_engine_unavailable() -> None:
    error = request_error(ValueError("CUDA out of memory" + _BACKTRACE))
    assert isinstance(error, ServerUnavailableError)
    assert error.server_message == "CUDA out of memory"


def test_a_failure_after_output_is_an_interrupted_stream_keeping_the_text() -> None:
    error = request_error(ValueError("Received none in ChatCompletionStreamer"), partial_text="so far")
    assert isinstance(error, StreamInterruptedError)
    assert error.partial_text == "so far"
    assert "Received none" in error.message
