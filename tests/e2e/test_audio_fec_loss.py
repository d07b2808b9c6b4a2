"""Opus FEC end to end: loss on the studio's uplink comes back in real RTCP receiver reports, and
the stream's Opus encoder starts protecting its packets with in-band FEC (issue 11, item 6)."""

from __future__ import annotations

import random
import threading
from collections.abc import Awaitable, Callable

from aiortc.rtp import is_rtcp
from pattern_show import pattern_collection

from encoders.packets import EncodedPacket
from studio.audio.inputs import ToneInput
from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.net.loop import NetLoop
from studio.outputs.pipeline import OutputPipeline, StreamTarget
from studio.outputs.whip_events import OutputStatus, WhipStats
from studio.services.relay import RelayServer

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


def test_uplink_loss_turns_on_opus_fec() -> None:
    col = pattern_collection()
    studio = Studio(col)
    mixer = AudioMixer()
    mixer.add_input(ToneInput("tone", level_dbfs=-12.0))  # FEC protects sound: silence needs none
    net = NetLoop()
    net.start()
    pipeline = OutputPipeline(studio, mixer, net=net)
    relay = RelayServer(port=0)
    net.run(relay.start())
    live = threading.Event()
    protected = threading.Event()
    seen: list[WhipStats] = []
    pipeline.stream_state.connect(lambda s: live.set() if s.state is OutputStatus.LIVE else None)

    def watch(stats: WhipStats) -> None:
        seen.append(stats)
        opus = pipeline._opus
        if opus is not None and opus.stats().expected_loss_pct > 0:
            protected.set()

    pipeline.stream_stats.connect(watch)
    spy = OpusSpy()
    lossy = threading.Event()
    try:
        studio.start()
        mixer.start()
        stream = pipeline.start_streaming(StreamTarget(relay.url("/whip/live")))
        assert live.wait(60), stream.state
        opus = pipeline._opus
        assert opus is not None and opus.stats().expected_loss_pct == 0  # a clean link pays nothing

        async def drop_uplink_packets() -> None:
            transport = stream._senders[0].transport
            send: Callable[[bytes], Awaitable[None]] = transport._send_rtp
            rng = random.Random(5)

            async def lossy_send(data: bytes) -> None:
                if lossy.is_set() and not is_rtcp(data) and rng.random() < LOSS:
                    return
                await send(data)

            transport._send_rtp = lossy_send  # type: ignore[method-assign]

        net.run(drop_uplink_packets())
        lossy.set()
        assert protected.wait(60), [(s.packet_loss_pct, s.rtt_ms) for s in seen]
        pipeline.opus_fanout.add_sink("spy", spy)
        # the packets out of the encoder now carry FEC (a copy of the previous one, in the SILK layer)
        with spy.changed:
            assert spy.changed.wait_for(lambda: spy.with_fec() >= 3, 30), len(spy.packets)
        assert opus.stats().expected_loss_pct >= 5
    finally:
        lossy.clear()
        pipeline.opus_fanout.remove_sink("spy")
        pipeline.close()
        mixer.stop()
        studio.stop()
        net.run(relay.stop())
        net.stop()
