"""The provider-neutral data model of botticelli: messages, requests, responses.

Examples:
    >>> from botticelli_core import GenerateRequest, Message
    >>> req = GenerateRequest(messages=[Message.system("Be terse."), Message.user("Hi")])
    >>> [m.role.value for m in req.messages]
    ['system', 'user']
"""

from typing import TYPE_CHECKING

from botticelli_error._exports import lazy_exports

if TYPE_CHECKING:
    from botticelli_core._base import FrozenModel
    from botticelli_core._section import ConfigSection, Requirement
    from botticelli_core.adapters import LoraAdapter
    from botticelli_core.catalog import HealthStatus, ModelInfo
    from botticelli_core.content import (
        AudioInput,
        DocumentInput,
        ImageInput,
        Input,
        TextInput,
        ToolCallInput,
        ToolResultInput,
        VideoInput,
    )
    from botticelli_core.embedding import EmbedResponse, TokenCount
    from botticelli_core.media import MediaSource
    from botticelli_core.message import Message
    from botticelli_core.model_ref import ModelRef, ModelRefKind
    from botticelli_core.output import JsonOutput, Output, ReasoningOutput, TextOutput, ToolCallDelta, ToolCallOutput
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
    "ModelRef",
    "ModelRefKind",
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

# A program that builds one request imports the request types, not every response, catalog and
# embedding model: each export is imported on first access (see _exports.py).
_EXPORTS = {
    "AudioInput": "botticelli_core.content",
    "ConfigSection": "botticelli_core._section",
    "DocumentInput": "botticelli_core.content",
    "EmbedResponse": "botticelli_core.embedding",
    "FinishReason": "botticelli_core.response",
    "FrozenModel": "botticelli_core._base",
    "GenerateRequest": "botticelli_core.request",
    "GenerateResponse": "botticelli_core.response",
    "HealthStatus": "botticelli_core.catalog",
    "ImageInput": "botticelli_core.content",
    "Input": "botticelli_core.content",
    "JsonOutput": "botticelli_core.output",
    "LoraAdapter": "botticelli_core.adapters",
    "MediaSource": "botticelli_core.media",
    "Message": "botticelli_core.message",
    "ModelInfo": "botticelli_core.catalog",
    "ModelRef": "botticelli_core.model_ref",
    "ModelRefKind": "botticelli_core.model_ref",
    "Output": "botticelli_core.output",
    "ReasoningOutput": "botticelli_core.output",
    "Requirement": "botticelli_core._section",
    "Role": "botticelli_core.role",
    "StreamChunk": "botticelli_core.response",
    "TextInput": "botticelli_core.content",
    "TextOutput": "botticelli_core.output",
    "ThinkingConfig": "botticelli_core.thinking",
    "TokenCount": "botticelli_core.embedding",
    "ToolCallDelta": "botticelli_core.output",
    "ToolCallInput": "botticelli_core.content",
    "ToolCallOutput": "botticelli_core.output",
    "ToolChoice": "botticelli_core.tools",
    "ToolDefinition": "botticelli_core.tools",
    "ToolResultInput": "botticelli_core.content",
    "Usage": "botticelli_core.response",
    "VideoInput": "botticelli_core.content",
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
