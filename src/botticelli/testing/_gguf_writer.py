"""Write the tiny llama model as a GGUF file that llama.cpp and mistral.rs both load."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog

from botticelli.testing._spec import TinyModelSpec
from botticelli.testing._tokenizer import EOS_TOKEN, IM_START_TOKEN, build_vocab
from botticelli.testing._weights import tiny_weights
from botticelli_error import ConfigurationError

__all__ = ["CHAT_TEMPLATE", "write_tiny_gguf"]

_LOGGER_NAME = "botticelli.testing"
_fallback_logger = structlog.wrap_logger(
    logging.getLogger(_LOGGER_NAME),
    wrapper_class=structlog.stdlib.BoundLogger,
    processors=[structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True)],
)

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    f"{{{{ '{IM_START_TOKEN}' + message['role'] + '\\n' + message['content'] + '{EOS_TOKEN}' + '\\n' }}}}"
    "{% endfor %}"
    f"{{% if add_generation_prompt %}}{{{{ '{IM_START_TOKEN}assistant\\n' }}}}{{% endif %}}"
)
"""A ChatML-style jinja chat template: ``<|im_start|>role\\ncontent<|im_end|>`` per message."""

# The pre-tokenizer name decides who loads the file: mistral.rs refuses "default" and "gpt2",
# and llama.cpp knows GPT-2's as "gpt-2"; "llama-bpe" is accepted by both.
_PRE_TOKENIZER = "llama-bpe"


def _import_gguf() -> Any:
    try:
        # Imported on use: the testing extra is optional and gguf is slow to import.
        import gguf  # noqa: PLC0415
        import numpy  # noqa: F401, PLC0415  (gguf needs it; fail here with the same advice)
    except ImportError as exc:
        raise ConfigurationError(
            f"writing a tiny GGUF model needs the 'gguf' and 'numpy' packages ({exc.name} is missing); "
            "install them with: pip install 'botticelli[testing]'"
        ) from exc
    return gguf


def write_tiny_gguf(
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
    spec: TinyModelSpec | None = None,
    name: str = "botticelli-tiny",
) -> Path:
    """Write a tiny random-weight llama model in GGUF format, for tests and demos.

    The model has a byte-level BPE tokenizer, a ChatML-style chat template, and output
    weights biased so that generated text is printable ASCII that rarely ends on its own:
    ask for ``max_tokens`` and expect exactly that many. It loads in llama.cpp
    (``llama-server``, ``llama-cpp-python``) and in mistral.rs. The same seed gives the
    same bytes. The file is written next to ``path`` and renamed into place, so a reader
    never sees half a model.

    Args:
        path: Where to write the model (parent directories must exist).
        seed: Seed for the random weights.
        spec: The model's dimensions; the defaults give about 0.5 MB.
        name: The model name stored in the file's metadata.

    Returns:
        The path written, as a :class:`pathlib.Path`.

    Raises:
        ConfigurationError: If the ``gguf`` or ``numpy`` package is missing, or the
            parent directory does not exist or cannot be written.

    Examples:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     model = write_tiny_gguf(pathlib.Path(tmp) / "tiny.gguf", seed=1)
        ...     model.name, 100_000 < model.stat().st_size < 2_000_000
        ('tiny.gguf', True)
    """
    gguf = _import_gguf()
    spec = spec or TinyModelSpec()
    target = Path(path)
    if not target.parent.is_dir():
        raise ConfigurationError(f"cannot write the tiny model to {target}: its directory does not exist")
    started = time.perf_counter()
    vocab = build_vocab()
    tensors = tiny_weights(spec, vocab.printable, seed=seed)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise ConfigurationError(f"cannot write the tiny model to {target}: {exc.strerror}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file private; a model is not a secret, and servers may run as another user.
    tmp.chmod(0o644)
    try:
        writer = gguf.GGUFWriter(tmp, arch="llama")
        try:
            _add_metadata(writer, gguf, spec, name)
            writer.add_tokenizer_model("gpt2")
            writer.add_tokenizer_pre(_PRE_TOKENIZER)
            writer.add_token_list(list(vocab.tokens))
            writer.add_token_types(list(vocab.token_types))
            writer.add_token_merges(list(vocab.merges))
            writer.add_bos_token_id(vocab.bos_id)
            writer.add_eos_token_id(vocab.eos_id)
            writer.add_add_bos_token(True)
            writer.add_add_eos_token(False)
            writer.add_chat_template(CHAT_TEMPLATE)
            for tensor_name, tensor in tensors.items():
                writer.add_tensor(tensor_name, tensor)
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_tensors_to_file()
        finally:
            writer.close()
        os.replace(tmp, target)
    except OSError as exc:
        raise ConfigurationError(f"cannot write the tiny model to {target}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _logger().debug(
        "tiny_gguf_written",
        path=str(target),
        seed=seed,
        bytes=target.stat().st_size,
        vocab_size=len(vocab),
        seconds=round(time.perf_counter() - started, 3),
    )
    return target


def _logger() -> Any:
    """The structlog logger when the application configured structlog, else a quiet stdlib one.

    A library must not print on its own: unconfigured structlog writes to stdout, so events
    then go to the standard ``logging`` logger, which is silent until the application enables it.
    """
    return structlog.get_logger(_LOGGER_NAME) if structlog.is_configured() else _fallback_logger


def _add_metadata(writer: Any, gguf: Any, spec: TinyModelSpec, name: str) -> None:
    writer.add_name(name)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(spec.context_length)
    writer.add_embedding_length(spec.embedding_length)
    writer.add_block_count(spec.block_count)
    writer.add_feed_forward_length(spec.feed_forward_length)
    writer.add_head_count(spec.head_count)
    writer.add_head_count_kv(spec.head_count)
    writer.add_rope_dimension_count(spec.head_dim)
    writer.add_rope_freq_base(spec.rope_freq_base)
    writer.add_layer_norm_rms_eps(spec.rms_norm_eps)
    writer.add_vocab_size(len(build_vocab()))
    if spec.pooling == "mean":
        writer.add_pooling_type(gguf.PoolingType.MEAN)
