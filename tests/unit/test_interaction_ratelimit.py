"""Token bucket with a hand-driven clock: burst, reject, refill, cap."""

from __future__ import annotations

import pytest

from studio.interaction.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_reject_then_refill() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, 10, clock)
    assert [bucket.try_take() for _ in range(12)] == [True] * 10 + [False] * 2
    clock.now += 0.2  # one token at 5/s
    assert bucket.try_take() is True
    assert bucket.try_take() is False
    clock.now += 60  # refills to the burst, not beyond
    assert sum(bucket.try_take() for _ in range(20)) == 10


def test_clock_going_backwards_does_not_mint_tokens() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, 1, clock)
    assert bucket.try_take()
    clock.now -= 50
    assert not bucket.try_take()


@pytest.mark.parametrize(("rate", "burst"), [(0, 10), (-1, 10), (5, 0), (float("nan"), 1), (5, float("inf"))])
def test_bad_settings(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        TokenBucket(rate, burst)
