"""The one walk every router makes: members tried in order, each behind its breaker.

A request starts on the first member whose breaker gives a permit (the others are skipped
and recorded as :class:`~botticelli_error.CircuitOpenError`); when every breaker is open,
the first member is tried anyway, since trying beats failing without trying. An error the
rules say to fall back on moves the request to the next member that gives a permit;
any other error propagates at once. A stream falls back only until its first chunk reached
the caller; after that its error propagates with the text so far, since the caller holds
text another member would not continue.

Every breaker permit is handed back whatever happens, and each decision is logged as
``botticelli.route`` with a ``reason`` (the router's first-choice reason,
``"breaker_open:<names>"`` or ``"fallback:<ErrorClass>"``).

:class:`~botticelli.routing.FallbackModel`, :class:`~botticelli.routing.ReplicaPool` and
:class:`~botticelli.hybrid.HybridModel` differ only in the order they hand this walk and in
what they raise when it runs out (:class:`Rules`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import anyio

from botticelli._breaker import Permit
from botticelli.routing._member import Attempt, Member
from botticelli_core import GenerateRequest, GenerateResponse, StreamChunk
from botticelli_error import BotticelliError, CircuitOpenError
from botticelli_interface import ChunkStream, GenerativeModel
from botticelli_interface.request_log import log_event

__all__ = ["ErrorRule", "Rules", "Walk", "call_over", "generate_over", "stream_over"]

T = TypeVar("T")

ErrorRule = Callable[[BotticelliError], bool]
"""A predicate over an error: whether to fall back on it, or whether it counts against a member."""


@dataclass(frozen=True)
class Rules:
    """What a router falls back on, what opens a breaker, and what it raises when no member is left.

    Args:
        provider: The router's provider name, for logs and errors.
        fallback_on: Whether an error moves the request to the next member.
        counts_against: Whether an error is a sign of an unhealthy member (for its breaker).
        exhausted: The error to raise when ``last`` was worth falling back on and no member
            is left; gets every member's error by name. ``None`` raises ``last`` itself.
    """

    provider: str
    fallback_on: ErrorRule
    counts_against: ErrorRule
    exhausted: Callable[[dict[str, BotticelliError], BotticelliError], BotticelliError] | None = None


class Walk:
    """One request's way through ``members``, in the order given."""

    def __init__(self, members: Sequence[Member], rules: Rules, *, reason: str, operation: str) -> None:
        self.members = members
        self.rules = rules
        self.reason = reason
        self.operation = operation
        self.errors: dict[str, BotticelliError] = {}
        self._previous: BotticelliError | None = None

    def first(self) -> tuple[Member, Permit | None]:
        """The member to try first, with its permit; logs the choice."""
        skipped: list[Member] = []
        for member in self.members:
            permit = member.breaker.acquire()
            if permit is not None:
                reason = self.reason if not skipped else "breaker_open:" + ",".join(m.name for m in skipped)
                self._log(logging.INFO, member, reason)
                return member, permit
            skipped.append(member)
            self.errors[member.name] = _skipped(member)
        first = self.members[0]
        self._log(logging.INFO, first, "breaker_open:" + ",".join(m.name for m in skipped))
        return first, None

    def after(self, failed: Member, error: BotticelliError) -> tuple[Member, Permit | None] | None:
        """The next member after ``failed`` raised ``error``, or ``None`` when the walk is over."""
        self.errors[failed.name] = error
        if self._previous is not None and error.__context__ is None:
            # A traceback then shows every member's failure, not only the last.
            error.__context__ = self._previous
        self._previous = error
        if not self.rules.fallback_on(error):
            return None
        position = self.members.index(failed)
        for member in self.members[position + 1 :]:
            # Each permit is taken only now: a trial slot must not be held while another member runs.
            permit = member.breaker.acquire()
            if permit is None:
                self.errors.setdefault(member.name, _skipped(member))
                continue
            self._log(logging.WARNING, member, f"fallback:{type(error).__name__}", failed_backend=failed.name)
            return member, permit
        return None

    def final_error(self, error: BotticelliError) -> BotticelliError:
        """What to raise after ``error`` ended the walk."""
        if self.rules.exhausted is None or not self.rules.fallback_on(error):
            return error
        return self.rules.exhausted(dict(self.errors), error)

    def next_or_raise(self, failed: Member, error: BotticelliError) -> tuple[Member, Permit | None]:
        """The next member to try after ``failed`` raised ``error``.

        When there is none, ``error`` is raised, or what the rules make of it (chained to ``error``).
        """
        step = self.after(failed, error)
        if step is not None:
            return step
        final = self.final_error(error)
        if final is error:
            raise error
        raise final from error

    def settle(self, attempt: Attempt, error: BotticelliError) -> None:
        """Settle ``attempt`` after ``error``: a breaker failure only if the error says the member is unwell."""
        attempt.failed(error, unhealthy=self.rules.counts_against(error))

    def _log(self, level: int, member: Member, reason: str, **extra: str) -> None:
        log_event(
            level,
            "botticelli.route",
            provider=self.rules.provider,
            backend=member.name,
            model=member.model.model_name,
            reason=reason,
            operation=self.operation,
            **extra,
        )


def _skipped(member: Member) -> CircuitOpenError:
    """The error recorded for a member passed over because its breaker is open."""
    return CircuitOpenError(
        f"{member.name} is skipped: its circuit breaker is open",
        provider=member.name,
        retry_after=member.breaker.retry_in,
    )


async def generate_over(walk: Walk, request: GenerateRequest) -> GenerateResponse:
    """Generate on the walk's members in turn until one answers.

    Raises:
        BotticelliError: An error not worth falling back on, or what ``Rules.exhausted`` makes
            of the last one.
    """
    return await call_over(walk, lambda model: model.generate(request))


async def call_over(walk: Walk, call: Callable[[GenerativeModel], Awaitable[T]]) -> T:
    """Run ``call`` on the walk's members in turn until one answers (any operation, not only generate).

    Raises:
        BotticelliError: An error not worth falling back on, or what ``Rules.exhausted`` makes
            of the last one.
    """
    member, permit = walk.first()
    while True:
        attempt = member.begin(permit)
        try:
            response = await call(member.model)
        except BotticelliError as exc:
            walk.settle(attempt, exc)
            member, permit = walk.next_or_raise(member, exc)
            continue
        except BaseException:
            attempt.released()
            raise
        attempt.succeeded()
        if isinstance(response, GenerateResponse):
            member.count_usage(response.usage)
        return response


async def stream_over(walk: Walk, request: GenerateRequest) -> AsyncGenerator[StreamChunk, None]:
    """Stream from the walk's members; before the first chunk, fall back like :func:`generate_over`."""
    member, permit = walk.first()
    while True:
        attempt = member.begin(permit)
        # Opening the stream is inside the try: a member may raise from generate_stream() itself
        # (an input it checks up front), and that must hand the permit back and fall back exactly
        # as an error from the first chunk does.
        opened: ChunkStream | None = None
        try:
            opened = stream = member.model.generate_stream(request)
            first = await stream.__anext__()
        except StopAsyncIteration:
            attempt.succeeded()
            await _close(opened)
            return
        except BotticelliError as exc:
            # The permit is settled before the close: a close that fails or is cancelled must
            # not keep a trial marked as running.
            walk.settle(attempt, exc)
            await _close(opened)
            member, permit = walk.next_or_raise(member, exc)
            continue
        except BaseException:
            attempt.released()
            with anyio.CancelScope(shield=True):
                await _close(opened)
            raise
        break
    # The member answered; from here on the caller holds its text, so nothing falls back.
    attempt.answered()
    broke = False
    # The usage arrives on the stream's last chunks; it is counted once, when the stream is over.
    usage = first.usage
    try:
        yield first
        async for chunk in stream:
            usage = chunk.usage or usage
            yield chunk
    except BotticelliError as exc:
        broke = True
        walk.settle(attempt, exc)
        raise
    finally:
        if not broke:
            # Over, or the caller left it: either way the member served.
            attempt.succeeded()
            member.count_usage(usage)
        with anyio.CancelScope(shield=True):
            await stream.aclose()


async def _close(stream: ChunkStream | None) -> None:
    """Close a member's stream, if opening it got that far."""
    if stream is not None:
        await stream.aclose()
