"""The local-inference-server backend: any OpenAI-compatible server behind :class:`ServerClient`.

mistral.rs, llama.cpp's server, vLLM and Ollama all speak this protocol, each with
small differences that the client absorbs (see ``docs/servers.md``).

Examples:
    >>> from botticelli_server import ServerClient, ServerConfig
    >>> client = ServerClient(ServerConfig.from_env({"INFERENCE_SERVER_MODEL": "default"}))
    >>> client.config.base_url
    'http://localhost:8080'
"""

from typing import TYPE_CHECKING

from botticelli_error._exports import lazy_exports

if TYPE_CHECKING:
    from botticelli_server.adapters import adapter_features, select_adapter
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
    from botticelli_server.hub import HubSettings, ensure_model, hub_settings, sha256_of
    from botticelli_server.launcher import InferenceServer, find_free_port
    from botticelli_server.lora_flags import adapter_flags
    from botticelli_server.model_cache import CachedModelFile, list_cached_models
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
    "CachedModelFile",
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
    "HubSettings",
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
    "adapter_features",
    "adapter_flags",
    "assemble",
    "chunk_to_stream_chunk",
    "detect_dialect",
    "embed_batches",
    "ensure_model",
    "error_fields",
    "error_from_response",
    "feature_fields",
    "find_free_port",
    "finish_reason_from_wire",
    "finish_reason_with_calls",
    "from_chat_response",
    "get_dialect",
    "hub_settings",
    "is_over_context",
    "list_cached_models",
    "parse_arguments",
    "parse_embeddings",
    "probe_dialect",
    "prompt_text",
    "schema_fields",
    "select_adapter",
    "sha256_of",
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

# Each export is imported on first access (see botticelli_core/_exports.py): a program that talks to
# a server does not load the embedding, token-counting or wire models until it uses them, and one
# that only talks to a server never loads the launcher (subprocess, signals, port checks).
_EXPORTS = {
    "AssistantMessage": "botticelli_server.response",
    "CachedModelFile": "botticelli_server.model_cache",
    "ChatCompletionChunk": "botticelli_server.response",
    "ChatCompletionRequest": "botticelli_server.request",
    "ChatCompletionResponse": "botticelli_server.response",
    "ChatMessage": "botticelli_server.request",
    "Choice": "botticelli_server.response",
    "ChoiceView": "botticelli_server.response",
    "ChunkChoice": "botticelli_server.response",
    "ChunkView": "botticelli_server.response",
    "ContentPart": "botticelli_server.request",
    "DIALECTS": "botticelli_server.dialect",
    "Delta": "botticelli_server.response",
    "DeltaView": "botticelli_server.response",
    "Dialect": "botticelli_server.dialect",
    "DialectName": "botticelli_server.config",
    "EmbeddingData": "botticelli_server.embeddings",
    "EmbeddingList": "botticelli_server.embeddings",
    "EmbeddingRequest": "botticelli_server.embeddings",
    "EmbeddingUsage": "botticelli_server.embeddings",
    "ErrorFields": "botticelli_server.errors",
    "FunctionCall": "botticelli_server.response",
    "HubSettings": "botticelli_server.hub",
    "ImagePart": "botticelli_server.request",
    "ImageURL": "botticelli_server.request",
    "InferenceServer": "botticelli_server.launcher",
    "ModelEntry": "botticelli_server.response",
    "ModelList": "botticelli_server.response",
    "Pooling": "botticelli_server.embeddings",
    "SchemaStyle": "botticelli_server.dialect",
    "ServerClient": "botticelli_server.client",
    "ServerConfig": "botticelli_server.config",
    "StreamOptions": "botticelli_server.request",
    "StreamState": "botticelli_server.streaming",
    "TextPart": "botticelli_server.request",
    "ThinkingSwitch": "botticelli_server.dialect",
    "TokenRoute": "botticelli_server.tokens",
    "TokenizerProbe": "botticelli_server.tokens",
    "ToolCall": "botticelli_server.response",
    "ToolCallAssembler": "botticelli_server.tool_stream",
    "UsageInfo": "botticelli_server.response",
    "adapter_features": "botticelli_server.adapters",
    "adapter_flags": "botticelli_server.lora_flags",
    "assemble": "botticelli_server.embeddings",
    "chunk_to_stream_chunk": "botticelli_server.convert",
    "detect_dialect": "botticelli_server.dialect",
    "embed_batches": "botticelli_server.embeddings",
    "ensure_model": "botticelli_server.hub",
    "error_fields": "botticelli_server.errors",
    "error_from_response": "botticelli_server.errors",
    "feature_fields": "botticelli_server.options",
    "find_free_port": "botticelli_server.launcher",
    "finish_reason_from_wire": "botticelli_server.convert",
    "finish_reason_with_calls": "botticelli_server.convert",
    "from_chat_response": "botticelli_server.convert",
    "get_dialect": "botticelli_server.dialect",
    "hub_settings": "botticelli_server.hub",
    "is_over_context": "botticelli_server.embeddings",
    "list_cached_models": "botticelli_server.model_cache",
    "parse_arguments": "botticelli_server.tools",
    "parse_embeddings": "botticelli_server.embeddings",
    "probe_dialect": "botticelli_server.detect",
    "prompt_text": "botticelli_server.tokens",
    "schema_fields": "botticelli_server.options",
    "select_adapter": "botticelli_server.adapters",
    "sha256_of": "botticelli_server.hub",
    "stream_error": "botticelli_server.errors",
    "streamed": "botticelli_server.convert",
    "thinking_fields": "botticelli_server.options",
    "to_chat_message": "botticelli_server.convert",
    "to_chat_messages": "botticelli_server.convert",
    "to_chat_request": "botticelli_server.convert",
    "tool_call_output": "botticelli_server.tools",
    "tool_fields": "botticelli_server.tools",
    "tool_messages": "botticelli_server.tools",
    "untruncated": "botticelli_server.embeddings",
    "usage_from_wire": "botticelli_server.convert",
    "vectors_of": "botticelli_server.embeddings",
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
