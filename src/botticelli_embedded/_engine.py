"""The mistral.rs engine behind a lock. Every method blocks: callers run them in worker threads.

What the engine allows, measured on mistralrs 0.9.5:

- ``Runner`` methods take the runner exclusively: two threads calling it at once get
  ``RuntimeError: Already borrowed``. Every call goes through one lock. A streaming
  request holds the runner only while it is queued; the engine itself batches the
  sequences that are running (up to ``max_sequences``).
- A running generation has no abort call. Dropping the chunk iterator does abort it: the
  engine stops generating within a token. So botticelli always asks for a stream, even
  for a whole answer, and a closed stream or a cancelled task costs at most one token.
- A streaming request's own errors (a prompt longer than the context) come with the
  first chunk, not from the call that sends the request.
- Dropping the ``Runner`` stops the engine's threads; streams still open then end with
  an error.
- It logs through Rust's ``tracing``, to standard output, filtered by ``RUST_LOG`` as
  read once, when ``mistralrs`` is first imported; unfiltered, loading a model prints
  fourteen coloured INFO lines into the caller's output. So botticelli imports it with
  ``RUST_LOG=warn`` unless the variable is already set (``botticelli -v`` sets it to
  ``info``), and leaves the environment as it found it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from botticelli_embedded.config import PROVIDER, EmbeddedConfig
from botticelli_embedded.convert import EngineChunk
from botticelli_embedded.errors import load_error, request_error
from botticelli_error import ConfigurationError, ResponseDecodeError

if TYPE_CHECKING:
    from mistralrs import Runner

__all__ = ["ENGINE_LOG_FILTER", "Engine", "EngineStream"]

# mistral.rs's `token_source` values: a local file needs no Hugging Face login; for a
# repository, it reads the token `huggingface-cli login` cached.
_NO_HUB_LOGIN = "none"
_CACHED_HUB_LOGIN = "cache"


ENGINE_LOG_FILTER = "warn"
"""The ``RUST_LOG`` filter mistral.rs is imported with when the environment sets none."""


@contextmanager
def _engine_log_filter() -> Iterator[None]:
    if "mistralrs" in sys.modules or "RUST_LOG" in os.environ:
        yield  # already imported (its filter is fixed), or the user chose one
        return
    os.environ["RUST_LOG"] = ENGINE_LOG_FILTER
    try:
        yield
    finally:
        # Only the import reads it; child processes must not inherit a filter the user never set.
        os.environ.pop("RUST_LOG", None)


def _import_mistralrs() -> ModuleType:
    # Imported here, not at module level: `import botticelli` stays fast, and the
    # extra stays optional until an embedded model is first used.
    try:
        with _engine_log_filter():
            import mistralrs  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigurationError(
            "the embedded backend needs the mistralrs package; install it with: pip install 'botticelli[embedded]'",
            provider=PROVIDER,
        ) from exc
    return mistralrs


class Engine:
    """One lazily loaded mistral.rs ``Runner``, safe to call from any thread."""

    def __init__(self, config: EmbeddedConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._runner: Runner | None = None
        self._closed = False

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._runner is not None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def load(self) -> None:
        """Load the model unless it is loaded already.

        Raises:
            ConfigurationError: The engine is closed, ``mistralrs`` is missing, or the model
                could not be loaded (the message names the file).
        """
        with self._lock:
            self._runner_locked()

    def open_stream(self, kwargs: dict[str, Any]) -> EngineStream:
        """Queue a streaming chat request, loading the model first if needed.

        Args:
            kwargs: ``ChatCompletionRequest`` arguments from
                :func:`~botticelli_embedded.convert.to_engine_request`.

        Raises:
            ConfigurationError: As for :meth:`load`.
            BadRequestError: The engine refused the request.
            ServerUnavailableError: The engine failed.
        """
        mistralrs = _import_mistralrs()
        if kwargs.get("max_tokens") is None and self._config.max_tokens is not None:
            # The configured bound of a request that sets none (EmbeddedConfig.max_tokens).
            kwargs = {**kwargs, "max_tokens": self._config.max_tokens}
        request = mistralrs.ChatCompletionRequest(model=self._config.model, stream=True, **kwargs)
        with self._lock:
            runner = self._runner_locked()
            try:
                chunks = runner.send_chat_completion_request(request)
            except Exception as exc:
                raise request_error(exc) from exc
        if not isinstance(chunks, Iterator):
            raise ResponseDecodeError("mistral.rs answered a streaming request whole", provider=PROVIDER)
        return EngineStream(chunks)

    def context_length(self) -> int | None:
        """The longest sequence the loaded model takes, or ``None`` if it is not loaded."""
        with self._lock:
            if self._runner is None:
                return None
            return self._runner.max_sequence_length()

    def close(self) -> None:
        """Drop the model, stopping the engine's threads. Safe to call twice."""
        with self._lock:
            self._closed = True
            self._runner = None

    def _runner_locked(self) -> Runner:
        if self._closed:
            raise ConfigurationError("the embedded model is closed", provider=PROVIDER)
        if self._runner is None:
            mistralrs = _import_mistralrs()
            config = self._config
            which = mistralrs.Which.GGUF(quantized_model_id=config.source, quantized_filename=config.model_file)
            token_source = _NO_HUB_LOGIN if config.model_path is not None else _CACHED_HUB_LOGIN
            try:
                self._runner = mistralrs.Runner(
                    which=which, token_source=token_source, max_seqs=config.max_sequences, seed=config.seed
                )
            except Exception as exc:
                raise load_error(exc, config) from exc
        return self._runner


class EngineStream:
    """The chunks of one streaming request; :meth:`close` aborts its generation.

    The engine's iterator lives only here, never in a caller's frame: a cancelled
    ``await`` keeps its frames alive in the exception's traceback, and an iterator held
    there would keep the engine generating for nobody.
    """

    def __init__(self, chunks: Iterator[EngineChunk]) -> None:
        self._chunks: Iterator[EngineChunk] | None = chunks

    def next(self) -> EngineChunk | None:
        """The engine's next chunk (blocking), or ``None`` once the stream is exhausted or closed.

        Engine errors propagate untranslated: only the caller knows whether text was
        already delivered.
        """
        chunks = self._chunks
        return None if chunks is None else next(chunks, None)

    def close(self) -> None:
        """Drop the engine's iterator, which makes the engine stop this generation."""
        self._chunks = None
