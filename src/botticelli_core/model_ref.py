"""One way of naming a model everywhere (toml, command line, Python): a typed ``ModelRef``.

A reference is written in one of three forms, and parsed once:

- ``hf:org/repo/path/file.gguf[@revision]``: one file of a Hugging Face repository, which
  botticelli downloads into the Hugging Face cache before use;
- ``org/repo[@revision]`` (or ``hf:org/repo``): a whole repository, for servers that load
  from the hub themselves (vLLM, ``mistralrs serve -m``); botticelli passes the id through;
- anything else: a local path (``./models/tiny.gguf``, ``/srv/models/phi``, ``~/m.gguf``).

The rules are textual, so the same text always means the same thing, on any machine:
a leading ``/``, ``./``, ``../`` or ``~`` is a path, and so is a name ending in a model
file suffix (``.gguf``, ``.safetensors``, ...); exactly two hub-style names joined by one
slash are a repository id. Write ``./models/phi`` for a local directory of that shape.

Examples:
    >>> ref = ModelRef.parse("hf:TheBloke/TinyLlama-1.1B-GGUF/tinyllama.Q4_K_M.gguf@main")
    >>> ref.kind, ref.repo_id, ref.filename, ref.revision
    ('hub-file', 'TheBloke/TinyLlama-1.1B-GGUF', 'tinyllama.Q4_K_M.gguf', 'main')
    >>> ModelRef.parse("microsoft/Phi-3.5-mini-instruct").default_name
    'Phi-3.5-mini-instruct'
    >>> str(ModelRef.parse("models/tiny.gguf")), ModelRef.parse("models/tiny.gguf").kind
    ('models/tiny.gguf', 'path')
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from botticelli_error import ConfigurationError

__all__ = ["HUB_PREFIX", "MODEL_FILE_SUFFIXES", "ModelRef", "ModelRefKind"]

HUB_PREFIX = "hf:"
"""The prefix of a reference to a file (or repository) on the Hugging Face Hub."""

MODEL_FILE_SUFFIXES = frozenset({".gguf", ".ggml", ".bin", ".safetensors", ".pt", ".pth", ".onnx", ".llamafile"})
"""Suffixes that make a name a model file; only these are cut off for the default alias."""

ModelRefKind = Literal["path", "hub-file", "hub-repo"]
"""What a reference names: a local path, one file on the hub, or a whole hub repository."""

# The hub's own rule for a user, organisation or repository name: letters, digits, '-', '_', '.',
# not starting or ending with '-' or '.', and no '--' or '..' (which the cache layout reserves).
_NAME = r"(?!.*(?:--|\.\.))[A-Za-z0-9_](?:[\w.-]{0,94}[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"{_NAME}/{_NAME}")
_REVISION = re.compile(r"[\w.\-/]+")
_LOCAL_PREFIXES = ("/", "./", "../", "~", ".\\", "..\\")


class ModelRef(BaseModel):
    """A parsed model reference: a local path, a file on the hub, or a hub repository id.

    Build one with :meth:`parse`; a pydantic field of this type also accepts the text form.

    Attributes:
        kind: ``"path"``, ``"hub-file"`` or ``"hub-repo"``.
        path: The local path (``kind == "path"`` only).
        repo_id: ``org/repo`` (hub kinds only).
        filename: The file inside the repository, may contain ``/`` (``"hub-file"`` only).
        revision: A branch, tag or commit hash; ``None`` means the default branch.

    Examples:
        >>> ModelRef.parse("hf:org/repo/sub/m.gguf@v1.0")
        ModelRef('hf:org/repo/sub/m.gguf@v1.0')
        >>> ModelRef.parse("hf:org")
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] invalid model reference 'hf:org': \
'org' is not a repository id (expected org/repo after hf:)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ModelRefKind
    path: Path | None = None
    repo_id: str | None = None
    filename: str | None = None
    revision: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        # A toml string or a path becomes a reference; ValueError (not ConfigurationError) so a
        # settings loader names the key the text came from.
        if isinstance(value, str | os.PathLike):
            try:
                return _parse(value).__dict__
            except ConfigurationError as exc:
                raise ValueError(exc.message) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ModelRef:
        local = self.path is not None
        hub = self.repo_id is not None
        if (self.kind == "path") != local or local == hub or (self.kind == "hub-file") != (self.filename is not None):
            raise ValueError(f"the fields do not fit a {self.kind!r} model reference")
        if local and self.revision is not None:
            raise ValueError("a local path has no revision")
        return self

    @classmethod
    def parse(cls, value: str | os.PathLike[str] | ModelRef) -> ModelRef:
        """Read a reference from its text form (a ``PathLike`` is always a local path).

        Args:
            value: The reference, e.g. ``"hf:org/repo/file.gguf@main"``, ``"org/repo"``,
                ``"./models/m.gguf"``; a :class:`ModelRef` is returned as it is.

        Returns:
            The typed reference.

        Raises:
            ConfigurationError: If the text is empty or a hub reference is malformed; the
                message names the part that is wrong.
        """
        if isinstance(value, ModelRef):
            return value
        return _parse(value)

    @property
    def is_local(self) -> bool:
        """Whether the reference is a path on this machine."""
        return self.kind == "path"

    @property
    def needs_download(self) -> bool:
        """Whether botticelli fetches it before use (``hf:`` files); repositories are the server's job."""
        return self.kind == "hub-file"

    @property
    def default_name(self) -> str:
        """The model name a server is told when none is given: the file or repository name.

        Only a known model file suffix is cut off, so a dotted name keeps its dots.

        Examples:
            >>> ModelRef.parse("./models/Phi-3.5-mini-instruct-Q4_K_M.gguf").default_name
            'Phi-3.5-mini-instruct-Q4_K_M'
            >>> ModelRef.parse("./models/Phi-3.5-mini-instruct").default_name
            'Phi-3.5-mini-instruct'
        """
        if self.path is not None:
            name = self.path.name or str(self.path)
        elif self.filename is not None:
            name = self.filename.rsplit("/", 1)[-1]
        else:
            name = str(self.repo_id).rsplit("/", 1)[-1]
        stem, dot, suffix = name.rpartition(".")
        return stem if dot and stem and f".{suffix.lower()}" in MODEL_FILE_SUFFIXES else name

    def __str__(self) -> str:
        if self.path is not None:
            return str(self.path)
        at = f"@{self.revision}" if self.revision is not None else ""
        if self.filename is not None:
            return f"{HUB_PREFIX}{self.repo_id}/{self.filename}{at}"
        return f"{self.repo_id}{at}"

    def __repr__(self) -> str:
        return f"ModelRef({str(self)!r})"


def _parse(value: str | os.PathLike[str]) -> ModelRef:
    if not isinstance(value, str):
        return ModelRef.model_construct(kind="path", path=Path(os.fspath(value)))
    text = value.strip()
    if not text:
        raise ConfigurationError("invalid model reference '': it is empty")
    if text.startswith(HUB_PREFIX):
        return _parse_hub(text, text[len(HUB_PREFIX) :])
    if text.startswith(_LOCAL_PREFIXES) or _has_model_suffix(text):
        return ModelRef.model_construct(kind="path", path=Path(text).expanduser())
    repo, at, revision = text.partition("@")
    if _REPO_ID.fullmatch(repo):
        return ModelRef.model_construct(kind="hub-repo", repo_id=repo, revision=_revision(text, revision, at))
    return ModelRef.model_construct(kind="path", path=Path(text).expanduser())


def _parse_hub(text: str, body: str) -> ModelRef:
    def bad(problem: str) -> ConfigurationError:
        return ConfigurationError(f"invalid model reference {text!r}: {problem}")

    location, at, revision = body.partition("@")
    parts = location.split("/")
    repo_id = "/".join(parts[:2])
    if len(parts) < 2 or not _REPO_ID.fullmatch(repo_id):
        raise bad(f"{repo_id!r} is not a repository id (expected org/repo after hf:)")
    rev = _revision(text, revision, at)
    if len(parts) == 2:
        return ModelRef.model_construct(kind="hub-repo", repo_id=repo_id, revision=rev)
    filename = "/".join(parts[2:])
    if any(part in ("", ".", "..") for part in parts[2:]):
        raise bad(f"{filename!r} is not a file name inside the repository")
    return ModelRef.model_construct(kind="hub-file", repo_id=repo_id, filename=filename, revision=rev)


def _revision(text: str, revision: str, at: str) -> str | None:
    if not at:
        return None
    if not _REVISION.fullmatch(revision) or ".." in revision:
        raise ConfigurationError(f"invalid model reference {text!r}: {revision!r} is not a revision after '@'")
    return revision


def _has_model_suffix(text: str) -> bool:
    name = text.rsplit("/", 1)[-1]
    return any(name.lower().endswith(suffix) for suffix in MODEL_FILE_SUFFIXES)
