"""The provider-neutral data model of botticelli: messages, requests, responses.

Examples:
    >>> from botticelli_core import GenerateRequest, Message
    >>> req = GenerateRequest(messages=[Message.system("Be terse."), Message.user("Hi")])
    >>> [m.role.value for m in req.messages]
    ['system', 'user']
"""

from botticelli_core._base import (
    FrozenModel,
)
from botticelli_core._section import ConfigSection, Requirement
from botticelli_core.adapters import LoraAdapter
from botticelli_core.catalog import HealthStatus, ModelInfo
from botticelli_core.content import (
    AudioInput,
    DocumentInput,
    ImageInput,
    Input,
    JsonOutput,
    Output,
    ReasoningOutput,
    TextInput,
    TextOutput,
    ToolCallDelta,
    ToolCallInput,
    ToolCallOutput,
    ToolResultInput,
    VideoInput,
)
from botticelli_core.embedding import EmbedResponse, TokenCount
from botticelli_core.media import MediaSource
from botticelli_core.message import Message
from botticelli_core.request import GenerateRequest
from botticelli_core.response import FinishReason, GenerateResponse, StreamChunk, Usage
from botticelli_core.role import Role
from botticelli_core.thinking import ThinkingConfig
from botticelli_core.tools import ToolChoice, ToolDefinition

__all__ = [
    "AudioInput",
    "ConfigSection",
    "DocumentInput",
    "EmbedResponse",
    "FinishReason",
    "FrozenModel",
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
    "Output",
    "ReasoningOutput",
    "Requirement",
    "Role",
    "StreamChunk",
    "TextInput",
    "TextOutput",
    "ThinkingConfig",
    "TokenCount",
    "ToolCallDelta",
    "ToolCallInput",
    "ToolCallOutput",
    "ToolChoice",
    "ToolDefinition",
    "ToolResultInput",
    "Usage",
    "VideoInput",
]
