"""The ``local`` backend's settings when ``[server] autostart`` starts its server.

The client talks to the server it starts, so the server decides what the client would
otherwise be told: the model name (the server's alias), the dialect (its preset's) and
the LoRA adapters (the ones it loads), unless ``[model.local]`` says otherwise. Only the
address is left open until the server has started, because ``port = 0`` picks it then.
"""

from __future__ import annotations

from typing import Any

from botticelli._server_section import server_from_section
from botticelli.config import build_backend_config, config_error
from botticelli.config.schema import BotticelliSettings
from botticelli_error import ConfigurationError
from botticelli_server._presets import get_preset
from botticelli_server.config import ServerConfig

__all__ = ["autostart_config"]

_ORIGIN = "[server] autostart"


def autostart_config(settings: BotticelliSettings) -> ServerConfig:
    """The ``local`` backend's :class:`~botticelli_server.ServerConfig`, before the server's port is known.

    Its ``base_url`` holds the server's host (and port, when fixed); the client replaces it
    with the started server's address.

    Raises:
        ConfigurationError: ``model.local.base_url`` is set (the client talks to the server
            it starts, nowhere else), or ``[server]`` cannot be launched as given.
    """
    section = settings.server
    assert section is not None  # the provider checked autostart
    local = settings.model.local
    if local.base_url is not None:
        raise config_error(
            settings,
            "model.local.base_url",
            "cannot be used with [server] autostart: the client talks to the server it starts; remove one",
        )
    try:
        server = server_from_section(section)
    except ConfigurationError as exc:
        key = "server.preset" if section.preset is not None else "server.command"
        raise config_error(settings, key, f"cannot be used: {exc.message}") from None
    host = f"[{server.host}]" if ":" in server.host else server.host
    port = f":{server.port}" if server.port is not None else ""
    values: dict[str, Any] = {"model.local.base_url": f"http://{host}{port}"}
    if local.model is None:
        values["model.local.model"] = server.model_name
    options = local.options
    if "dialect" not in options and section.preset is not None:
        values["model.local.dialect"] = get_preset(section.preset).dialect
    if "adapters" not in options and section.adapters:
        values["model.local.adapters"] = [adapter.model_dump() for adapter in section.adapters]
    config: ServerConfig = build_backend_config(settings.with_values(values, origin=_ORIGIN), "local")
    return config
