"""Studio WHIP output -> embedded relay -> aiortc viewer with random packet loss on both legs.

Loss is injected at the packet level: a seeded 10 % of the RTP packets (originals and
retransmissions alike) arriving at the relay's ingest and at the viewer are dropped.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av
import pytest
from test_relay_loopback import Recorder, Watcher, nal_units
from whep_viewer import open_viewer

from studio.net import NetLoop
from studio.outputs.whip import WhipConfig, WhipOutput
from studio.outputs.whip_events import OutputStatus
from studio.services.relay import RelayServer
from studio.webrtc.nack_retry import NackRetry
from studio.webrtc.synthetic import SyntheticH264, SyntheticOpus, SyntheticPump

WAIT = 60.0
LOSS = 0.10


class RandomLoss:
    """Drops a seeded share of the RTP packets a DTLS transport receives (after decryption)."""

    def __init__(self, transport: Any, seed: int) -> None:
        self.rng = random.Random(seed)
        self.dropped = 0
        self.passed = 0
        original = transport._handle_rtp_data

        async def handle(data: bytes, arrival_time_ms: int) -> None:
            if self.rng.random() < LOSS:
                self.dropped += 1
                return
            self.passed += 1
            await original(data, arrival_time_ms)

        transport._handle_rtp_data = handle


@dataclass
class Show:
    net: NetLoop
    relay: RelayServer
    output: WhipOutput
    watcher: Watcher
    recorder: Recorder
    keyframes_asked: list[int]


@pytest.fixture
def show() -> Iterator[Show]:
    net = NetLoop()
    net.start()
    relay = RelayServer()  # the product's 1 s keyframe-request limit
    net.run(relay.start())
    video, audio = SyntheticH264(320, 240, 30), SyntheticOpus()
    video.encode_next()
    recorder = Recorder()
    config = WhipConfig(url=relay.url("/whip/live"), video=video.stream_info(), audio=audio.stream_info())
    output = WhipOutput(config, net)
    watcher = Watcher(output)
    asked: list[int] = []
    lock = threading.Lock()

    def keyframe() -> None:
        with lock:
            asked.append(1)
        video.request_keyframe()

    output.on_keyframe_request = keyframe
    recorder.output = output
    pump = SyntheticPump(video, recorder, audio)
    pump.start()
    output.start()
    try:
        yield Show(net, relay, output, watcher, recorder, asked)
    finally:
        pump.stop()
        output.stop()
        net.run(relay.stop())
        net.stop()


def test_frames_cross_two_lossy_legs_intact(show: Show) -> None:
    show.watcher.wait_state(OutputStatus.LIVE)

    async def watch() -> tuple[list[object], RandomLoss, RandomLoss, NackRetry]:
        stream = show.relay.streams["live"]
        assert stream.ingest is not None
        ingest_receiver = stream.ingest.receivers["video"]
        ingest_loss = RandomLoss(ingest_receiver.transport, seed=11)
        viewer = await open_viewer(show.relay.url("/whep/live"), encoded=True)
        viewer_loss = RandomLoss(viewer.receivers["video"].transport, seed=12)
        try:
            packets = await viewer.wait("video", 90)  # ~3 s at 30 fps through both legs
            nack = getattr(ingest_receiver, "_RTCRtpReceiver__nack_generator")  # noqa: B009
            assert isinstance(nack, NackRetry)
            return list(packets), ingest_loss, viewer_loss, nack
        finally:
            await viewer.close()

    packets, ingest_loss, viewer_loss, nack = show.net.run(watch(), WAIT)
    assert ingest_loss.dropped > 0 and viewer_loss.dropped > 0
    # nothing broken was passed on: every NAL unit the viewer got is one the studio sent
    received = [nal for p in packets if isinstance(p, av.Packet) for nal in nal_units(bytes(p))]
    assert received and set(received) <= show.recorder.sent_nals
    # the relay asked for what it lost (and again when a retransmission was lost too)
    assert nack.counters.requested > 0 and nack.counters.recovered > 0
    # the studio answered from its time-sized history, and says so in its stats
    show.watcher.wait(lambda: any(s.retransmissions > 0 for s in show.watcher.stats))
    stream = show.relay.streams["live"]
    # every keyframe request that reached the studio went through the relay's one rate limit
    show.watcher.wait(lambda: bool(show.watcher.stats))
    assert show.watcher.stats[-1].plis <= stream.plis_upstream
