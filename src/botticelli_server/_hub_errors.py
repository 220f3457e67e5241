"""huggingface_hub's exceptions, as botticelli's typed download errors (their messages are ours)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botticelli_error import (
    BotticelliError,
    ModelAccessError,
    ModelDownloadError,
    ModelNotCachedError,
    ModelNotFoundError,
)

if TYPE_CHECKING:
    from botticelli_core.model_ref import ModelRef
    from botticelli_server.hub import HubSettings

__all__ = ["translate_hub_error"]


def translate_hub_error(exc: Exception, ref: ModelRef, settings: HubSettings) -> BotticelliError:
    """The botticelli error for a failed ``hf_hub_download`` of ``ref``.

    huggingface_hub's own messages are not reused: they are long and name URLs; ours name
    the reference, the hub and the remedy, and never the token.
    """
    from huggingface_hub import errors  # noqa: PLC0415 - imported by the caller already

    where: dict[str, Any] = {"repo_id": str(ref.repo_id), "filename": ref.filename, "revision": ref.revision}
    hub = settings.endpoint or "the Hugging Face Hub"
    status = _status(exc)
    if status is not None:
        where["status_code"] = status
    if isinstance(exc, errors.GatedRepoError) or (isinstance(exc, errors.HfHubHTTPError) and status == 403):
        gated = isinstance(exc, errors.GatedRepoError)
        what = "is gated on" if gated else "is not open to this token on"
        return ModelAccessError(
            f"{ref.repo_id} {what} {hub}: accept its terms there, then set HF_TOKEN to a token of that account"
            + (" (the token sent was refused)" if settings.token else ""),
            gated=gated,
            token_sent=settings.token is not None,
            **where,
        )
    missing = _missing(exc, ref, hub, settings)
    if missing is not None:
        part, message = missing
        return ModelNotFoundError(message, missing=part, **where)
    if isinstance(exc, errors.LocalEntryNotFoundError | errors.OfflineModeIsEnabled):
        if settings.offline:
            return ModelNotCachedError(
                f"{ref} is not in the cache at {settings.cache_dir} and HF_HUB_OFFLINE is set; "
                "pull it while online (botticelli pull) or unset HF_HUB_OFFLINE",
                **where,
            )
        return ModelDownloadError(
            f"cannot reach {hub} to fetch {ref}, and the cache at {settings.cache_dir} holds no copy",
            retryable=True,
            **where,
        )
    retryable = status is None or status >= 500 or status == 429
    return ModelDownloadError(f"downloading {ref} from {hub} failed: {_describe(exc)}", retryable=retryable, **where)


def _missing(exc: Exception, ref: ModelRef, hub: str, settings: HubSettings) -> tuple[str, str] | None:
    """Which part of the reference the hub did not find, and the message saying so."""
    from huggingface_hub import errors  # noqa: PLC0415 - imported by the caller already

    if isinstance(exc, errors.RepositoryNotFoundError):
        hint = "" if settings.token else " (if it is private, set HF_TOKEN)"
        return "repository", f"repository {ref.repo_id} was not found on {hub}{hint}"
    if isinstance(exc, errors.RevisionNotFoundError):
        return "revision", f"revision {ref.revision!r} of {ref.repo_id} was not found on {hub}"
    if isinstance(exc, errors.RemoteEntryNotFoundError):
        return "file", f"{ref.repo_id} has no file {ref.filename!r} at revision {ref.revision or 'main'}"
    return None


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def _describe(exc: Exception) -> str:
    # The first line only: huggingface_hub appends hints and URLs on the following ones.
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
