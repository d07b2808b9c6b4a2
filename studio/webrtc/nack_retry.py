"""NACKs that are asked again, and a hole that is given up by time (issue 11, item 2).

aiortc 1.16's ``NackGenerator`` asks for a missing packet when the gap appears (and again only
when another gap happens to appear); nothing ever gives up on it, so the relay's jitter buffer
waited for 512 packets (0.8-3.4 s) before moving on. :class:`NackRetry` takes its place on one
receiver (same ``add(packet) -> bool`` call from ``_handle_rtp_packet``):

- a new gap is NACKed at once; a packet still missing ``retry_rtts`` round trips after its last
  request is asked again, at most ``max_requests`` times (libwebrtc's NACK module does the same),
  and never sooner than ``spread`` x the time it has already been missing: on loopback the round
  trip is ~1 ms, so fixed 10 ms retries spent all requests in the first 100 ms of a 200 ms
  window, all of them inside one stall of the sender's loop (answered once, or not at all); spaced
  out, the last ones still go after the stall (10, 20, 30, 45, 68, 101, 152 ms);
- the round trip is measured from a NACK to the arrival of the packet it asked for (a
  receive-only peer has no other RTT), ``default_rtt_s`` until the first one;
- a packet missing for ``give_up_rtts`` round trips, bounded to ``[min_give_up_s, max_give_up_s]``
  (200-300 ms: at 20 % loss each way a request gets through 64 % of the time, so a short RTT
  needs 5+ attempts before giving up is cheaper than waiting), is given up: ``on_give_up(seqs)`` tells the jitter buffer, which drops the broken frames and
  holds the stream for a keyframe (``passthrough.MarkerJitterBuffer.give_up``).

Timers are the loop's ``call_later`` handles (no task), cancelled when the receiver stops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import RTCRtpReceiver
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint16_gt

from studio.webrtc import internals, trace

MAX_TRACKED = 1000  # a jump this big is a new stream, not a hole worth asking for


@dataclass
class _Missing:
    first_s: float
    asked_s: float
    requests: int


@dataclass
class NackCounters:
    requested: int = 0  # NACK entries sent (first requests and retries)
    retried: int = 0  # of which retries
    recovered: int = 0  # missing packets that arrived later
    given_up: int = 0


class NackRetry:
    """Missing-packet tracker with RTT-based retries and a time limit, for one video receiver."""

    def __init__(
        self,
        send_nack: Callable[[int, list[int]], None],
        on_give_up: Callable[[list[int]], None],
        *,
        default_rtt_s: float = 0.05,
        retry_rtts: float = 1.2,
        min_retry_s: float = 0.01,
        max_requests: int = 10,
        spread: float = 0.5,
        give_up_rtts: float = 6.0,
        min_give_up_s: float = 0.2,
        max_give_up_s: float = 0.3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < min_give_up_s <= max_give_up_s or max_requests < 1:
            raise ValueError("NackRetry: need 0 < min_give_up_s <= max_give_up_s and max_requests >= 1")
        self._send_nack = send_nack
        self._on_give_up = on_give_up
        self.rtt_s = default_rtt_s
        self._rtt_measured = False
        self.retry_rtts = retry_rtts
        self.min_retry_s = min_retry_s
        self.max_requests = max_requests
        self.spread = spread
        self.give_up_rtts = give_up_rtts
        self.min_give_up_s = min_give_up_s
        self.max_give_up_s = max_give_up_s
        self._clock = clock
        self._missing: dict[int, _Missing] = {}
        self._max_seq: int | None = None
        self._ssrc: int | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self.counters = NackCounters()

    # aiortc reads ``missing`` only after add() returns True, which ours never does
    @property
    def missing(self) -> set[int]:
        return set(self._missing)

    def retry_s(self, missing_for_s: float = 0.0) -> float:
        """Wait before asking again for a packet last asked for after ``missing_for_s``."""
        return max(self.min_retry_s, self.retry_rtts * self.rtt_s, self.spread * missing_for_s)

    def give_up_s(self) -> float:
        return min(self.max_give_up_s, max(self.min_give_up_s, self.give_up_rtts * self.rtt_s))

    def add(self, packet: RtpPacket) -> bool:
        """Note one received packet (after RTX unwrap); NACKs new gaps. Always False: the NACKs
        are ours, aiortc must not send its own."""
        if self._closed:
            return False
        seq, now = packet.sequence_number, self._clock()
        self._ssrc = packet.ssrc
        if self._max_seq is None:
            self._max_seq = seq
            return False
        if uint16_gt(seq, self._max_seq):
            gap = uint16_add(seq, -self._max_seq) - 1
            if gap > MAX_TRACKED:
                self._give_up(list(self._missing))
            else:
                new = [uint16_add(self._max_seq, i + 1) for i in range(gap)]
                for s in new:
                    self._missing[s] = _Missing(now, now, 1)
                if new:
                    self._request(new, retry=False)
            self._max_seq = seq
        else:
            found = self._missing.pop(seq, None)
            if found is not None:
                self.counters.recovered += 1
                if trace.enabled():
                    trace.event("nack_recovered", requests=found.requests,
                                wait_ms=round(1000 * (now - found.first_s), 1))
                if found.requests == 1:  # unambiguous: the answer to our only request
                    self._sample_rtt(now - found.asked_s)
        self._schedule()
        return False

    def close(self) -> None:
        self._closed = True
        self._missing.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _sample_rtt(self, sample: float) -> None:
        sample = min(max(sample, 0.001), 1.0)
        self.rtt_s = sample if not self._rtt_measured else 0.8 * self.rtt_s + 0.2 * sample
        self._rtt_measured = True

    def _request(self, seqs: list[int], retry: bool) -> None:
        if self._ssrc is None or not seqs:
            return
        self.counters.requested += len(seqs)
        if retry:
            self.counters.retried += len(seqs)
        self._send_nack(self._ssrc, sorted(seqs))  # ascending numbers: aiortc packs them as PID+BLP

    def _give_up(self, seqs: list[int]) -> None:
        gone = [m for m in (self._missing.pop(s, None) for s in seqs) if m is not None]
        if seqs:
            self.counters.given_up += len(seqs)
            if trace.enabled():
                now = self._clock()
                trace.event("nack_give_up", seqs=len(seqs), requests=[m.requests for m in gone],
                            age_ms=round(1000 * max((now - m.first_s for m in gone), default=0.0), 1),
                            rtt_ms=round(1000 * self.rtt_s, 2))
            self._on_give_up(seqs)

    def _next_due(self) -> float | None:
        if not self._missing:
            return None
        limit = self.give_up_s()
        due = []
        for m in self._missing.values():
            due.append(m.first_s + limit)
            if m.requests < self.max_requests:
                due.append(m.asked_s + self.retry_s(m.asked_s - m.first_s))
        return min(due)

    def _schedule(self) -> None:
        due = self._next_due()
        if self._timer is not None:
            if due is not None and abs(self._timer.when() - self._loop_time(due)) < 0.002:
                return
            self._timer.cancel()
            self._timer = None
        if due is None or self._closed:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(self._loop_time(due), self.poll)

    def _loop_time(self, at: float) -> float:
        return asyncio.get_running_loop().time() + max(0.0, at - self._clock())

    def poll(self) -> None:
        """Send the retries and give up the holes that are due (the timer calls this)."""
        self._timer = None
        if self._closed:
            return
        now = self._clock()
        limit = self.give_up_s()
        expired = [s for s, m in self._missing.items() if now - m.first_s >= limit - 1e-4]
        self._give_up(expired)
        again = []
        for s, m in self._missing.items():
            retry = self.retry_s(m.asked_s - m.first_s)
            if m.requests < self.max_requests and now - m.asked_s >= retry - 1e-4:
                m.asked_s, m.requests = now, m.requests + 1
                again.append(s)
        self._request(again, retry=True)
        self._schedule()


def attach(
    receiver: RTCRtpReceiver, on_give_up: Callable[[list[int]], None], **options: float
) -> NackRetry:
    """Replace ``receiver``'s NACK generator (a video receiver, before media arrives)."""

    def send_nack(ssrc: int, seqs: list[int]) -> None:
        asyncio.ensure_future(receiver._send_rtcp_nack(ssrc, seqs))

    nack = NackRetry(send_nack, on_give_up, **options)  # type: ignore[arg-type]
    setattr(receiver, internals.RECEIVER_NACK_GENERATOR, nack)
    original_stop = receiver.stop

    async def stop() -> None:
        nack.close()
        await original_stop()

    setattr(receiver, "stop", stop)  # noqa: B010 (instance override)
    return nack


__all__ = ["NackCounters", "NackRetry", "attach"]
