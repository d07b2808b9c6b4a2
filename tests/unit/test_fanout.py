"""Packet fan-out: every sink gets every packet, a stuck or broken sink never stalls the encoder,
and a queue that drops video resumes only at a keyframe."""

from __future__ import annotations

import threading
from fractions import Fraction

import pytest

from encoders.fanout import PacketFanout, QueueSink
from encoders.packets import EncodedPacket
from encoders.settings import VideoEncoderSettings
from encoders.video import VideoEncoderWorker
from studio.bench.encode import moving_card

VTB = Fraction(1, 30)
ATB = Fraction(1, 48_000)


def video(pts: int, key: bool = False) -> EncodedPacket:
    return EncodedPacket("video", b"\x00\x00\x00\x01" + bytes([0x65 if key else 0x41]), pts, VTB, key)


def audio(pts: int) -> EncodedPacket:
    return EncodedPacket("audio", b"\xfc", pts, ATB, True)


class Counting:
    def __init__(self) -> None:
        self.packets: list[EncodedPacket] = []
        self._cond = threading.Condition()

    def put(self, packet: EncodedPacket) -> None:
        with self._cond:
            self.packets.append(packet)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.packets) >= count, timeout)


class Broken:
    def put(self, packet: EncodedPacket) -> None:
        raise RuntimeError("output crashed")


def test_every_sink_gets_every_packet_and_sinks_come_and_go() -> None:
    fanout = PacketFanout()
    a, b = Counting(), Counting()
    fanout.add_sink("a", a)
    fanout.add_sink("b", b)
    with pytest.raises(ValueError, match="already exists"):
        fanout.add_sink("a", Counting())
    with pytest.raises(ValueError, match="empty"):
        fanout.add_sink("", Counting())
    fanout.publish(video(0, key=True))
    assert fanout.remove_sink("b") is b
    assert fanout.remove_sink("b") is None
    fanout.put(video(1))  # the fan-out is itself a PacketSink
    assert [p.pts for p in a.packets] == [0, 1] and [p.pts for p in b.packets] == [0]
    assert fanout.sink_names == ["a"] and fanout.published == 2


@pytest.mark.expect_logged_errors("packet sink 'broken' failed")
def test_a_broken_sink_does_not_starve_the_others(caplog: pytest.LogCaptureFixture) -> None:
    fanout = PacketFanout()
    good = Counting()
    fanout.add_sink("broken", Broken())
    fanout.add_sink("good", good)
    for i in range(5):
        fanout.publish(audio(i * 960))
    assert len(good.packets) == 5 and fanout.sink_errors == 5
    assert "packet sink 'broken' failed" in caplog.text


def test_a_sink_that_never_drains_drops_and_counts_without_blocking() -> None:
    fanout = PacketFanout()
    stuck = QueueSink(maxsize=4, policy="drop")
    live = Counting()
    fanout.add_sink("stuck", stuck)
    fanout.add_sink("live", live)
    for i in range(100):
        fanout.publish(video(i, key=i % 30 == 0))
    assert len(live.packets) == 100
    assert len(stuck) == 4 and stuck.accepted == 4 and stuck.dropped == 96


def test_dropped_video_resumes_only_at_a_keyframe_while_audio_flows() -> None:
    q = QueueSink(maxsize=3, policy="drop")
    for packet in (video(0, key=True), video(1), video(2)):
        q.put(packet)
    q.put(video(3))  # full: dropped, so 4 and 5 would reference a missing frame
    assert [q.get_nowait() for _ in range(3)] == [video(0, key=True), video(1), video(2)]
    q.put(video(4))
    q.put(audio(100))
    q.put(video(5))
    q.put(video(6, key=True))
    q.put(video(7))
    got = [q.get_nowait() for _ in range(len(q))]
    assert got == [audio(100), video(6, key=True), video(7)]
    assert q.dropped == 3 and q.overflowed == 1


def test_buffer_policy_counts_overflow_and_close_wakes_a_reader() -> None:
    q = QueueSink(maxsize=2, policy="buffer")
    for i in range(5):
        q.put(audio(i))
    assert q.overflowed == 3 and len(q) == 2
    assert q.get(timeout=0.01) == audio(0)
    results: list[EncodedPacket | None] = []
    q.get_nowait()
    reader = threading.Thread(target=lambda: results.append(q.get(timeout=30)), name="reader")
    reader.start()
    q.close()
    reader.join(10)
    assert not reader.is_alive() and results == [None]
    q.put(audio(9))  # closed: ignored
    assert len(q) == 0 and q.closed
    with pytest.raises(ValueError, match="policy"):
        QueueSink(policy="block")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="maxsize"):
        QueueSink(maxsize=0)


def test_the_encoder_keeps_encoding_past_a_stuck_sink() -> None:
    fanout = PacketFanout()
    stuck = QueueSink(maxsize=2, policy="drop")
    live = Counting()
    fanout.add_sink("stuck", stuck)
    fanout.add_sink("live", live)
    worker = VideoEncoderWorker(
        VideoEncoderSettings(encoder="libx264", width=160, height=90, bitrate_kbps=200), fanout
    )
    worker.start()
    try:
        for i in range(40):
            assert worker.submit(moving_card(160, 90, i), i)
            assert live.wait_for(i + 1)  # each frame comes out although "stuck" is never read
    finally:
        worker.stop()
    assert worker.stats().encoded == 40 and worker.stats().skipped == 0
    assert len(stuck) == 2 and stuck.dropped == 38
