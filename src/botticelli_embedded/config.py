"""Settings of an :class:`~botticelli_embedded.EmbeddedModel`: which model file, reported under which name."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, field_validator, model_validator

from botticelli_core import ConfigSection, FrozenModel, LoraAdapter, Requirement
from botticelli_core._text import NotBool
from botticelli_core.request import MAX_TOKENS_LIMIT

__all__ = ["ENV_MODEL", "ENV_MODEL_PATH", "PROVIDER", "SECTION", "EmbeddedConfig"]

PROVIDER = "embedded"
"""The provider name of the embedded backend, in errors, logs and ``botticelli.toml``."""
ENV_MODEL_PATH = "BOTTICELLI_EMBEDDED_MODEL_PATH"
ENV_MODEL = "BOTTICELLI_EMBEDDED_MODEL"


class EmbeddedConfig(FrozenModel):
    """Which model mistral.rs loads in-process. Immutable.

    Give exactly one of ``model_path`` (a local GGUF file) or ``model_id`` with
    ``filename`` (a GGUF file in a Hugging Face repository, downloaded by the engine on
    first use where the network allows it, with the token ``huggingface-cli login`` cached).

    Args:
        model_path: A local GGUF file; it must exist when the settings are made.
        model_id: A Hugging Face repository holding GGUF files, e.g. ``"org/Model-GGUF"``.
        filename: The GGUF file inside ``model_id``'s repository.
        model: The name reported as :attr:`~botticelli_embedded.EmbeddedModel.model_name`;
            defaults to the file's stem (``"tiny"`` for ``tiny.gguf``).
        seed: Seed of the engine's sampler, for repeatable sampling at temperature above 0.
            mistral.rs takes a seed per engine, not per request.
        max_sequences: How many sequences the engine runs at once (its batch size).
        max_tokens: The bound on generated tokens of a request that sets no ``max_tokens``
            of its own; ``None`` (the default) sets none, and the engine generates until
            the model stops or its context is full.
        adapters: Must be empty (see the field's note): a typed refusal, not a silent drop.

    Bad values raise :class:`~botticelli_error.ConfigurationError` naming what is wrong,
    e.g. a ``model_path`` that does not exist or is not a file.

    Examples:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp) / "tiny.gguf"
        ...     _ = path.write_bytes(b"GGUF")
        ...     EmbeddedConfig(model_path=path).model
        'tiny'
        >>> from botticelli_error import ConfigurationError
        >>> try:
        ...     EmbeddedConfig(model_path="missing.gguf")
        ... except ConfigurationError as err:
        ...     print(err.provider, "|", err.message.split(": ")[-1])
        embedded | model file missing.gguf does not exist (got 'missing.gguf')
    """

    error_provider: ClassVar[str] = PROVIDER

    model_path: Path | None = None
    model_id: str | None = Field(default=None, min_length=1)
    filename: str | None = Field(default=None, min_length=1)
    model: str = ""
    seed: int | None = None
    max_sequences: int = Field(default=32, gt=0)
    max_tokens: Annotated[int, NotBool] | None = Field(default=None, gt=0, le=MAX_TOKENS_LIMIT)
    adapters: tuple[LoraAdapter, ...] = ()
    """Refused unless empty: mistral.rs loads LoRA adapters as PEFT directories, not GGUF files
    (see the LoRA section of LOCAL_INFERENCE_SETUP.md)."""

    @field_validator("adapters")
    @classmethod
    def _no_adapters(cls, adapters: tuple[LoraAdapter, ...]) -> tuple[LoraAdapter, ...]:
        if adapters:
            raise ValueError(
                f"the embedded engine cannot load LoRA adapter {adapters[0].name!r}: mistral.rs applies "
                "adapters as PEFT directories (adapter_config.json + safetensors), not the GGUF adapters "
                "llama.cpp uses, and botticelli does not pass them yet; serve it with llama-server instead"
            )
        return adapters

    @field_validator("model_path")
    @classmethod
    def _existing_file(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        if not path.exists():
            raise ValueError(f"model file {path} does not exist")
        if not path.is_file():
            raise ValueError(f"model path {path} is not a file")
        return path.resolve()

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.model_path is None) == (self.model_id is None):
            raise ValueError("give exactly one of model_path or model_id")
        if self.model_id is not None and self.filename is None:
            raise ValueError(f"model_id {self.model_id!r} needs filename, the GGUF file to load from it")
        if self.model_path is not None and self.filename is not None:
            raise ValueError("filename goes with model_id; model_path already names the file")
        if not self.model:
            # The model is frozen; a validator may still fill a default before anyone sees it.
            object.__setattr__(self, "model", Path(self.model_file).stem)
        return self

    @property
    def model_file(self) -> str:
        """The GGUF file's name, whichever way the model is given."""
        return self.model_path.name if self.model_path is not None else str(self.filename)

    @property
    def source(self) -> str:
        """The local directory or Hugging Face repository the file is loaded from."""
        return str(self.model_path.parent) if self.model_path is not None else str(self.model_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Settings from ``BOTTICELLI_EMBEDDED_MODEL_PATH`` (required) and ``BOTTICELLI_EMBEDDED_MODEL``.

        Args:
            env: Where to read variables from; ``os.environ`` when omitted.
            **overrides: Other fields of :class:`EmbeddedConfig`, which win over the environment.

        Raises:
            ConfigurationError: The path variable is missing or empty, or a setting is invalid.

        Examples:
            >>> EmbeddedConfig.from_env({})
            Traceback (most recent call last):
            ...
            botticelli_error.errors.ConfigurationError: [embedded] BOTTICELLI_EMBEDDED_MODEL_PATH is not...
        """
        return cls(**SECTION.values_from_env(env, overrides))

    @classmethod
    def build(cls, **values: Any) -> Self:
        """Validate settings given as keywords; the same as calling the class.

        Examples:
            >>> EmbeddedConfig.build(model_id="org/Model-GGUF", filename="m.gguf", max_sequences=0)
            Traceback (most recent call last):
            ...
            botticelli_error.errors.ConfigurationError: [embedded] invalid EmbeddedConfig: ...max_sequences...
        """
        return cls(**values)


SECTION = ConfigSection(
    name=PROVIDER,
    config_class=EmbeddedConfig,
    env={ENV_MODEL_PATH: "model_path", ENV_MODEL: "model"},
    required=(Requirement(("model_path", "model_id"), "point it at a local GGUF model file"),),
    path_keys=("model_path",),
    client="botticelli_embedded.client:EmbeddedModel",
)
"""The ``[model.embedded]`` section: :class:`EmbeddedConfig`, its environment variables and required keys."""
