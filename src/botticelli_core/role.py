"""Who speaks in a conversation."""

from enum import StrEnum

__all__ = ["Role"]


class Role(StrEnum):
    """The author of a message.

    Examples:
        >>> Role("assistant") is Role.ASSISTANT
        True
    """

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"
    """The results of tool calls, sent back to the model (see :meth:`Message.tool_result`)."""
