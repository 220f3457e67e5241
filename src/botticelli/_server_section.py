"""From the ``[server]`` table to an :class:`~botticelli_server.InferenceServer`, for ``serve`` and autostart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botticelli.config.schema import BotticelliSettings, ServerSection
from botticelli_core import ModelRef
from botticelli_error import ConfigurationError

if TYPE_CHECKING:
    from botticelli_server.launcher import InferenceServer

__all__ = ["server_from_section", "server_section"]


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


def server_from_section(
    section: ServerSection, *, port: int | None = None, model: ModelRef | None = None
) -> InferenceServer:
    """An :class:`~botticelli_server.InferenceServer`, not started, as the table describes.

    An ``hf:`` model is fetched by the server's ``start()`` (``botticelli serve`` fetches it
    first, in the foreground).

    Args:
        section: The ``[server]`` table.
        port: Overrides ``section.port`` (``botticelli serve --port``).
        model: Overrides the table's model (``botticelli serve --model``, or a downloaded copy).

    Raises:
        ConfigurationError: The preset, command, adapters or embeddings switch cannot be
            used; the message says why (the caller adds where the setting came from).
    """
    from botticelli_server.launcher import InferenceServer  # noqa: PLC0415 - only servers need it

    command: str | list[str] = section.preset if section.preset is not None else list(section.command or ())
    model = model if model is not None else section.model_ref
    chosen = port if port is not None else section.port
    return InferenceServer(
        command,
        model=model,
        model_name=section.alias,
        host=section.host,
        # 0 is the usual spelling of "any free port"; the launcher spells it None.
        port=chosen or None,
        adapters=section.adapters,
        embeddings=section.embeddings,
        extra_args=section.extra_args,
        startup_timeout=section.startup_timeout,
    )
