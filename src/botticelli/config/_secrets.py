"""The warning for a credential written into a configuration file."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botticelli.config._backends import BACKEND_MODULES, backend_section
from botticelli.config._tables import leaf_keys
from botticelli_core._base import is_secret_name
from botticelli_interface.request_log import log_event

__all__ = ["SECRET_IN_FILE_EVENT", "warn_secrets_in_file"]

SECRET_IN_FILE_EVENT = "botticelli.config.secret_in_file"  # noqa: S105 - an event name, not a secret


def warn_secrets_in_file(data: Mapping[str, Any], file: Path) -> None:
    """Log a warning (never the value) for each credential-named key the file sets.

    A structured log event rather than a Python warning, so programs that turn warnings
    into errors still start.
    """
    for dotted in leaf_keys(data):
        parts = dotted.split(".")
        if not is_secret_name(parts[-1]):
            continue
        variable = None
        if len(parts) == 3 and parts[0] == "model" and parts[1] in BACKEND_MODULES:
            variable = backend_section(parts[1]).variable(parts[2])
        instead = f"set {variable} instead" if variable else "keep it out of the file"
        log_event(
            logging.WARNING,
            SECRET_IN_FILE_EVENT,
            file=str(file),
            key=dotted,
            advice=f"{instead}; files end up in version control",
        )
