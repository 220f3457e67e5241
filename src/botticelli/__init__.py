"""botticelli: one typed, async client for local inference servers and cloud LLM APIs.

Everything public is importable from here. Names load on first use, so
``import botticelli`` stays cheap and optional backends cost nothing until used.

Examples:
    >>> import botticelli
    >>> request = botticelli.GenerateRequest.from_prompt("Say hi", max_tokens=8)
    >>> request.messages[0].role
    <Role.USER: 'user'>
    >>> issubclass(botticelli.RateLimitError, botticelli.BotticelliError)
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botticelli.autostart import AutostartedClient
    from botticelli.batch import Batch, BatchResult, generate_many
    from botticelli.config import BotticelliSettings, load_settings, settings_from_dict
    from botticelli.hybrid import HybridModel, HybridPolicy
    from botticelli.provider import ModelClient, ModelProvider
    from botticelli.routing import FallbackModel, MemberStats, ReplicaPool
    from botticelli.sync import BlockingCallInEventLoopError, SyncModel, SyncStream
    from botticelli_core import (
        AudioInput,
        DocumentInput,
        EmbedResponse,
        FinishReason,
        GenerateRequest,
        GenerateResponse,
        HealthStatus,
        ImageInput,
        Input,
        JsonOutput,
        LoraAdapter,
        MediaSource,
        Message,
        ModelInfo,
        ModelRef,
        Output,
        ReasoningOutput,
        Role,
        StreamChunk,
        TextInput,
        TextOutput,
        ThinkingConfig,
        TokenCount,
        ToolCallDelta,
        ToolCallInput,
        ToolCallOutput,
        ToolDefinition,
        ToolResultInput,
        Usage,
        VideoInput,
    )
    from botticelli_embedded import EmbeddedConfig, EmbeddedModel
    from botticelli_error import (
        AllModelsFailedError,
        APIStatusError,
        AuthenticationError,
        BadRequestError,
        BotticelliError,
        CircuitOpenError,
        ConfigurationError,
        ContentBlockedError,
        ErrorKind,
        NotFoundError,
        OutputValidationError,
        RateLimitError,
        RequestTimeoutError,
        ResponseDecodeError,
        ServerCrashedError,
        ServerUnavailableError,
        StreamError,
        StreamInterruptedError,
        StreamStalledError,
        TransportError,
        UnsupportedInputError,
    )
    from botticelli_gemini import GeminiClient, GeminiConfig
    from botticelli_interface import (
        CallOptions,
        ChunkStream,
        GenerativeModel,
        ManagedStream,
        SupportsAclose,
        SupportsCountTokens,
        SupportsEmbed,
        SupportsHealth,
        SupportsListModels,
        call_options,
        generate_object,
    )
    from botticelli_server import InferenceServer, ServerClient, ServerConfig

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        [
            "AudioInput",
            "DocumentInput",
            "EmbedResponse",
            "FinishReason",
            "GenerateRequest",
            "GenerateResponse",
            "HealthStatus",
            "ImageInput",
            "Input",
            "JsonOutput",
            "LoraAdapter",
            "MediaSource",
            "Message",
            "ModelInfo",
            "ModelRef",
            "Output",
            "ReasoningOutput",
            "Role",
            "StreamChunk",
            "TextInput",
            "TextOutput",
            "ThinkingConfig",
            "TokenCount",
            "ToolCallOutput",
            "ToolCallDelta",
            "ToolCallInput",
            "ToolDefinition",
            "ToolResultInput",
            "Usage",
            "VideoInput",
        ],
        "botticelli_core",
    ),
    **dict.fromkeys(
        [
            "AllModelsFailedError",
            "APIStatusError",
            "AuthenticationError",
            "BadRequestError",
            "BotticelliError",
            "CircuitOpenError",
            "ConfigurationError",
            "ContentBlockedError",
            "ErrorKind",
            "NotFoundError",
            "OutputValidationError",
            "RateLimitError",
            "RequestTimeoutError",
            "ResponseDecodeError",
            "ServerCrashedError",
            "ServerUnavailableError",
            "StreamError",
            "StreamInterruptedError",
            "StreamStalledError",
            "TransportError",
            "UnsupportedInputError",
        ],
        "botticelli_error",
    ),
    **dict.fromkeys(
        [
            "CallOptions",
            "ChunkStream",
            "GenerativeModel",
            "ManagedStream",
            "SupportsAclose",
            "SupportsCountTokens",
            "SupportsEmbed",
            "SupportsHealth",
            "SupportsListModels",
            "call_options",
            "generate_object",
        ],
        "botticelli_interface",
    ),
    **dict.fromkeys(["InferenceServer", "ServerClient", "ServerConfig"], "botticelli_server"),
    **dict.fromkeys(["EmbeddedConfig", "EmbeddedModel"], "botticelli_embedded"),
    **dict.fromkeys(["GeminiClient", "GeminiConfig"], "botticelli_gemini"),
    **dict.fromkeys(["ModelClient", "ModelProvider"], "botticelli.provider"),
    **dict.fromkeys(["AutostartedClient"], "botticelli.autostart"),
    **dict.fromkeys(["HybridModel", "HybridPolicy"], "botticelli.hybrid"),
    **dict.fromkeys(["Batch", "BatchResult", "generate_many"], "botticelli.batch"),
    **dict.fromkeys(["BlockingCallInEventLoopError", "SyncModel", "SyncStream"], "botticelli.sync"),
    **dict.fromkeys(["FallbackModel", "MemberStats", "ReplicaPool"], "botticelli.routing"),
    **dict.fromkeys(["BotticelliSettings", "load_settings", "settings_from_dict"], "botticelli.config"),
}

__all__ = [  # noqa: RUF022 - kept in the same groups as _EXPORTS
    # botticelli_core
    "AudioInput",
    "DocumentInput",
    "EmbedResponse",
    "FinishReason",
    "GenerateRequest",
    "GenerateResponse",
    "HealthStatus",
    "ImageInput",
    "Input",
    "JsonOutput",
    "LoraAdapter",
    "MediaSource",
    "Message",
    "ModelInfo",
    "ModelRef",
    "Output",
    "ReasoningOutput",
    "Role",
    "StreamChunk",
    "TextInput",
    "TextOutput",
    "ThinkingConfig",
    "TokenCount",
    "ToolCallOutput",
    "ToolCallDelta",
    "ToolCallInput",
    "ToolDefinition",
    "ToolResultInput",
    "Usage",
    "VideoInput",
    # botticelli_error
    "AllModelsFailedError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "BotticelliError",
    "CircuitOpenError",
    "ConfigurationError",
    "ContentBlockedError",
    "ErrorKind",
    "NotFoundError",
    "OutputValidationError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "ServerCrashedError",
    "ServerUnavailableError",
    "StreamError",
    "StreamInterruptedError",
    "StreamStalledError",
    "TransportError",
    "UnsupportedInputError",
    # botticelli_interface
    "CallOptions",
    "ChunkStream",
    "GenerativeModel",
    "ManagedStream",
    "SupportsAclose",
    "SupportsCountTokens",
    "SupportsEmbed",
    "SupportsHealth",
    "SupportsListModels",
    "call_options",
    "generate_object",
    # backends
    "EmbeddedConfig",
    "EmbeddedModel",
    "GeminiClient",
    "GeminiConfig",
    "InferenceServer",
    "ServerClient",
    "ServerConfig",
    # provider factory, configuration, routing, batches, sync use
    "AutostartedClient",
    "Batch",
    "BatchResult",
    "BlockingCallInEventLoopError",
    "BotticelliSettings",
    "FallbackModel",
    "HybridModel",
    "HybridPolicy",
    "ModelClient",
    "MemberStats",
    "ModelProvider",
    "SyncModel",
    "SyncStream",
    "generate_many",
    "ReplicaPool",
    "load_settings",
    "settings_from_dict",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'botticelli' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
