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

from botticelli_server.adapter_flags import adapter_flags
from botticelli_server.adapters import adapter_features, select_adapter
from botticelli_server.client import ServerClient
from botticelli_server.config import DialectName, ServerConfig
from botticelli_server.convert import (
    chunk_to_stream_chunk,
    finish_reason_from_wire,
    from_chat_response,
    streamed,
    to_chat_message,
    to_chat_request,
    usage_from_wire,
)
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

__all__ = [
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
    "ServerClient",
    "ServerConfig",
    "StreamOptions",
    "StreamState",
    "TextPart",
    "TokenRoute",
    "TokenizerProbe",
    "ToolCall",
    "UsageInfo",
    "adapter_features",
    "adapter_flags",
    "assemble",
    "chunk_to_stream_chunk",
    "embed_batches",
    "error_fields",
    "error_from_response",
    "find_free_port",
    "finish_reason_from_wire",
    "from_chat_response",
    "is_over_context",
    "parse_embeddings",
    "prompt_text",
    "select_adapter",
    "stream_error",
    "streamed",
    "to_chat_message",
    "to_chat_request",
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
