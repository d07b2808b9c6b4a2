"""Keyframe requests are coalesced at the encoder (real libx264; issue 11, item 5): storms of PLIs cost
one IDR; a request within the hold-off after an IDR is kept and made once the hold-off has passed (a
viewer moving down to the low layer, or a step's first IDR lost on a capped uplink, waits half a
second at most, not a whole GOP), and an IDR before then answers it."""

from __future__ import annotations

import math

from encoders.colorspace import I420Buffer
from encoders.packets import EncodedPacket
from encoders.settings import VideoEncoderSettings
from encoders.video import KEYFRAME_REQUEST_HOLDOFF_S, VideoEncoder
from studio.bench.encode import moving_card

FPS = 30
HOLDOFF = math.ceil(FPS * KEYFRAME_REQUEST_HOLDOFF_S)


def keyframes_with_requests(requests: dict[int, int], frames: int = 55, forced: frozenset[int] = frozenset()) -> list[int]:
    """The keyframes' pts over ``frames`` frames (GOP 2 s), with ``requests[i]`` receiver requests
    before frame i and the owner forcing an IDR (a recording starting, a step) before those in ``forced``."""
    encoder = VideoEncoder(
        VideoEncoderSettings(width=320, height=180, fps=FPS, encoder="libx264", keyframe_interval_s=2.0)
    )
    picture = I420Buffer(320, 180)
    packets: list[EncodedPacket] = []
    for i in range(frames):
        for _ in range(requests.get(i, 0)):
            encoder.request_keyframe()
        if i in forced:
            encoder.force_keyframe()
        picture.fill_from_bgra(moving_card(320, 180, i))
        packets.extend(encoder.encode(picture, i))
    encoder.close()
    return [p.pts for p in packets if p.keyframe]


def test_requests_within_the_hold_off_get_one_idr_right_after_it() -> None:
    # frame 0 is an IDR; two requests within the hold-off (the encoder used to drop them): one IDR
    # once it has passed, not the GOP's next at frame 60
    assert keyframes_with_requests({3: 1, HOLDOFF - 1: 1}) == [0, HOLDOFF]


def test_a_request_after_the_hold_off_is_answered_at_once() -> None:
    assert keyframes_with_requests({HOLDOFF + 5: 1}) == [0, HOLDOFF + 5]


def test_an_idr_within_the_hold_off_answers_a_kept_request() -> None:
    # a forced IDR (a step's, a recording's) comes first: it answers the held request
    assert keyframes_with_requests({3: 1}, forced=frozenset({8})) == [0, 8]


def test_a_burst_of_requests_costs_one_idr_per_hold_off() -> None:
    # twenty viewers' PLIs (and the relay's own) arriving for one frame: one IDR; twenty more two
    # frames later, after it left (lost on the way, or asked before it arrived): one more, a hold-off on
    assert keyframes_with_requests({40: 20}, frames=80) == [0, 40]
    assert keyframes_with_requests({40: 20, 42: 20}, frames=80) == [0, 40, 40 + HOLDOFF]


def test_forced_keyframes_are_not_held_back() -> None:
    # a recording starting needs its IDR now, whatever was sent just before
    assert keyframes_with_requests({}, frames=10, forced=frozenset({3})) == [0, 3]
