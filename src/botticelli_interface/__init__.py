"""The protocols botticelli backends implement: :class:`GenerativeModel` and its capabilities."""

from botticelli_interface.protocols import (
    ChunkStream,
    GenerativeModel,
    SupportsAclose,
    SupportsHealth,
    SupportsListModels,
)
from botticelli_interface.stream import ManagedStream

__all__ = [
    "ChunkStream",
    "GenerativeModel",
    "ManagedStream",
    "SupportsAclose",
    "SupportsHealth",
    "SupportsListModels",
]
