"""Keyframe requests are coalesced at the encoder: storms of PLIs cost one IDR (issue 11, item 5)."""

from __future__ import annotations

from encoders.colorspace import I420Buffer
from encoders.packets import EncodedPacket
from encoders.settings import VideoEncoderSettings
from encoders.video import KEYFRAME_REQUEST_HOLDOFF_S, VideoEncoder
from studio.bench.encode import moving_card

FPS = 30


def keyframes_with_requests(requests: dict[int, int], frames: int = 55, force: bool = False) -> list[int]:
    encoder = VideoEncoder(
        VideoEncoderSettings(width=320, height=180, fps=FPS, encoder="libx264", keyframe_interval_s=2.0)
    )
    picture = I420Buffer(320, 180)
    packets: list[EncodedPacket] = []
    for i in range(frames):
        for _ in range(requests.get(i, 0)):
            (encoder.force_keyframe if force else encoder.request_keyframe)()
        picture.fill_from_bgra(moving_card(320, 180, i))
        packets.extend(encoder.encode(picture, i))
    return [p.pts for p in packets if p.keyframe]


def test_requests_soon_after_an_idr_are_answered_by_it() -> None:
    holdoff = int(FPS * KEYFRAME_REQUEST_HOLDOFF_S)
    # frame 0 is an IDR; requests within the hold-off are ignored, the first one after it is not
    assert keyframes_with_requests({3: 1, holdoff - 1: 1, holdoff + 5: 1}) == [0, holdoff + 5]


def test_a_burst_of_requests_costs_one_idr() -> None:
    # twenty viewers' PLIs (and the relay's own) arriving for one frame, then again two frames later
    assert keyframes_with_requests({40: 20, 42: 20}) == [0, 40]


def test_forced_keyframes_are_not_held_back() -> None:
    # a recording starting needs its IDR now, whatever was sent just before
    assert keyframes_with_requests({3: 1}, frames=10, force=True) == [0, 3]
