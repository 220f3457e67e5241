"""Helpers of the HybridModel tests: the policy, a cheap request, a fake clock, the logged route reasons."""

from __future__ import annotations

import pytest

from botticelli.hybrid import HybridModel, HybridPolicy
from botticelli_core import GenerateRequest
from tests.local.hybrid.fakes import FakeModel

CHEAP = GenerateRequest.from_prompt("Hi", max_tokens=16)
POLICY = HybridPolicy(prompt_tokens_threshold=50, max_tokens_threshold=100, failure_threshold=2, cooldown=30)


class Clock:
    """Monotonic seconds that move only when a test moves them."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The ``reason`` of each ``botticelli.route`` event logged so far."""
    found = []
    for record in caplog.records:
        message = record.getMessage()
        if "botticelli.route" in message:
            found.append(message.split("reason='")[1].split("'")[0])
    return found


async def collect(hybrid: HybridModel, into: list[str]) -> None:
    """Stream CHEAP through ``hybrid``, keeping each chunk's text as it arrives."""
    async with hybrid, hybrid.generate_stream(CHEAP) as stream:
        async for chunk in stream:
            into.append(chunk.text)


def make(local: FakeModel, api: FakeModel, clock: Clock | None = None) -> HybridModel:
    """A HybridModel over two fakes with POLICY (two failures in a row open a breaker)."""
    return HybridModel(local, api, policy=POLICY, clock=clock or Clock())
