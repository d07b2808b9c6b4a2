"""Picture sizes read from encoded keyframes (the relay refuses a co-host sending 4K)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from studio.webrtc.frame_size import frame_size
from studio.webrtc.passthrough import any_is_keyframe, h264_is_keyframe, vp8_is_keyframe


def keyframe(codec: str, width: int, height: int, profile: str | None = None) -> bytes:
    encoder = av.CodecContext.create("libx264" if codec == "h264" else "libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 30)
    options = {"preset": "ultrafast", "tune": "zerolatency"} if codec == "h264" else {"deadline": "realtime", "cpu-used": "8"}
    if profile:
        options["profile"] = profile
    encoder.options = options
    frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24").reformat(format="yuv420p")
    frame.pts = 0
    data = b"".join(bytes(p) for p in encoder.encode(frame)) + b"".join(bytes(p) for p in encoder.encode(None))
    return data


@pytest.mark.parametrize(("codec", "width", "height", "profile"), [
    ("h264", 1280, 720, "baseline"), ("h264", 640, 360, "high"), ("h264", 3840, 2160, None),
    ("vp8", 1280, 720, None), ("vp8", 3840, 2160, None), ("h264", 322, 242, "main"),
])
def test_sizes_from_keyframes(codec: str, width: int, height: int, profile: str | None) -> None:
    data = keyframe(codec, width, height, profile)
    assert frame_size(codec, data) == (width, height)
    assert any_is_keyframe(data)
    assert (h264_is_keyframe if codec == "h264" else vp8_is_keyframe)(data)


def test_no_size_without_a_header() -> None:
    assert frame_size("h264", b"\x00\x00\x00\x01\x41\x9a") is None
    assert frame_size("vp8", b"\x01\x02\x03") is None
    assert frame_size("opus", b"\x00") is None
    assert not vp8_is_keyframe(b"\x00\x00\x00\x01\x65" + bytes(10))
