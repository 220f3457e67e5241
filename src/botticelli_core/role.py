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
