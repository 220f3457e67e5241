"""The protocols botticelli backends implement: :class:`GenerativeModel` and its capabilities."""

from typing import TYPE_CHECKING

from botticelli_core._exports import lazy_exports

if TYPE_CHECKING:
    from botticelli_interface.capabilities import ALL_FEATURES, Feature, features_of, require_features
    from botticelli_interface.protocols import (
        ChunkStream,
        GenerativeModel,
        SupportsAclose,
        SupportsCountTokens,
        SupportsEmbed,
        SupportsHealth,
        SupportsListModels,
    )
    from botticelli_interface.request_log import LOGGER_NAME, Operation, Reply, RequestLog, log_event
    from botticelli_interface.stream import ManagedStream

__all__ = [
    "ALL_FEATURES",
    "LOGGER_NAME",
    "ChunkStream",
    "Feature",
    "GenerativeModel",
    "ManagedStream",
    "Operation",
    "Reply",
    "RequestLog",
    "SupportsAclose",
    "SupportsCountTokens",
    "SupportsEmbed",
    "SupportsHealth",
    "SupportsListModels",
    "features_of",
    "log_event",
    "require_features",
]

# Each export is imported on first access (see botticelli_core/_exports.py): a backend that only
# needs ManagedStream and RequestLog does not load the protocols' type imports or the capability check.
_EXPORTS = {
    "ALL_FEATURES": "botticelli_interface.capabilities",
    "ChunkStream": "botticelli_interface.protocols",
    "Feature": "botticelli_interface.capabilities",
    "GenerativeModel": "botticelli_interface.protocols",
    "LOGGER_NAME": "botticelli_interface.request_log",
    "ManagedStream": "botticelli_interface.stream",
    "Operation": "botticelli_interface.request_log",
    "Reply": "botticelli_interface.request_log",
    "RequestLog": "botticelli_interface.request_log",
    "SupportsAclose": "botticelli_interface.protocols",
    "SupportsCountTokens": "botticelli_interface.protocols",
    "SupportsEmbed": "botticelli_interface.protocols",
    "SupportsHealth": "botticelli_interface.protocols",
    "SupportsListModels": "botticelli_interface.protocols",
    "features_of": "botticelli_interface.capabilities",
    "log_event": "botticelli_interface.request_log",
    "require_features": "botticelli_interface.capabilities",
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
