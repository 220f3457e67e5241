"""A LoRA adapter a server or engine loads next to its base model."""

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from botticelli_core._base import FrozenModel
from botticelli_core._text import NotBool, UnicodeText
from botticelli_error import ConfigurationError

__all__ = ["LoraAdapter", "check_unique_names", "repeated_names"]


class LoraAdapter(FrozenModel):
    """One LoRA adapter: the name requests select it by, where it is, and how strongly it applies.

    Args:
        name: What ``GenerateRequest(adapter=...)`` names it by (vLLM serves it as a model of
            that name).
        path: The adapter: a GGUF file for llama.cpp's servers, a directory (or a Hugging
            Face repository id) of PEFT weights for vLLM and mistral.rs.
        scale: How strongly it applies when loaded; ``0`` loads it switched off. Servers
            that take no scale (vLLM, llama-cpp-python, mistral.rs) accept only ``1.0``.

    Examples:
        >>> LoraAdapter(name="sql", path="adapters/sql.gguf", scale=0.5).scale
        0.5
        >>> LoraAdapter(name="sql", path="adapters/sql.gguf").scale
        1.0
    """

    name: UnicodeText = Field(min_length=1, pattern=r"^[^\s=]+$")
    path: UnicodeText = Field(min_length=1)
    scale: Annotated[float, NotBool] = Field(default=1.0, ge=0.0, le=100.0)


def repeated_names(adapters: Sequence[LoraAdapter]) -> list[str]:
    """The names more than one of ``adapters`` has, sorted; for validators, which raise ``ValueError``.

    Examples:
        >>> repeated_names([LoraAdapter(name="a", path="1"), LoraAdapter(name="a", path="2")])
        ['a']
    """
    names = [adapter.name for adapter in adapters]
    return sorted({name for name in names if names.count(name) > 1})


def check_unique_names(adapters: Sequence[LoraAdapter]) -> tuple[LoraAdapter, ...]:
    """``adapters`` as a tuple, once no two share a name (a request could not tell them apart).

    Raises:
        ConfigurationError: Naming the repeated names.

    Examples:
        >>> a = LoraAdapter(name="a", path="a.gguf")
        >>> check_unique_names([a, a])
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] LoRA adapter names must be unique (repeated: a)
    """
    repeated = repeated_names(adapters)
    if repeated:
        raise ConfigurationError(f"LoRA adapter names must be unique (repeated: {', '.join(repeated)})")
    return tuple(adapters)
