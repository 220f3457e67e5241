"""What a server command is told about its model: a path, a repository id, or (before a fetch) the reference."""

from __future__ import annotations

import logging
import os

import anyio

from botticelli_core import ModelRef
from botticelli_error import ConfigurationError
from botticelli_interface.request_log import log_event

__all__ = ["command_model", "fetch_model", "parse_server_model"]


def parse_server_model(model: str | os.PathLike[str] | ModelRef | None) -> tuple[ModelRef | None, str | None]:
    """The reference, and the value for ``{model}`` known now (``None`` for an ``hf:`` file not yet fetched).

    Raises:
        ConfigurationError: If the reference is malformed, or pins a revision of a repository
            that the server loads itself (no preset can tell the server which).

    Examples:
        >>> parse_server_model("microsoft/Phi-3.5-mini-instruct")[1]
        'microsoft/Phi-3.5-mini-instruct'
        >>> parse_server_model("hf:org/repo/m.gguf")[1] is None
        True
    """
    if model is None:
        return None, None
    ref = ModelRef.parse(model)
    if ref.kind == "hub-repo" and ref.revision is not None:
        raise ConfigurationError(
            f"the model {ref} names a revision, which a server that loads the repository itself "
            "is not told; pin it with the server's own flag in extra_args (vLLM: --revision)"
        )
    if ref.needs_download:
        return ref, None
    return ref, str(ref.path) if ref.path is not None else str(ref.repo_id)


def command_model(ref: ModelRef | None, resolved: str | None) -> tuple[str | None, bool]:
    """The ``{model}`` value to fill in, and whether it is a hub repository id.

    Before :meth:`~botticelli_server.InferenceServer.start` fetches an ``hf:`` file, the
    command shows the reference in its place.
    """
    if ref is None:
        return None, False
    return (resolved if resolved is not None else str(ref)), ref.kind == "hub-repo"


async def fetch_model(ref: ModelRef) -> str:
    """The local path of an ``hf:`` file, downloaded into the cache by a worker thread if needed."""
    from botticelli_server.hub import ensure_model  # noqa: PLC0415 - only hf: models need it

    log_event(logging.INFO, "inference_server_fetching_model", model=str(ref))
    # A cancelled start returns at once; the transfer itself runs on in its thread until it ends.
    return str(await anyio.to_thread.run_sync(ensure_model, ref, abandon_on_cancel=True))
