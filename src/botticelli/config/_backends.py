"""Where each backend declares its settings section; loaded only when a section is needed."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache
from typing import Any

from botticelli_core import ConfigSection

__all__ = ["BACKEND_MODULES", "backend_section", "backend_sections"]

BACKEND_MODULES: Mapping[str, str] = {
    "local": "botticelli_server.config",
    "gemini": "botticelli_gemini.config",
    "embedded": "botticelli_embedded.config",
}
"""``[model.<name>]`` -> the module whose ``SECTION`` declares it (the backend's config module)."""


@cache
def backend_section(name: str) -> ConfigSection[Any]:
    """The section the backend ``name`` declares, importing its config module on first use."""
    section: ConfigSection[Any] = importlib.import_module(BACKEND_MODULES[name]).SECTION
    return section


def backend_sections() -> tuple[ConfigSection[Any], ...]:
    """Every backend's section, in the order of :data:`BACKEND_MODULES`."""
    return tuple(backend_section(name) for name in BACKEND_MODULES)
