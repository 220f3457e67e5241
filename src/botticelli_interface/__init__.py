"""The protocols botticelli backends implement: :class:`GenerativeModel` and its capabilities."""

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
from botticelli_interface.structured import generate_object

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
    "generate_object",
    "log_event",
    "require_features",
]
