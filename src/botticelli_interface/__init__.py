"""The protocols botticelli backends implement: :class:`GenerativeModel` and its capabilities."""

from botticelli_interface.call_options import UNSET, CallOptions, call_options, current_call_options
from botticelli_interface.capabilities import (
    ALL_FEATURES,
    Feature,
    SupportsFeatures,
    declared_features,
    features_of,
    require_features,
)
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
    "UNSET",
    "CallOptions",
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
    "SupportsFeatures",
    "SupportsHealth",
    "SupportsListModels",
    "call_options",
    "current_call_options",
    "declared_features",
    "features_of",
    "log_event",
    "require_features",
]
