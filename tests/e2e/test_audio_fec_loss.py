"""Opus FEC end to end: loss on the studio's uplink comes back in real RTCP receiver reports, and
the stream's Opus encoder starts protecting its packets with in-band FEC (issue 11, item 6) -- unless
the server took RED: then RED's copies protect the sound, FEC stays off, and the rate controller
counts each copy as audio bits."""

from __future__ import annotations

import random
import threading
from collections.abc import Awaitable, Callable, Iterator

import pytest
from aiortc.rtp import is_rtcp
from pattern_show import pattern_collection

from encoders.packets import EncodedPacket
from studio.audio.inputs import ToneInput
from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget, other_bps
from studio.outputs.whip_events import OutputStatus, WhipStats
from studio.services.relay import RelayServer
from studio.webrtc import audio_red

LOSS = 0.15


def carries_fec(packet: bytes) -> bool:
    """A SILK/hybrid single-frame Opus packet with its LBRR (FEC) flag set (see test_webrtc_opus_fec)."""
    return packet[0] >> 3 < 16 and packet[0] & 3 == 0 and len(packet) > 1 and bool(packet[1] & 0x40)


class OpusSpy:
    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.packets: list[bytes] = []

    def put(self, packet: EncodedPacket) -> None:
        with self.changed:
            self.packets.append(packet.data)
            self.changed.notify_all()

    def with_fec(self) -> int:
        return sum(carries_fec(p) for p in self.packets)


class LossyStream:
    """The demo pattern with a tone streamed to our relay; ``lossy`` drops LOSS of the uplink's RTP."""

    def __init__(self) -> None:
        self.studio = Studio(pattern_collection())
        self.mixer = AudioMixer()
        self.mixer.add_input(ToneInput("tone", level_dbfs=-12.0))  # FEC protects sound: silence needs none
        self.net = NetLoop()
        self.net.start()
        self.pipeline = OutputPipeline(self.studio, self.mixer, net=self.net)
        self.relay = RelayServer(port=0)
        self.net.run(self.relay.start())
        self.live = threading.Event()
        self.lossy = threading.Event()
        self.seen: list[WhipStats] = []
        self.changed = threading.Condition()
        self.spy = OpusSpy()
        self.pipeline.stream_state.connect(lambda s: self.live.set() if s.state is OutputStatus.LIVE else None)
        self.pipeline.stream_stats.connect(self._stats)

    def _stats(self, stats: WhipStats) -> None:
        with self.changed:
            self.seen.append(stats)
            self.changed.notify_all()

    def wait_for(self, condition: Callable[[], bool]) -> bool:
        with self.changed:
            return self.changed.wait_for(condition, 60)

    def start(self) -> None:
        self.studio.start()
        self.mixer.start()
        stream = self.pipeline.start_streaming(StreamTarget(self.relay.url("/whip/live")))
        assert self.live.wait(60), stream.state
        opus = self.pipeline._opus
        assert opus is not None and opus.stats().expected_loss_pct == 0  # a clean link pays nothing
        lossy = self.lossy

        async def drop_uplink_packets() -> None:
            transport = stream._senders[0].transport
            send: Callable[[bytes], Awaitable[None]] = transport._send_rtp
            rng = random.Random(5)

            async def lossy_send(data: bytes) -> None:
                if lossy.is_set() and not is_rtcp(data) and rng.random() < LOSS:
                    return
                await send(data)

            transport._send_rtp = lossy_send  # type: ignore[method-assign]

        self.net.run(drop_uplink_packets())
        lossy.set()

    def close(self) -> None:
        self.lossy.clear()
        self.pipeline.opus_fanout.remove_sink("spy")
        self.pipeline.close()
        self.mixer.stop()
        self.studio.stop()
        self.net.run(self.relay.stop())
        self.net.stop()


@pytest.fixture
def rig() -> Iterator[LossyStream]:
    rig = LossyStream()
    yield rig
    rig.close()


def test_uplink_loss_turns_on_opus_fec(rig: LossyStream, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(audio_red.ENV, "0")  # plain Opus: FEC is its only protection
    rig.start()
    opus = rig.pipeline._opus
    assert opus is not None

    def protected() -> bool:
        return opus.stats().expected_loss_pct > 0

    assert rig.wait_for(protected), [(s.packet_loss_pct, s.rtt_ms) for s in rig.seen]
    assert rig.seen[-1].audio_red_copies is None
    rig.pipeline.opus_fanout.add_sink("spy", rig.spy)
    # the packets out of the encoder now carry FEC (a copy of the previous one, in the SILK layer)
    with rig.spy.changed:
        assert rig.spy.changed.wait_for(lambda: rig.spy.with_fec() >= 3, 30), len(rig.spy.packets)
    assert opus.stats().expected_loss_pct >= 5


def test_with_red_copies_fec_stays_off_and_the_copies_count_as_audio_bits(rig: LossyStream) -> None:
    rig.start()
    stream, rate, opus = rig.pipeline.stream, rig.pipeline._rate, rig.pipeline._opus
    assert stream is not None and stream.audio_red is not None and stream.audio_red.active  # our relay takes RED
    assert rate is not None and opus is not None
    assert rate.other_bps == other_bps(0)  # a clean link: no copies yet
    assert rig.wait_for(lambda: any((s.audio_red_copies or 0) >= 1 for s in rig.seen)), \
        [(s.packet_loss_pct, s.audio_red_copies) for s in rig.seen]
    copies = stream.audio_red.policy.distance
    # the next stats tick has seen these copies
    count = len(rig.seen)
    assert rig.wait_for(lambda: len(rig.seen) > count)
    last = rig.seen[-1]
    assert last.audio_red_copies is not None and last.audio_red_copies >= 1
    assert rate.other_bps == other_bps(last.audio_red_copies) >= other_bps(0) + 128_000
    assert last.packet_loss_pct > 1  # the loss FEC would have answered
    assert opus.stats().expected_loss_pct == 0 and copies >= 1
    rig.pipeline.opus_fanout.add_sink("spy", rig.spy)
    with rig.spy.changed:
        assert rig.spy.changed.wait_for(lambda: len(rig.spy.packets) >= 50, 30)
        assert rig.spy.with_fec() == 0  # RED's copies restore a lost packet whole: no LBRR besides
