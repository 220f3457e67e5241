"""The errors of fetching a model from the Hugging Face Hub into the local cache.

Each names the repository, file and revision it was about, so a caller can branch on
the class and show the attributes::

    BotticelliError
    └── ModelDownloadError          the hub could not be reached, or the transfer failed (retryable)
        ├── ModelNotFoundError      no such repository, revision or file (also a NotFoundError)
        ├── ModelAccessError        gated or private: HF_TOKEN is missing or lacks access (also an AuthenticationError)
        ├── ModelNotCachedError     offline (HF_HUB_OFFLINE) and no cached copy
        └── ModelChecksumError      the bytes received do not hash to what the hub announced

No message carries the token: it is registered with :mod:`botticelli_error.scrubbing` before
any request is made.
"""

from __future__ import annotations

from typing import Any

from botticelli_error.errors import AuthenticationError, BotticelliError, ErrorKind, NotFoundError

__all__ = [
    "ModelAccessError",
    "ModelChecksumError",
    "ModelDownloadError",
    "ModelNotCachedError",
    "ModelNotFoundError",
]


class ModelDownloadError(BotticelliError):
    """A model could not be fetched into the cache; the base of the download errors.

    Raised as it is when the hub could not be reached or a transfer broke off for good
    (retryable then).

    Args:
        message: What went wrong.
        repo_id: The repository, ``org/repo``.
        filename: The file inside it, when one was asked for.
        revision: The branch, tag or commit asked for (``None``: the default branch).
        **kwargs: The common attributes of :class:`~botticelli_error.BotticelliError`.

    Examples:
        >>> err = ModelDownloadError("connection refused", repo_id="org/repo", filename="m.gguf", retryable=True)
        >>> err.repo_id, err.filename, err.revision, err.retryable, err.provider
        ('org/repo', 'm.gguf', None, True, 'huggingface')
    """

    _kind = ErrorKind.HTTP

    def __init__(
        self,
        message: str,
        *,
        repo_id: str,
        filename: str | None = None,
        revision: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("provider", "huggingface")
        super().__init__(message, **kwargs)
        self.repo_id = repo_id
        self.filename = filename
        self.revision = revision


class ModelNotFoundError(ModelDownloadError, NotFoundError):
    """The repository, the revision or the file does not exist (or is private and no token was sent).

    Attributes:
        missing: Which part was not found: ``"repository"``, ``"revision"`` or ``"file"``.

    Examples:
        >>> err = ModelNotFoundError("no such file", repo_id="org/repo", filename="x.gguf", missing="file")
        >>> err.missing, isinstance(err, NotFoundError), err.retryable
        ('file', True, False)
    """

    _kind = ErrorKind.API

    def __init__(self, message: str, *, missing: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.missing = missing


class ModelAccessError(ModelDownloadError, AuthenticationError):
    """The repository is gated or private, and the token (``HF_TOKEN``) is missing or not allowed.

    Attributes:
        gated: ``True`` when the hub said the repository is gated (accept its licence on the
            hub, then set a token of that account).
        token_sent: Whether a token was sent at all.

    Examples:
        >>> err = ModelAccessError("gated", repo_id="meta/llama", gated=True, token_sent=False, status_code=401)
        >>> err.gated, err.token_sent, isinstance(err, AuthenticationError)
        (True, False, True)
    """

    _kind = ErrorKind.API

    def __init__(self, message: str, *, gated: bool, token_sent: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.gated = gated
        self.token_sent = token_sent


class ModelNotCachedError(ModelDownloadError):
    """Offline mode is on (``HF_HUB_OFFLINE=1``) and the cache holds no copy of the file.

    Examples:
        >>> ModelNotCachedError("not cached", repo_id="org/repo", filename="m.gguf").kind.value
        'configuration'
    """

    _kind = ErrorKind.CONFIGURATION


class ModelChecksumError(ModelDownloadError):
    """The downloaded file's SHA-256 differs from the one the hub announced; the copy was deleted.

    Retryable: the next attempt downloads the file again.

    Attributes:
        expected: The SHA-256 the hub announced (hex).
        actual: The SHA-256 of the bytes received (hex).

    Examples:
        >>> err = ModelChecksumError("mismatch", repo_id="o/r", filename="m.gguf", expected="ab", actual="cd")
        >>> err.expected, err.actual, err.retryable
        ('ab', 'cd', True)
    """

    _kind = ErrorKind.DESERIALIZATION
    default_retryable = True

    def __init__(self, message: str, *, expected: str, actual: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.expected = expected
        self.actual = actual
