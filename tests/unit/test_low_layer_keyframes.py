"""The low layer's keyframe requests: one the encoder would ignore (within its hold-off after an
IDR) is made once the hold-off has passed, so a viewer moving down waits half a second at most, not
a whole GOP."""

from __future__ import annotations

import math

from encoders.colorspace import I420Buffer
from encoders.settings import VideoEncoderSettings
from encoders.video import KEYFRAME_REQUEST_HOLDOFF_S, VideoEncoder
from studio.bench.encode import moving_card
from studio.outputs.low_layer import KeyframeRequests


def frames(requests: KeyframeRequests, pattern: str) -> None:
    """``K``: an IDR left the encoder, ``.``: another frame."""
    for c in pattern:
        requests.on_frame(c == "K")


def test_a_request_within_the_hold_off_is_made_once_it_has_passed() -> None:
    made: list[int] = []
    requests = KeyframeRequests(lambda: made.append(1), holdoff_frames=15)
    frames(requests, "K....")  # an IDR 4 frames ago: the encoder would ignore a request now
    requests.request()
    requests.request()  # the same viewer's next report, or another viewer: still one request
    assert made == []
    frames(requests, "." * 10)  # 14 frames since the IDR
    assert made == []
    frames(requests, ".")  # 15: the hold-off is over
    assert made == [1]
    frames(requests, "." * 30)
    assert made == [1]


def test_a_request_after_the_hold_off_goes_straight_to_the_encoder() -> None:
    made: list[int] = []
    requests = KeyframeRequests(lambda: made.append(1), holdoff_frames=15)
    requests.request()  # before any frame
    frames(requests, "K" + "." * 20)
    requests.request()
    assert made == [1, 1]


def test_an_idr_within_the_hold_off_answers_a_kept_request() -> None:
    made: list[int] = []
    requests = KeyframeRequests(lambda: made.append(1), holdoff_frames=15)
    frames(requests, "K..")
    requests.request()
    frames(requests, "..K" + "." * 20)  # a periodic (or another receiver's) IDR came first
    assert made == []


def test_with_the_real_encoder_the_kept_request_gets_an_idr_right_after_the_hold_off() -> None:
    fps = 30
    encoder = VideoEncoder(VideoEncoderSettings(width=320, height=180, fps=fps, encoder="libx264",
                                                keyframe_interval_s=2.0))
    holdoff = math.ceil(fps * KEYFRAME_REQUEST_HOLDOFF_S)
    requests = KeyframeRequests(encoder.request_keyframe, holdoff)
    picture = I420Buffer(320, 180)
    keyframes = []
    for i in range(50):
        if i == 3:  # a viewer moves down just after the layer's IDR: the encoder alone would ignore it
            requests.request()
        picture.fill_from_bgra(moving_card(320, 180, i))
        for packet in encoder.encode(picture, i):
            requests.on_frame(packet.keyframe)
            if packet.keyframe:
                keyframes.append(packet.pts)
    assert keyframes == [0, holdoff + 1]  # not the GOP's next IDR at frame 60
