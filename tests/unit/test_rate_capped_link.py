"""The rate controller on a capped link, simulated packet by packet (issue 11: ``up1m``).

A deterministic, event-driven model of the bench's path: an encoder that makes what the target
allows (at most what the picture needs), Opus beside it, every packet through a token-bucket link
like ``tc tbf rate R burst 15000 latency 100ms`` (headers counted, a full queue drops), and a
receiver that NACKs each gap when the next packet arrives and sends a receiver report every
second: extended highest sequence number, cumulative loss, its round trip (queueing included).
NACKs go through ``NackedShare`` and the reports through ``DeliveredRate``, with the sizes and send
times we sent at, into the ``RateController``, as ``feedback.attach`` and the pipeline do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.outputs.ratecontrol import RateController
from studio.webrtc.delivered_rate import NACK_QUEUE_S, DeliveredRate, NackedShare
from studio.webrtc.feedback import NACKED_CAPPED

FPS = 30
PACKET = 1200  # payload bytes per video packet at most
HEADERS = 50  # IP + UDP + RTP + SRTP bytes per packet: the link carries them too
AUDIO_BPS = 128_000
OTHER_BPS = AUDIO_BPS + 70_000  # what the pipeline tells the controller (audio + headers)
BASE_RTT_S = 0.01
BURST = 15_000
LATENCY_S = 0.1


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class TokenBucketLink:
    """Fluid model of tbf: a burst passes at once, then a queue drained at ``rate_bps``; a packet
    that would wait longer than the latency limit is dropped."""

    rate_bps: float | None = None  # None: no cap
    backlog: float = 0.0  # bytes beyond what the burst lets through at once
    last: float = 0.0
    dropped: int = 0

    def delay(self, now: float, size: int) -> float | None:
        """Queueing delay of a packet sent now, or None when the link drops it."""
        if self.rate_bps is None:
            return 0.0
        rate = self.rate_bps / 8
        self.backlog = max(0.0, self.backlog - (now - self.last) * rate)
        self.last = now
        if self.backlog + size > BURST + rate * LATENCY_S:
            self.dropped += 1
            return None
        self.backlog += size
        return max(0.0, self.backlog - BURST) / rate

    def queue_delay(self, now: float) -> float:
        if self.rate_bps is None:
            return 0.0
        backlog = max(0.0, self.backlog - (now - self.last) * self.rate_bps / 8)
        return max(0.0, backlog - BURST) / (self.rate_bps / 8)


@dataclass
class Path:
    link: TokenBucketLink = field(default_factory=TokenBucketLink)
    sizes: dict[int, int] = field(default_factory=dict)  # seq -> payload bytes (the sender's history)
    sent: list[tuple[float, int, int]] = field(default_factory=list)  # (time, seq, payload) of video
    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (arrival time, seq) of video
    nacks: list[tuple[float, int]] = field(default_factory=list)  # (time it reaches us, seq)
    seq: int = 0
    sent_bytes: int = 0  # payload, video + audio, this second (what WhipStats.bitrate_bps counts)
    _lost: list[int] = field(default_factory=list)  # dropped, not yet seen missing by the receiver

    def send_video(self, now: float, payload: int) -> None:
        self.sizes[self.seq & 0xFFFF] = payload
        self.sent.append((now, self.seq, payload))
        self.sent_bytes += payload
        delay = self.link.delay(now, payload + HEADERS)
        if delay is None:
            self._lost.append(self.seq)
        else:
            arrival = now + BASE_RTT_S / 2 + delay
            self.arrivals.append((arrival, self.seq))
            # the next packet that arrives shows the gap: its NACK comes back half a round trip later
            self.nacks.extend((arrival + BASE_RTT_S / 2, lost) for lost in self._lost)
            self._lost.clear()
        self.seq += 1

    def send_audio(self, now: float, payload: int) -> None:
        self.sent_bytes += payload
        self.link.delay(now, payload + HEADERS)

    def sent_between(self, start: float, end: float) -> list[tuple[int, int]]:
        return [(seq & 0xFFFF, size) for t, seq, size in self.sent if start <= t <= end]

    def nacks_due(self, now: float) -> list[int]:
        due = [seq for t, seq in self.nacks if t <= now]
        self.nacks = [(t, seq) for t, seq in self.nacks if t > now]
        return due

    def report(self, now: float) -> tuple[int, int]:
        """(extended highest sequence, cumulative lost) as the receiver knows them now."""
        got = [seq for t, seq in self.arrivals if t <= now]
        highest = max(got)
        return highest, highest + 1 - len(got)


def run(cap_at_s: float, cap_bps: int, seconds: float, picture_bps: int = 2_000_000
        ) -> tuple[list[tuple[float, int, int]], Path]:
    """Simulate in 1 ms steps; returns per second (end time, payload bits sent, target kbps) and the path."""
    clock = Clock()
    rc = RateController(lambda kbps: None, 300, 6000, 5000, clock=clock, other_bps=OTHER_BPS)
    path = Path()
    delivered = DeliveredRate(path.sizes.get, clock)
    nacked = NackedShare(path.sent_between, clock)
    seconds_log: list[tuple[float, int, int]] = []
    last_lost, last_expected = 0, 0
    for tick in range(int(seconds * 1000)):
        now = clock.now = tick / 1000
        if tick == int(cap_at_s * 1000):
            path.link.rate_bps = cap_bps
            path.link.last = now
        if tick * FPS // 1000 != (tick - 1) * FPS // 1000:  # a frame, at what the target allows
            frame = min(rc.target_kbps * 1000, picture_bps) // 8 // FPS
            while frame > 0:
                path.send_video(now, min(PACKET, frame))
                frame -= PACKET
        if tick % 20 == 0:
            path.send_audio(now, AUDIO_BPS // 8 // 50)
        due = path.nacks_due(now)
        if due:
            fast = nacked.on_nack(due, BASE_RTT_S)
            if fast is not None and fast.loss >= NACKED_CAPPED:
                rc.on_receiver_report(fast.loss, None, fast.bps, fast.interval_s + NACK_QUEUE_S + BASE_RTT_S,
                                      fast.sent_bps)
        if tick % 1000 == 500 and path.arrivals:  # a receiver report, half a second off the stats
            highest, lost = path.report(now)
            fraction = (lost - last_lost) / max(1, highest + 1 - last_expected)
            last_lost, last_expected = lost, highest + 1
            got = delivered.on_report(highest, lost)
            rc.on_receiver_report(fraction, BASE_RTT_S + path.link.queue_delay(now), got.bps if got else None,
                                  got.interval_s if got else 0.0)  # as the pipeline: bursts only from NACKs
        if tick % 1000 == 999:  # the stats poll: what we sent this second
            rc.on_send_rate(path.sent_bytes * 8)
            seconds_log.append((round(now + 0.001), path.sent_bytes * 8, rc.target_kbps))
            path.sent_bytes = 0
    return seconds_log, path


def test_a_1_mbit_uplink_is_found_at_once_and_the_stream_stays_under_it() -> None:
    log, path = run(cap_at_s=5.2, cap_bps=1_000_000, seconds=45.0)
    assert all(sent > 1_500_000 for t, sent, _ in log if 2 <= t <= 5)  # the picture's own rate, link wide
    after = [(t, sent, target) for t, sent, target in log if 7 <= t <= 35]
    # the second that holds the cap can be over; from the next one on, ~0.8x the link to the end
    # (the first window after the cap also carries tbf's 15 kB burst: the link measures ~8 % high),
    # and the link is used, not starved
    assert all(sent <= 820_000 for _, sent, _ in after), after
    assert all(target >= 550 for _, _, target in after), after
    assert path.link.dropped > 0  # the cap did bite: that is how it was found
    # after the hold (30 s) the estimate grows again, slowly: a link that got better is found
    assert log[-1][2] > after[-1][2]


def test_no_probing_into_the_measured_link_for_the_hold() -> None:
    _, settled = run(cap_at_s=2.0, cap_bps=1_000_000, seconds=8.0)
    _, later = run(cap_at_s=2.0, cap_bps=1_000_000, seconds=31.0)
    assert later.link.dropped == settled.link.dropped  # nothing lost from settling to 31 s


def test_a_2_mbit_uplink_is_found_from_the_queue_and_the_loss() -> None:
    log, path = run(cap_at_s=5.0, cap_bps=2_000_000, seconds=30.0, picture_bps=2_400_000)
    after = [(t, sent, target) for t, sent, target in log if t >= 8]
    assert all(sent <= 1_600_000 for _, sent, _ in after), after
    assert all(target >= 1000 for _, _, target in after), after
