from datetime import UTC, datetime, timedelta

import anyio
import pytest

from botticelli_core import GenerateRequest, ImageInput, MediaSource, Message, TextInput
from botticelli_error import RateLimitError
from botticelli_gemini import FREE_TIER_LIMITS, RateLimiter, RateLimits, estimate_tokens

# 10:00 in the morning, Pacific daylight time.
MORNING = datetime(2025, 6, 2, 17, 0, tzinfo=UTC)


class FakeTime:
    """Monotonic and wall clocks that move only when the limiter sleeps (or the test says)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return MORNING + timedelta(seconds=self.now - 1000.0)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


def limiter(limits: RateLimits, fake: FakeTime) -> RateLimiter:
    return RateLimiter(limits, model="gemini-2.5-flash", clock=fake.clock, wall_clock=fake.wall, sleep=fake.sleep)


async def admit(lim: RateLimiter, tokens: int = 0) -> None:
    async with lim.reserve(tokens):
        pass


@pytest.mark.anyio
async def test_requests_per_minute_wait_for_the_oldest_call_to_leave_the_window() -> None:
    fake = FakeTime()
    lim = limiter(RateLimits(requests_per_minute=2), fake)
    await admit(lim)
    fake.now += 10
    await admit(lim)
    assert fake.sleeps == []
    await admit(lim)
    assert fake.sleeps == [50.0]
    assert lim.requests_today == 3


@pytest.mark.anyio
async def test_tokens_per_minute_wait_until_enough_tokens_expire() -> None:
    fake = FakeTime()
    lim = limiter(RateLimits(tokens_per_minute=1000), fake)
    await admit(lim, 600)
    fake.now += 5
    await admit(lim, 300)
    fake.now += 5
    await admit(lim, 500)  # 900 used: the first call (600) must leave the window first
    assert fake.sleeps == [50.0]
    assert lim.tokens_in_window == 800


@pytest.mark.anyio
async def test_reported_usage_corrects_the_estimate() -> None:
    fake = FakeTime()
    lim = limiter(RateLimits(tokens_per_minute=1000), fake)
    async with lim.reserve(900) as reservation:
        reservation.settle(120)
    assert reservation.tokens == 120
    await admit(lim, 800)  # fits only because the estimate was corrected
    assert fake.sleeps == []


@pytest.mark.anyio
async def test_a_call_larger_than_the_whole_token_budget_goes_once_the_window_is_empty() -> None:
    fake = FakeTime()
    lim = limiter(RateLimits(tokens_per_minute=100), fake)
    await admit(lim, 50)
    await admit(lim, 500)
    assert fake.sleeps == [60.0]


@pytest.mark.anyio
async def test_the_day_limit_raises_a_non_retryable_rate_limit_error_naming_the_quota() -> None:
    fake = FakeTime()
    lim = limiter(RateLimits(requests_per_day=2), fake)
    await admit(lim)
    await admit(lim)
    with pytest.raises(RateLimitError) as caught:
        await admit(lim)
    err = caught.value
    assert err.retryable is False
    assert err.quota is not None
    assert "requests_per_day=2" in err.quota
    # 10:00 PDT: the count resets at midnight Pacific, fourteen hours later.
    assert err.retry_after == pytest.approx(14 * 3600)
    assert fake.sleeps == []


@pytest.mark.anyio
async def test_the_day_count_resets_at_midnight_pacific_time() -> None:
    fake = FakeTime()
    lim = limiter(RateLimits(requests_per_day=1), fake)
    await admit(lim)
    fake.now += 14 * 3600 - 1
    with pytest.raises(RateLimitError):
        await admit(lim)
    fake.now += 1
    await admit(lim)
    assert lim.requests_today == 1


@pytest.mark.anyio
async def test_max_concurrency_holds_calls_until_a_slot_is_free() -> None:
    lim = RateLimiter(RateLimits(max_concurrency=2), model="m")
    running = 0
    peak = 0

    async def call() -> None:
        nonlocal running, peak
        async with lim.reserve(1):
            running += 1
            peak = max(peak, running)
            await anyio.sleep(0.01)
            running -= 1

    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(call)
    assert peak == 2


@pytest.mark.anyio
async def test_a_refused_call_gives_its_concurrency_slot_back() -> None:
    fake = FakeTime()
    lim = limiter(RateLimits(requests_per_day=1, max_concurrency=1), fake)
    await admit(lim)
    for _ in range(3):
        with pytest.raises(RateLimitError):
            await admit(lim)


@pytest.mark.anyio
async def test_one_limiter_is_shared_fairly_by_concurrent_calls() -> None:
    fake = FakeTime()
    lim = limiter(RateLimits(requests_per_minute=3), fake)
    admitted: list[float] = []

    async def call() -> None:
        async with lim.reserve(0):
            admitted.append(fake.now)

    async with anyio.create_task_group() as tg:
        for _ in range(7):
            tg.start_soon(call)
    assert admitted == [1000.0] * 3 + [1060.0] * 3 + [1120.0]


def test_estimate_is_a_quarter_of_the_text_plus_max_tokens() -> None:
    image = ImageInput(mime="image/png", source=MediaSource.from_bytes(b"\0" * 4000))
    request = GenerateRequest(
        messages=[Message.system("x" * 10), Message.user([TextInput(text="y" * 31), image])], max_tokens=10
    )
    assert estimate_tokens(request) == 11 + 10
    assert estimate_tokens(GenerateRequest.from_prompt("abcd")) == 1


def test_free_tier_table_covers_the_current_models_with_all_three_published_limits() -> None:
    for model in ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"):
        limits = FREE_TIER_LIMITS[model]
        assert None not in (limits.requests_per_minute, limits.tokens_per_minute, limits.requests_per_day)
    assert FREE_TIER_LIMITS["gemini-2.5-flash"].requests_per_minute == 10
