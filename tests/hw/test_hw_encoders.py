"""Real hardware H.264 encoders (NVENC, QSV, AMF, VA-API, VideoToolbox): skipped unless one opens.

Each one that opens here must give the same stream contract as libx264: Annex B with SPS/PPS
before every IDR, no B-frames (pts in order), an IDR on request, and a decodable 1080p picture.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

from encoders import probe
from encoders.colorspace import I420Buffer
from encoders.h264 import NAL_IDR, NAL_PPS, NAL_SPS, nal_types
from encoders.packets import EncodedPacket
from encoders.settings import SOFTWARE_ENCODER, VIDEO_ENCODERS, VideoEncoderSettings
from encoders.video import VideoEncoder
from studio.bench.encode import moving_card

HARDWARE = [name for name in VIDEO_ENCODERS if name != SOFTWARE_ENCODER]
_usable = {name for name, result in probe.probe_encoders(tuple(HARDWARE)).items() if result.ok}

pytestmark = [
    pytest.mark.hw,
    pytest.mark.skipif(not _usable, reason="no hardware H.264 encoder opens on this machine"),
]


@pytest.mark.parametrize("name", sorted(_usable) or ["none"])
def test_hardware_encoder_meets_the_stream_contract(name: str) -> None:
    encoder = VideoEncoder(VideoEncoderSettings(encoder=name))  # 1080p30, 5 Mbps
    assert encoder.name == name and encoder.fallbacks == []
    picture = I420Buffer(1920, 1080)
    sources: list[np.ndarray] = []
    packets: list[EncodedPacket] = []
    for i in range(12):
        if i == 7:
            encoder.force_keyframe()
        picture.fill_from_bgra(moving_card(1920, 1080, i))
        sources.append(picture.array.copy())
        packets.extend(encoder.encode(picture, i))
    packets.extend(encoder.flush())
    assert [p.pts for p in packets] == list(range(12))  # no B-frames, nothing held back
    for p in packets:
        if p.keyframe:
            types = nal_types(p.data)
            assert NAL_SPS in types and NAL_PPS in types and NAL_IDR in types
    assert packets[7].keyframe
    decoder = av.CodecContext.create("h264", "r")
    frames = [f for p in packets for f in decoder.decode(av.Packet(p.data))]  # type: ignore[arg-type]
    frames += decoder.decode(None)  # type: ignore[arg-type]
    assert len(frames) == 12
    last = frames[-1].to_ndarray(format="yuv420p").astype(np.float64)
    mse = float(np.mean((last - sources[-1]) ** 2))
    assert 10 * np.log10(255**2 / max(mse, 1e-9)) >= 35.0
