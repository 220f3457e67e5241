"""From the ``[server]`` table to an :class:`~botticelli_server.InferenceServer`, for ``serve`` and autostart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botticelli.config.schema import BotticelliSettings, ServerSection
from botticelli_error import ConfigurationError

if TYPE_CHECKING:
    from botticelli_server.launcher import InferenceServer

__all__ = ["resolve_model_reference", "server_from_section", "server_section"]


def resolve_model_reference(reference: str) -> str:
    """The local path the server loads for ``[server] model``.

    Today a reference is a local path (or, for servers that fetch models themselves, a
    repository id), passed on as given. This is the one place a reference becomes a path,
    so model download (``ensure_model``) plugs in here.

    Raises:
        ConfigurationError: ``hf:...`` references, which need model download.

    Examples:
        >>> resolve_model_reference("models/tiny.gguf")
        'models/tiny.gguf'
    """
    if reference.startswith("hf:"):
        raise ConfigurationError(
            f"[server] model {reference!r}: hf: references need model download, which this version "
            "does not have; download the file and give its path"
        )
    return reference


def server_section(settings: BotticelliSettings) -> ServerSection:
    """The ``[server]`` table, which must be there.

    Raises:
        ConfigurationError: There is none; the message says where it was looked for.
    """
    section = settings.server
    if section is None:
        where = str(settings.source) if settings.source else "no configuration file was found"
        raise ConfigurationError(
            f"{where}: the [server] table is missing; add one with preset (e.g. 'llama-cpp-python') and model"
        )
    return section


def server_from_section(section: ServerSection, *, port: int | None = None) -> InferenceServer:
    """An :class:`~botticelli_server.InferenceServer`, not started, as the table describes.

    Args:
        section: The ``[server]`` table.
        port: Overrides ``section.port`` (``botticelli serve --port``).

    Raises:
        ConfigurationError: The preset, command or adapters cannot be used; the message
            says why (the caller adds where the setting came from).
    """
    from botticelli_server.launcher import InferenceServer  # noqa: PLC0415 - only servers need it

    command: str | list[str] = section.preset if section.preset is not None else list(section.command or ())
    model = resolve_model_reference(section.model) if section.model is not None else section.model_path
    chosen = port if port is not None else section.port
    return InferenceServer(
        command,
        model=model,
        model_name=section.alias,
        host=section.host,
        # 0 is the usual spelling of "any free port"; the launcher spells it None.
        port=chosen or None,
        adapters=section.adapters,
        extra_args=section.extra_args,
        startup_timeout=section.startup_timeout,
    )
