"""Fetch a model named by a reference into the Hugging Face cache: :func:`ensure_model`.

The download itself is ``huggingface_hub``'s (imported on first use, so ``import
botticelli`` stays fast): its cache layout (``models--org--repo/blobs``, ``snapshots``,
``refs``), its locks, its resumption of a transfer that broke off (a ``Range`` request
for the rest). botticelli adds what it leaves out: the SHA-256 of a fresh download is
checked against the one the hub announced, its errors become typed
:mod:`botticelli_error.download` errors without the token, and a progress bar is drawn
only on a terminal.

The ``HF_*`` variables are read at each call, not when ``huggingface_hub`` is imported, so
a process may change them between calls:

- ``HF_ENDPOINT``: the hub (or a mirror) to ask;
- ``HF_HUB_CACHE``, else ``HF_HOME``/hub, else ``XDG_CACHE_HOME``/huggingface/hub, else
  ``~/.cache/huggingface/hub``: where files are kept;
- ``HF_TOKEN``: the token for gated and private repositories (else the one ``hf auth login``
  stored);
- ``HF_HUB_OFFLINE=1``: use the cache only; a file not cached raises
  :class:`~botticelli_error.ModelNotCachedError`.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botticelli_core.model_ref import ModelRef
from botticelli_error import ConfigurationError, ModelChecksumError, register_secret
from botticelli_server._hub_errors import translate_hub_error

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["HubSettings", "ensure_model", "hub_settings", "sha256_of"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_TRUE = frozenset({"1", "on", "yes", "true"})
_CHUNK = 1 << 20


class HubSettings:
    """The ``HF_*`` environment as one download sees it (read by :func:`hub_settings`).

    Args:
        endpoint: The hub's URL, or ``None`` for huggingface_hub's default.
        cache_dir: The cache directory.
        token: The token to send, or ``None`` to let huggingface_hub find a stored one.
        offline: Whether only the cache may be used.
    """

    __slots__ = ("cache_dir", "endpoint", "offline", "token")

    def __init__(self, *, endpoint: str | None, cache_dir: Path, token: str | None, offline: bool) -> None:
        self.endpoint = endpoint
        self.cache_dir = cache_dir
        self.token = token
        self.offline = offline

    def __repr__(self) -> str:
        # The token is never shown, only whether there is one.
        return (
            f"HubSettings(endpoint={self.endpoint!r}, cache_dir={str(self.cache_dir)!r}, "
            f"token={'***' if self.token else None}, offline={self.offline})"
        )


def hub_settings(environ: Mapping[str, str] | None = None) -> HubSettings:
    """Read the ``HF_*`` variables, the way huggingface_hub does, at the time of the call.

    Args:
        environ: The environment to read; ``os.environ`` when omitted.

    Returns:
        The settings of a download made now.

    Examples:
        >>> s = hub_settings({"HF_HOME": "/data/hf", "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9/"})
        >>> s.cache_dir.as_posix(), s.offline, s.endpoint, s.token
        ('/data/hf/hub', True, 'http://127.0.0.1:9', None)
    """
    env = os.environ if environ is None else environ
    if env.get("HF_HUB_CACHE"):
        cache = Path(env["HF_HUB_CACHE"])
    elif env.get("HF_HOME"):
        cache = Path(env["HF_HOME"]) / "hub"
    else:
        base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path("~/.cache")
        cache = base / "huggingface" / "hub"
    endpoint = env.get("HF_ENDPOINT", "").rstrip("/") or None
    token = env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN") or None
    offline = (env.get("HF_HUB_OFFLINE") or env.get("TRANSFORMERS_OFFLINE") or "").strip().lower() in _TRUE
    return HubSettings(endpoint=endpoint, cache_dir=cache.expanduser(), token=token, offline=offline)


def ensure_model(ref: ModelRef | str, *, progress: bool | None = None) -> Path:
    """The local path of a model: a local path as it is, an ``hf:`` file fetched into the cache.

    A cached file is not fetched again (a branch name is checked against the hub unless
    offline); a fresh download is checked against the SHA-256 the hub announced. Blocking:
    from async code, call it in a worker thread (``anyio.to_thread.run_sync``).

    Args:
        ref: A :class:`~botticelli_core.ModelRef` or its text (``"hf:org/repo/file.gguf@main"``).
        progress: Draw a progress bar on standard error; ``None`` draws one only when
            standard error is a terminal.

    Returns:
        The file's path (for a cached file, the snapshot's link to the blob).

    Raises:
        ConfigurationError: If the reference is malformed, or names a whole repository
            (servers load those themselves; name one file with ``hf:org/repo/FILE``).
        ModelNotFoundError: If the repository, revision or file does not exist.
        ModelAccessError: If the repository is gated or private and the token does not open it.
        ModelNotCachedError: If offline and the file is not cached.
        ModelChecksumError: If the bytes received do not match the announced SHA-256.
        ModelDownloadError: If the hub cannot be reached or the transfer failed.

    Examples:
        >>> ensure_model("./models/tiny.gguf").as_posix()
        'models/tiny.gguf'
    """
    parsed = ModelRef.parse(ref)
    if parsed.path is not None:
        return parsed.path
    if parsed.filename is None:
        raise ConfigurationError(
            f"{parsed} names a whole repository, which a server that loads from the hub fetches itself; "
            f"to download one file, write hf:{parsed.repo_id}/FILE"
        )
    settings = hub_settings()
    register_secret(settings.token, setting="HF_TOKEN")
    show = sys.stderr is not None and sys.stderr.isatty() if progress is None else progress
    return _download(parsed, settings, show)


def _download(ref: ModelRef, settings: HubSettings, show: bool) -> Path:
    import huggingface_hub  # noqa: PLC0415 - slow to import; only a download needs it

    assert ref.repo_id is not None  # a hub file
    assert ref.filename is not None
    options: dict[str, Any] = {
        "repo_id": ref.repo_id,
        "filename": ref.filename,
        "revision": ref.revision,
        "cache_dir": settings.cache_dir,
        "endpoint": settings.endpoint,
        "token": settings.token,
    }
    cached = huggingface_hub.try_to_load_from_cache(
        ref.repo_id, ref.filename, cache_dir=settings.cache_dir, revision=ref.revision
    )
    try:
        path = Path(
            huggingface_hub.hf_hub_download(
                **options, local_files_only=settings.offline, tqdm_class=_progress_class(show)
            )
        )
    except Exception as exc:  # every failure is translated; the original stays as the cause
        raise translate_hub_error(exc, ref, settings) from exc
    if not isinstance(cached, str):
        _verify(path, ref)
    return path


def _verify(path: Path, ref: ModelRef) -> None:
    """Check a fresh download: in the cache, a large file's blob is named by its SHA-256."""
    blob = path.resolve()
    expected = blob.name
    if not _SHA256.fullmatch(expected):
        return  # a small git file's blob is named by its git hash, which hashes a header too
    actual = sha256_of(blob)
    if actual == expected:
        return
    # Removed, so the next attempt downloads the file again instead of trusting the bad copy.
    path.unlink(missing_ok=True)
    blob.unlink(missing_ok=True)
    raise ModelChecksumError(
        f"{ref} was downloaded, but its SHA-256 is {actual} where the hub announced {expected}; "
        "the copy was deleted, try again",
        repo_id=str(ref.repo_id),
        filename=ref.filename,
        revision=ref.revision,
        expected=expected,
        actual=actual,
    )


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, in hex, read in 1 MiB chunks.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     (Path(tmp) / "f").write_bytes(b"abc")
        ...     sha256_of(Path(tmp) / "f")[:16]
        3
        'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _progress_class(show: bool) -> type[tqdm]:
    from tqdm import tqdm  # noqa: PLC0415 - comes with huggingface_hub

    # tqdm ships no types, so mypy sees Any.
    class _Bar(tqdm):  # type: ignore[misc]
        # huggingface_hub leaves a bar class that is not its own alone: this one decides.
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)
            kwargs["disable"] = not show
            kwargs.setdefault("file", sys.stderr)
            super().__init__(*args, **kwargs)

    return _Bar
