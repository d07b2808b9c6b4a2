"""The stream's scaled rendition sends what the rate controller asks for (issue 11: on a 1 Mbit/s
uplink the 360p30 rendition was said to send 1.4-1.7x its 520-534 kbit/s target).

The real path: a 1280x720 main worker -> its picture tap -> ``StreamRendition``'s scaled libx264
worker at 640x360 30 fps, started a rung higher and stepped down, with the live bitrate changes
(no IDR) the rate controller makes once a second and a receiver's keyframe requests. Frames go in
lock step (each frame's packet is out before the next goes in), so every change lands on a known
frame, and the rate is bytes per 60 frames of media (2 s at 30 fps), not wall time: deterministic.
"""

from __future__ import annotations

import threading
from functools import partial

from encoders.packets import EncodedPacket, PacketSink
from encoders.settings import VideoEncoderSettings
from encoders.video import VideoEncoderWorker
from studio.bench.encode import moving_card
from studio.outputs.ladder import Rung
from studio.outputs.stream_rendition import SCALED, StreamRendition

W, H, FPS = 1280, 720, 30
WINDOW = 60  # frames: 2 s of media
FRAMES = 360
WAIT = 30.0
R540, R360 = Rung(960, 540, FPS), Rung(640, 360, FPS)
# (frame, rung, kbit/s): what the rate controller and the ladder did on the 1 Mbit/s uplink: 540p,
# then 360p30 at a falling target, then its once-a-second wobble around 520-534
TARGETS = ((0, R540, 1200), (30, R360, 700), (60, R360, 600), (90, R360, 534), (120, R360, 560),
           (150, R360, 520), (180, R360, 534), (210, R360, 500), (240, R360, 534), (270, R360, 520),
           (300, R360, 534), (330, R360, 520))
KEYFRAME_REQUESTS = range(44, FRAMES, 45)  # a receiver's PLIs (each answered by an IDR)


class Forward:
    def __init__(self) -> None:
        self.target: PacketSink | None = None

    def put(self, packet: EncodedPacket) -> None:
        if self.target is not None:
            self.target.put(packet)


class Sink:
    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.packets: list[EncodedPacket] = []

    def put(self, packet: EncodedPacket) -> None:
        with self.changed:
            self.packets.append(packet)
            self.changed.notify_all()

    def reached(self, pts: int) -> bool:
        return any(p.pts >= pts for p in self.packets)


def test_the_scaled_rendition_sends_its_target_within_ten_percent_over_two_second_windows() -> None:
    settings = VideoEncoderSettings(encoder="libx264", width=W, height=H, fps=FPS, bitrate_kbps=2500)
    sink = Sink()
    to_switch = Forward()  # the main worker's packets go to the switch (as the pipeline's fan-out does)
    main = VideoEncoderWorker(settings, to_switch, queue_size=3)
    main.start()
    rendition = StreamRendition(main, settings, lambda: None)  # nothing records: the main encode pauses
    rendition.switch.set_sink(sink)
    to_switch.target = rendition.main_input
    changes = {frame: (rung, kbps) for frame, rung, kbps in TARGETS}
    target_at: list[int] = []
    scaled_from: int | None = None
    try:
        kbps = 0
        for i in range(FRAMES):
            if i in changes:
                rung, kbps = changes[i]
                rendition.apply(rung, False, kbps)
            if i in KEYFRAME_REQUESTS:
                rendition.request_keyframe()
            target_at.append(kbps)
            assert main.submit(moving_card(W, H, i), i)
            with sink.changed:  # lock step: this frame's packet is out before the next frame goes in
                assert sink.changed.wait_for(partial(sink.reached, i), WAIT), i
            if scaled_from is None and rendition.switch.active == SCALED:
                scaled_from = i
    finally:
        rendition.close()
        main.stop()
    assert scaled_from is not None and scaled_from <= 1  # the stream left the main encode at once
    sizes = [0] * FRAMES
    for packet in sink.packets:
        sizes[packet.pts] += len(packet.data)
    ratios = []
    for start in range(WINDOW, FRAMES, WINDOW):  # from 2 s on (the first second is at the 540p rung)
        sent_kbps = sum(sizes[start:start + WINDOW]) * 8 / 1000 * FPS / WINDOW
        target_kbps = sum(target_at[start:start + WINDOW]) / WINDOW
        ratios.append(round(sent_kbps / target_kbps, 2))
    # measured: 1.13 in the first window before (each reopen's fresh VBV and rate control spent 0.9 s of
    # extra allowance), 0.95-1.05 with REOPEN_VBV_INIT; below the target is a picture that needs less
    assert all(0.85 <= r <= 1.1 for r in ratios), ratios
