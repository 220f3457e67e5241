"""The protocols botticelli backends implement: :class:`GenerativeModel` and its capabilities."""

from typing import TYPE_CHECKING

from botticelli_error._exports import lazy_exports

if TYPE_CHECKING:
    from botticelli_interface.capabilities import (
        ALL_FEATURES,
        Feature,
        SupportsFeatures,
        declared_features,
        features_of,
        require_features,
    )
    from botticelli_interface.object_stream import ObjectStream, stream_object
    from botticelli_interface.options import UNSET, CallOptions, call_options, current_call_options
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
    from botticelli_interface.structured import ObjectResponse, generate_object, generate_object_response
    from botticelli_interface.tool_loop import ToolLoopStream, run_tools, run_tools_stream
    from botticelli_interface.tool_runs import (
        ToolCallError,
        ToolCallFinished,
        ToolCallStarted,
        ToolFailure,
        ToolLoopEvent,
        ToolLoopResult,
        ToolRoundsExceededError,
        ToolRun,
    )

__all__ = [
    "ALL_FEATURES",
    "LOGGER_NAME",
    "UNSET",
    "CallOptions",
    "ChunkStream",
    "Feature",
    "GenerativeModel",
    "ManagedStream",
    "ObjectResponse",
    "ObjectStream",
    "Operation",
    "Reply",
    "RequestLog",
    "SupportsAclose",
    "SupportsCountTokens",
    "SupportsEmbed",
    "SupportsFeatures",
    "SupportsHealth",
    "SupportsListModels",
    "ToolCallError",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolFailure",
    "ToolLoopEvent",
    "ToolLoopResult",
    "ToolLoopStream",
    "ToolRoundsExceededError",
    "ToolRun",
    "call_options",
    "current_call_options",
    "declared_features",
    "features_of",
    "generate_object",
    "generate_object_response",
    "log_event",
    "require_features",
    "run_tools",
    "run_tools_stream",
    "stream_object",
]

# Each export is imported on first access (see botticelli_core/_exports.py): a backend that only
# needs ManagedStream and RequestLog does not load the protocols' type imports or the capability check.
_EXPORTS = {
    "ALL_FEATURES": "botticelli_interface.capabilities",
    "CallOptions": "botticelli_interface.options",
    "ChunkStream": "botticelli_interface.protocols",
    "Feature": "botticelli_interface.capabilities",
    "GenerativeModel": "botticelli_interface.protocols",
    "LOGGER_NAME": "botticelli_interface.request_log",
    "ManagedStream": "botticelli_interface.stream",
    "ObjectResponse": "botticelli_interface.structured",
    "ObjectStream": "botticelli_interface.object_stream",
    "Operation": "botticelli_interface.request_log",
    "Reply": "botticelli_interface.request_log",
    "RequestLog": "botticelli_interface.request_log",
    "SupportsAclose": "botticelli_interface.protocols",
    "SupportsCountTokens": "botticelli_interface.protocols",
    "SupportsEmbed": "botticelli_interface.protocols",
    "SupportsFeatures": "botticelli_interface.capabilities",
    "SupportsHealth": "botticelli_interface.protocols",
    "SupportsListModels": "botticelli_interface.protocols",
    "ToolCallError": "botticelli_interface.tool_runs",
    "ToolCallFinished": "botticelli_interface.tool_runs",
    "ToolCallStarted": "botticelli_interface.tool_runs",
    "ToolFailure": "botticelli_interface.tool_runs",
    "ToolLoopEvent": "botticelli_interface.tool_runs",
    "ToolLoopResult": "botticelli_interface.tool_runs",
    "ToolLoopStream": "botticelli_interface.tool_loop",
    "ToolRoundsExceededError": "botticelli_interface.tool_runs",
    "ToolRun": "botticelli_interface.tool_runs",
    "UNSET": "botticelli_interface.options",
    "call_options": "botticelli_interface.options",
    "current_call_options": "botticelli_interface.options",
    "declared_features": "botticelli_interface.capabilities",
    "features_of": "botticelli_interface.capabilities",
    "generate_object": "botticelli_interface.structured",
    "generate_object_response": "botticelli_interface.structured",
    "log_event": "botticelli_interface.request_log",
    "require_features": "botticelli_interface.capabilities",
    "run_tools": "botticelli_interface.tool_loop",
    "run_tools_stream": "botticelli_interface.tool_loop",
    "stream_object": "botticelli_interface.object_stream",
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
