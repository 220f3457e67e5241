"""Helpers for testing code that talks to an inference server.

:func:`write_tiny_gguf` writes a tiny random-weight model (about 0.5 MB) that real
engines load in well under a second, and :func:`write_tiny_lora` a LoRA adapter for it;
its text is nonsense, so tests assert on structure (finish reasons, token counts, chunk
order), never on wording. Needs the ``testing`` extra: ``pip install 'botticelli[testing]'``.
"""

from botticelli.testing._gguf_writer import CHAT_TEMPLATE, write_tiny_gguf
from botticelli.testing._lora_writer import DEFAULT_LORA_TARGETS, write_tiny_lora
from botticelli.testing._spec import TinyModelSpec

__all__ = ["CHAT_TEMPLATE", "DEFAULT_LORA_TARGETS", "TinyModelSpec", "write_tiny_gguf", "write_tiny_lora"]
