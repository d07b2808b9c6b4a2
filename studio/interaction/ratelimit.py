"""Token bucket: ``rate`` tokens per second refill a bucket holding at most ``burst``.

The clock is injected so tests drive time by hand instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    __slots__ = ("rate", "burst", "_clock", "_tokens", "_last")

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"rate limit rate must be > 0 messages/s, got {rate}")
        if not math.isfinite(burst) or burst < 1:
            raise ValueError(f"rate limit burst must be >= 1, got {burst}")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def try_take(self, n: float = 1.0) -> bool:
        """Take ``n`` tokens if the bucket holds them; never blocks."""
        now = self._clock()
        elapsed = now - self._last
        self._last = now
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        if self._tokens >= n:
            self._tokens -= n
            return True
        return False

    @property
    def tokens(self) -> float:
        return self._tokens
