"""The local-inference-server backend: any OpenAI-compatible server behind :class:`ServerClient`.

mistral.rs, llama.cpp's server, vLLM and Ollama all speak this protocol, each with
small differences that the client absorbs (see ``docs/servers.md``).

Examples:
    >>> from botticelli_server import ServerClient, ServerConfig
    >>> client = ServerClient(ServerConfig.from_env({"INFERENCE_SERVER_MODEL": "default"}))
    >>> client.config.base_url
    'http://localhost:8080'
"""

from botticelli_server.client import ServerClient
from botticelli_server.config import ServerConfig
from botticelli_server.convert import chunk_to_stream_chunk, from_chat_response, to_chat_request
from botticelli_server.launcher import InferenceServer, find_free_port
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
    ChunkChoice,
    Delta,
    FunctionCall,
    ModelEntry,
    ModelList,
    ToolCall,
    UsageInfo,
)

__all__ = [
    "AssistantMessage",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatMessage",
    "Choice",
    "ChunkChoice",
    "ContentPart",
    "Delta",
    "FunctionCall",
    "ImagePart",
    "ImageURL",
    "InferenceServer",
    "ModelEntry",
    "ModelList",
    "ServerClient",
    "ServerConfig",
    "StreamOptions",
    "TextPart",
    "ToolCall",
    "UsageInfo",
    "chunk_to_stream_chunk",
    "find_free_port",
    "from_chat_response",
    "to_chat_request",
]
