"""The local-inference-server backend: any OpenAI-compatible server behind :class:`ServerClient`.

mistral.rs, llama.cpp's server, vLLM and Ollama all speak this protocol, each with
small differences that the client absorbs (see ``docs/servers.md``).

Examples:
    >>> from botticelli_server import ServerClient, ServerConfig
    >>> client = ServerClient(ServerConfig.from_env({"INFERENCE_SERVER_MODEL": "default"}))
    >>> client.config.base_url
    'http://localhost:8080'
"""

from typing import TYPE_CHECKING, Any

from botticelli_server.client import ServerClient
from botticelli_server.config import DialectName, ServerConfig
from botticelli_server.convert import (
    chunk_to_stream_chunk,
    finish_reason_from_wire,
    finish_reason_with_calls,
    from_chat_response,
    streamed,
    to_chat_message,
    to_chat_messages,
    to_chat_request,
    usage_from_wire,
)
from botticelli_server.detect import probe_dialect
from botticelli_server.dialect import DIALECTS, Dialect, SchemaStyle, ThinkingSwitch, detect_dialect, get_dialect
from botticelli_server.embeddings import (
    EmbeddingData,
    EmbeddingList,
    EmbeddingRequest,
    EmbeddingUsage,
    Pooling,
    assemble,
    embed_batches,
    is_over_context,
    parse_embeddings,
    untruncated,
    vectors_of,
)
from botticelli_server.errors import ErrorFields, error_fields, error_from_response, stream_error
from botticelli_server.options import feature_fields, schema_fields, thinking_fields
from botticelli_server.request import (
    ChatCompletionRequest,
    ChatMessage,
    ContentPart,
    ImagePart,
    ImageURL,
    StreamOptions,
    TextPart,
)
from botticelli_server.response import (
    AssistantMessage,
    ChatCompletionChunk,
    ChatCompletionResponse,
    Choice,
    ChoiceView,
    ChunkChoice,
    ChunkView,
    Delta,
    DeltaView,
    FunctionCall,
    ModelEntry,
    ModelList,
    ToolCall,
    UsageInfo,
)
from botticelli_server.streaming import StreamState
from botticelli_server.tokens import TokenizerProbe, TokenRoute, prompt_text
from botticelli_server.tool_stream import ToolCallAssembler
from botticelli_server.tools import parse_arguments, tool_call_output, tool_fields, tool_messages

__all__ = [
    "DIALECTS",
    "AssistantMessage",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatMessage",
    "Choice",
    "ChoiceView",
    "ChunkChoice",
    "ChunkView",
    "ContentPart",
    "Delta",
    "DeltaView",
    "Dialect",
    "DialectName",
    "EmbeddingData",
    "EmbeddingList",
    "EmbeddingRequest",
    "EmbeddingUsage",
    "ErrorFields",
    "FunctionCall",
    "ImagePart",
    "ImageURL",
    "InferenceServer",
    "ModelEntry",
    "ModelList",
    "Pooling",
    "SchemaStyle",
    "ServerClient",
    "ServerConfig",
    "StreamOptions",
    "StreamState",
    "TextPart",
    "ThinkingSwitch",
    "TokenRoute",
    "TokenizerProbe",
    "ToolCall",
    "ToolCallAssembler",
    "UsageInfo",
    "assemble",
    "chunk_to_stream_chunk",
    "detect_dialect",
    "embed_batches",
    "error_fields",
    "error_from_response",
    "feature_fields",
    "find_free_port",
    "finish_reason_from_wire",
    "finish_reason_with_calls",
    "from_chat_response",
    "get_dialect",
    "is_over_context",
    "parse_arguments",
    "parse_embeddings",
    "probe_dialect",
    "prompt_text",
    "schema_fields",
    "stream_error",
    "streamed",
    "thinking_fields",
    "to_chat_message",
    "to_chat_messages",
    "to_chat_request",
    "tool_call_output",
    "tool_fields",
    "tool_messages",
    "untruncated",
    "usage_from_wire",
    "vectors_of",
]

if TYPE_CHECKING:
    from botticelli_server.launcher import InferenceServer, find_free_port

# Starting servers is a job of its own (subprocess, signals, port checks): a program that only
# talks to a server does not import it.
_LAZY = {"InferenceServer": "botticelli_server.launcher", "find_free_port": "botticelli_server.launcher"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'botticelli_server' has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
