"""Auto-reply: announce the assistant's answer without the host's click, off by default.

Rate-limited twice: a token bucket over all answers (at most ``per_minute`` a minute, one at a
time) and a cooldown per answer (the same FAQ entry is not announced again within
``repeat_after_s``, however many viewers ask it), so a room asking 多少钱 fifty times gets one
answer, not fifty.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from studio.catalogue.assistant import Suggestion
from studio.interaction.ratelimit import TokenBucket

DEFAULT_PER_MINUTE = 4.0
DEFAULT_REPEAT_AFTER_S = 60.0


class AutoReply:
    def __init__(self, announce: Callable[[str], object], *, per_minute: float = DEFAULT_PER_MINUTE,
                 repeat_after_s: float = DEFAULT_REPEAT_AFTER_S, clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < per_minute <= 60:
            raise ValueError(f"auto-reply rate must be 0-60 answers a minute, got {per_minute}")
        if not 0 <= repeat_after_s <= 3600:
            raise ValueError(f"auto-reply repeat cooldown must be 0-3600 s, got {repeat_after_s}")
        self._announce = announce
        self._clock = clock
        self._bucket = TokenBucket(per_minute / 60.0, 1, clock)
        self.repeat_after_s = repeat_after_s
        self._last: dict[tuple[str, str], float] = {}
        self.enabled = False  # the host turns it on
        self.sent = 0
        self.held_back = 0  # answers not sent because of a limit

    @property
    def per_minute(self) -> float:
        return self._bucket.rate * 60.0

    @per_minute.setter
    def per_minute(self, value: float) -> None:
        if not 0 < value <= 60:
            raise ValueError(f"auto-reply rate must be 0-60 answers a minute, got {value}")
        self._bucket.rate = value / 60.0

    def offer(self, suggestion: Suggestion) -> bool:
        """Announce ``suggestion`` if auto-reply is on and the limits allow; True when sent."""
        if not self.enabled:
            return False
        key = (suggestion.product, suggestion.faq_id)
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.repeat_after_s:
            self.held_back += 1
            return False
        if not self._bucket.try_take():
            self.held_back += 1
            return False
        self._last[key] = now
        self._announce(suggestion.answer)
        self.sent += 1
        return True
