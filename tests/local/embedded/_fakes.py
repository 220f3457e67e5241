"""Stand-ins for mistral.rs's chunk classes, which Python code cannot construct."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FakeUsage:
    prompt_tokens: int = 7
    completion_tokens: int = 3
    total_tokens: int = 10


@dataclass(frozen=True)
class FakeDelta:
    content: str | None = None
    reasoning_content: str | None = None


@dataclass(frozen=True)
class FakeChoice:
    delta: FakeDelta = field(default_factory=FakeDelta)
    finish_reason: str | None = None


@dataclass(frozen=True)
class FakeChunk:
    choices: list[FakeChoice]
    usage: FakeUsage | None = None
