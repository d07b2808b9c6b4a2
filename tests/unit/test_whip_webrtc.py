"""aiortc bridging pieces: marker-bit release, pass-through packets, playout delay, codecs, track."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import pytest
from aiortc import RTCPeerConnection
from aiortc.codecs import CODECS
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import RtpPacket, unpack_header_extensions

from studio.webrtc import codecs, playout_delay
from studio.webrtc.packet_track import EncodedPacketTrack
from studio.webrtc.passthrough import InOrderAudioBuffer, MarkerJitterBuffer, h264_is_keyframe, to_packet
from studio.webrtc.synthetic import SyntheticH264


def _rtp(seq: int, ts: int, payload: bytes, marker: bool = False) -> RtpPacket:
    packet = RtpPacket(payload_type=97, sequence_number=seq, timestamp=ts, marker=int(marker))
    packet._data = payload  # type: ignore[attr-defined]  # what aiortc's depayloader sets
    return packet


def test_marker_bit_releases_a_frame_without_waiting_for_the_next() -> None:
    buffer = MarkerJitterBuffer()
    assert buffer.add(_rtp(10, 3000, b"a"))[1] is None
    assert buffer.add(_rtp(11, 3000, b"b"))[1] is None
    _, frame = buffer.add(_rtp(12, 3000, b"c", marker=True))
    assert frame is not None and frame.data == b"abc" and frame.timestamp == 3000
    _, frame = buffer.add(_rtp(13, 6000, b"d", marker=True))
    assert frame is not None and frame.data == b"d"


def test_marker_release_waits_for_reordered_packets() -> None:
    buffer = MarkerJitterBuffer()
    assert buffer.add(_rtp(1, 90, b"x"))[1] is None
    assert buffer.add(_rtp(3, 90, b"z", marker=True))[1] is None  # packet 2 still missing
    _, frame = buffer.add(_rtp(2, 90, b"y"))
    assert frame is not None and frame.data == b"xyz"


def test_lost_marker_falls_back_to_the_timestamp_change() -> None:
    buffer = MarkerJitterBuffer()
    buffer.add(_rtp(1, 90, b"x"))
    _, frame = buffer.add(_rtp(2, 180, b"y"))
    assert frame is not None and frame.data == b"x" and frame.timestamp == 90


def test_audio_buffer_releases_each_packet_and_tolerates_a_little_reordering() -> None:
    buffer = InOrderAudioBuffer(reorder_window=8)
    assert buffer.add(_rtp(5, 960, b"a"))[1] is not None
    assert buffer.add(_rtp(7, 2880, b"c"))[1] is not None
    late = buffer.add(_rtp(6, 1920, b"b"))[1]  # overtaken by one packet: still useful to the receiver
    assert late is not None and late.timestamp == 1920
    assert buffer.add(_rtp(6, 1920, b"b"))[1] is None  # a duplicate
    assert buffer.add(_rtp(20, 15 * 960, b"n"))[1] is not None
    assert buffer.add(_rtp(8, 3840, b"d"))[1] is None  # 12 packets late: played out already


def test_passthrough_packets_keep_keyframes_and_rtp_time() -> None:
    source = SyntheticH264(64, 48, 10)
    first, second = source.encode_next()[0], source.encode_next()[0]
    assert h264_is_keyframe(first.data) and not h264_is_keyframe(second.data)

    class Frame:
        data = first.data
        timestamp = 9000

    packet = to_packet("H264", 90000, Frame())  # type: ignore[arg-type]
    assert packet.is_keyframe and packet.pts == 9000 and packet.time_base == Fraction(1, 90000)
    assert bytes(packet) == first.data


def test_playout_delay_extension_is_written_when_negotiated() -> None:
    playout_delay.register()
    assert any(e.uri == playout_delay.PLAYOUT_DELAY_URI for e in playout_delay.HEADER_EXTENSIONS["video"])
    ext_map = playout_delay.PlayoutDelayExtensionsMap(0, 0)
    ext_map.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
                RTCRtpHeaderExtensionParameters(id=7, uri=playout_delay.PLAYOUT_DELAY_URI),
            ]
        )
    )
    packet = RtpPacket(payload_type=97, sequence_number=1, timestamp=0)
    packet.extensions.mid = "0"
    raw = packet.serialize(ext_map)
    assert raw[0] & 0x10  # X bit: a header extension follows the 12-byte header
    profile, words = int.from_bytes(raw[12:14], "big"), int.from_bytes(raw[14:16], "big")
    items = dict(unpack_header_extensions(profile, raw[16 : 16 + 4 * words]))
    assert items == {1: b"0", 7: b"\x00\x00\x00"}
    assert playout_delay.encode_delay(100, 200) == bytes([0x00, 0xA0, 0x14])
    with pytest.raises(ValueError):
        playout_delay.encode_delay(50, 10)


def test_h264_level_is_registered_and_offered_first() -> None:
    async def offer() -> str:
        pc = RTCPeerConnection()
        try:
            transceiver = pc.addTransceiver("video", direction="sendonly")
            transceiver.setCodecPreferences(codecs.h264_preferences("42e028"))
            return (await pc.createOffer()).sdp
        finally:
            await pc.close()

    sdp = asyncio.run(offer())
    assert sum(1 for c in CODECS["video"] if c.parameters.get("profile-level-id") == "42e028") == 1
    fmtp = [line for line in sdp.splitlines() if "profile-level-id" in line]
    assert "profile-level-id=42e028" in fmtp[0]
    assert "VP8" not in sdp
    with pytest.raises(ValueError, match="profile_level_id"):
        codecs.validate_profile_level_id("42e0")


def _packet(keyframe: bool, pts: int) -> av.Packet:
    packet = av.Packet(b"\x00\x00\x00\x01\x65" if keyframe else b"\x00\x00\x00\x01\x41")
    packet.pts, packet.time_base, packet.is_keyframe = pts, Fraction(1, 90000), keyframe
    return packet


def test_video_track_starts_on_a_keyframe_and_recovers_from_overflow() -> None:
    async def scenario() -> tuple[list[int | None], int, int]:
        asked: list[int] = []
        track = EncodedPacketTrack("video", max_queue=2, on_keyframe_needed=lambda: asked.append(1))
        assert not track.push(_packet(False, 0))  # no keyframe yet: dropped, one request
        assert not track.push(_packet(False, 1))
        assert track.push(_packet(True, 2)) and track.push(_packet(False, 3))
        assert not track.push(_packet(False, 4))  # full: queue flushed, wait for a keyframe
        assert track.waiting_for_keyframe and len(asked) == 2
        assert track.push(_packet(True, 5))
        received = [(await track.recv()).pts]
        track.stop()
        return received, track.dropped, track.keyframes_sent

    received, dropped, keyframes = asyncio.run(scenario())
    assert received == [5] and dropped == 5 and keyframes == 1


def test_track_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="kind"):
        EncodedPacketTrack("data")
    with pytest.raises(ValueError, match="max_queue"):
        EncodedPacketTrack("audio", max_queue=0)
