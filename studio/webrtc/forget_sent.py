"""Retransmissions a receiver no longer needs, not sent (the relay's viewers; ``studio.services.layers``).

A viewer whose link cannot carry the main layer moves to the low layer at its next keyframe, and
its decoder starts over there. Until that keyframe is complete the receiver keeps asking for the
main-layer packets the link dropped, and each answer takes the small link's capacity ahead of the
keyframe it is waiting for (85 retransmissions in the second after a 1 Mbit/s cap in the network
bench: most of a second of that link). :meth:`ForgetSent.attach` wraps one sender's NACK answers (after
``rtp_history.attach``): once :meth:`ForgetSent.forget` is called, packets sent before it are not
sent again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiortc import RTCRtpSender

from studio.webrtc import internals
from studio.webrtc.rtp_history import RtpHistory


@dataclass
class ForgetSent:
    """What one sender will not resend. Use on the event loop's thread only."""

    history: Callable[[], RtpHistory | None]
    clock: Callable[[], float] = time.monotonic
    forgotten: set[int] = field(default_factory=set)
    skipped: int = 0  # NACKed packets not resent
    _until: float = field(default=0.0, init=False)  # when all forgotten have left the history

    def forget(self) -> None:
        """Packets sent so far are not resent (those the history holds: older ones cannot be)."""
        history = self.history()
        if history is None:
            return
        self.forgotten.update(seq for seq, _ in history.sent_between(float("-inf"), float("inf")))
        self._until = self.clock() + history.max_age_s

    @classmethod
    def attach(cls, sender: RTCRtpSender, clock: Callable[[], float] = time.monotonic) -> ForgetSent:
        """Wrap ``sender``'s NACK answers (call after ``rtp_history.attach``)."""
        state = cls(lambda: _history(sender), clock)
        original: Callable[[int], Awaitable[None]] = sender._retransmit

        async def retransmit(sequence_number: int) -> None:
            if state.wanted(sequence_number):
                await original(sequence_number)

        setattr(sender, "_retransmit", retransmit)  # noqa: B010 (instance override)
        return state

    def wanted(self, sequence_number: int) -> bool:
        if self.forgotten and self.clock() > self._until:
            self.forgotten.clear()
        if sequence_number in self.forgotten:
            self.skipped += 1
            return False
        return True


def _history(sender: RTCRtpSender) -> RtpHistory | None:
    history = getattr(sender, internals.SENDER_HISTORY, None)
    return history if isinstance(history, RtpHistory) else None


__all__ = ["ForgetSent"]
