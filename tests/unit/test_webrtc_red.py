"""RED (RFC 2198) for Opus: packing, hostile payloads, recovery and the distance policy (issue 11, item 6)."""

from __future__ import annotations

import pytest
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from studio.webrtc import audio_red, red
from studio.webrtc.red import RedBlock, RedDistance, RedError, RedPacker, RedRecovery, pack, unpack

OPUS = 111


def frame(i: int, size: int = 40) -> bytes:
    return bytes([i % 256]) * size


def test_pack_and_unpack_round_trip_with_the_primary_last() -> None:
    blocks = [RedBlock(OPUS, 1920, frame(1)), RedBlock(OPUS, 960, frame(2, 300))]
    payload = pack(OPUS, frame(3, 7), blocks)
    assert len(payload) == 4 * 2 + 1 + 40 + 300 + 7
    assert payload[8] == OPUS  # F=0: the primary's 1-byte header
    assert unpack(payload) == [*blocks, RedBlock(OPUS, 0, frame(3, 7))]
    assert unpack(pack(OPUS, frame(4))) == [RedBlock(OPUS, 0, frame(4))]  # primary only: 1 byte of header


def test_the_header_fields_are_where_rfc_2198_puts_them() -> None:
    payload = pack(OPUS, b"P", [RedBlock(OPUS, 960, b"RR")])
    word = int.from_bytes(payload[:4], "big")
    assert word >> 31 == 1 and (word >> 24) & 0x7F == OPUS
    assert (word >> 10) & 0x3FFF == 960 and word & 0x3FF == 2
    assert payload[4:] == bytes([OPUS]) + b"RR" + b"P"


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"", "empty"),
        (bytes([0x80 | OPUS, 0, 0]), "truncated block header"),
        (bytes([0x80 | OPUS, 0, 0x3C, 0x05]), "no primary header after it"),
        ((1 << 31 | OPUS << 24 | 960 << 10 | 50).to_bytes(4, "big") + bytes([OPUS]) + b"x" * 10, "length past the end"),
        ((1 << 31 | OPUS << 24 | 0 << 10 | 1).to_bytes(4, "big") + bytes([OPUS]) + b"ab", "offset 0"),
        ((1 << 31 | OPUS << 24 | 960 << 10 | 1).to_bytes(4, "big")
         + (1 << 31 | OPUS << 24 | 1920 << 10 | 1).to_bytes(4, "big") + bytes([OPUS]) + b"abc", "offsets go backwards"),
        (b"".join((1 << 31 | OPUS << 24 | (100 - i) << 10).to_bytes(4, "big") for i in range(40)) + bytes([OPUS]),
         "absurd block count"),
    ],
)
def test_hostile_payloads_are_refused(payload: bytes, why: str) -> None:
    with pytest.raises(RedError):
        unpack(payload)


def test_pack_refuses_what_the_header_cannot_say() -> None:
    with pytest.raises(RedError):
        pack(OPUS, b"p", [RedBlock(OPUS, red.MAX_TIMESTAMP_OFFSET + 1, b"r")])
    with pytest.raises(RedError):
        pack(OPUS, b"p", [RedBlock(OPUS, 960, b"r" * (red.MAX_BLOCK_LENGTH + 1))])
    with pytest.raises(RedError):
        pack(200, b"p")


def test_the_packer_sends_the_previous_frames_as_asked() -> None:
    packer = RedPacker(OPUS)
    assert unpack(packer.pack(0, frame(0), 2)) == [RedBlock(OPUS, 0, frame(0))]  # nothing before the first
    packer.pack(960, frame(1), 0)  # a clean link: no redundancy, but the history still follows
    blocks = unpack(packer.pack(1920, frame(2), 2))
    assert [(b.timestamp_offset, b.data) for b in blocks] == [(1920, frame(0)), (960, frame(1)), (0, frame(2))]
    assert [b.timestamp_offset for b in unpack(packer.pack(2880, frame(3), 1))] == [960, 0]
    # a late or repeated timestamp goes out alone and leaves the history as it was
    assert unpack(packer.pack(960, frame(9), 2)) == [RedBlock(OPUS, 0, frame(9))]
    assert [b.timestamp_offset for b in unpack(packer.pack(3840, frame(4), 2))] == [1920, 960, 0]


def test_the_packer_leaves_out_what_does_not_fit() -> None:
    packer = RedPacker(OPUS, max_payload=1200)
    packer.pack(0, frame(0, 500), 2)
    packer.pack(960, frame(1, 500), 2)
    # both copies would make 1509 bytes: the oldest one goes
    assert [b.timestamp_offset for b in unpack(packer.pack(1920, frame(2, 500), 2))] == [960, 0]
    packer = RedPacker(OPUS)
    packer.pack(0, frame(0), 2)
    # past the 14-bit offset (a gap in the stream): no copy
    assert [b.timestamp_offset for b in unpack(packer.pack(20_000, frame(1), 2))] == [0]
    packer.pack(20_960, frame(2, red.MAX_BLOCK_LENGTH + 1), 1)
    assert [b.timestamp_offset for b in unpack(packer.pack(21_920, frame(3), 1))] == [0]  # too long for 10 bits


def test_recovery_brings_lost_packets_back_once_and_in_order() -> None:
    packer = RedPacker(OPUS)
    payloads = [(i * 960, packer.pack(i * 960, frame(i), 2)) for i in range(10)]
    recovery = RedRecovery(OPUS)
    out: list[tuple[int, bytes]] = []
    for i, (ts, payload) in enumerate(payloads):
        if i in (3, 6, 7):  # one lost, then two in a row
            continue
        out += recovery.frames(ts, payload)
    assert out == [(i * 960, frame(i)) for i in range(10)]
    assert recovery.recovered == 3
    # the late original of a recovered packet is not played twice; a duplicate neither
    assert recovery.frames(*payloads[6]) == [] and recovery.frames(*payloads[9]) == []


def test_recovery_works_across_the_32_bit_wrap_and_ignores_other_payload_types() -> None:
    packer = RedPacker(OPUS)
    start = (1 << 32) - 960
    first = packer.pack(start, frame(0), 1)
    packer.pack(0, frame(1), 1)  # lost
    third = packer.pack(960, frame(2), 1)
    recovery = RedRecovery(OPUS)
    assert recovery.frames(start, first) == [(start, frame(0))]
    # the receiver counts on past 2^32 (aiortc's timestamp mapper)
    assert recovery.frames(start + 1920, third) == [(start + 960, frame(1)), (start + 1920, frame(2))]
    assert RedRecovery(96).frames(0, pack(OPUS, frame(5))) == []


def test_recovery_counts_and_drops_garbage() -> None:
    recovery = RedRecovery(OPUS)
    assert recovery.frames(0, bytes([0x80 | OPUS, 1])) == []
    assert recovery.malformed == 1


def test_the_distance_follows_the_reported_loss_up_at_once_and_down_after_a_hold() -> None:
    policy = RedDistance(hold_s=10.0)
    assert policy.update(0.0, 0) == 0  # a clean link pays nothing
    assert policy.update(3.0, 1) == 1
    assert policy.update(7.0, 2) == 2
    assert policy.update(3.0, 3) == 2  # above half of 5 %: stays
    assert policy.update(2.0, 4) == 2  # below: the hold starts
    assert policy.update(0.0, 13.9) == 2
    assert policy.update(0.0, 14.0) == 1
    assert policy.update(0.6, 20) == 1  # not below half of 1 %: the hold starts over
    assert policy.update(0.0, 21) == 1
    assert policy.update(0.0, 31) == 0


def test_red_fmtp_names_one_opus_payload_type() -> None:
    assert audio_red.red_primary_type({"111/111": None}) == 111
    assert audio_red.red_primary_type({"111/96": None}) is None
    assert audio_red.red_primary_type({"999/999": None}) is None
    assert audio_red.red_primary_type({"minptime": 10}) is None


def test_the_splitter_speaks_the_negotiated_opus() -> None:
    from aiortc.jitterbuffer import JitterFrame

    codec = RTCRtpCodecParameters(mimeType="audio/red", clockRate=48000, channels=2, payloadType=63,
                                  parameters={"111/111": None})
    splitter = audio_red.RedSplitter(codec)
    assert splitter.opus.payloadType == 111 and splitter.opus.mimeType == "audio/opus"
    packer = RedPacker(111)
    splitter.split(JitterFrame(packer.pack(0, frame(0), 1), 0))
    packer.pack(960, frame(1), 1)
    frames = splitter.split(JitterFrame(packer.pack(1920, frame(2), 1), 1920))
    assert [(f.timestamp, f.data) for f in frames] == [(960, frame(1)), (1920, frame(2))]


def _chromium_like_offer() -> str:
    """An aiortc audio offer renumbered as Chromium numbers it: Opus 111, RED 63 with fmtp 111/111."""
    import asyncio
    import re

    from aiortc import RTCPeerConnection

    async def offer() -> str:
        pc = RTCPeerConnection()
        t = pc.addTransceiver("audio", direction="recvonly")
        t.setCodecPreferences(audio_red.opus_red_preferences())
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    sdp = asyncio.run(offer())
    red_pt = re.search(r"a=rtpmap:(\d+) red/48000/2", sdp)
    opus_pt = re.search(r"a=rtpmap:(\d+) opus/48000/2", sdp)
    assert red_pt and opus_pt
    r, o = red_pt.group(1), opus_pt.group(1)
    sdp = re.sub(r"(?m)^(m=audio \S+ \S+ )(.*)$", lambda m: m.group(1) + m.group(2).replace(r, "63").replace(o, "111"), sdp)
    sdp = sdp.replace(f"a=rtpmap:{r} ", "a=rtpmap:63 ").replace(f"a=fmtp:{r} {o}/{o}", "a=fmtp:63 111/111")
    return sdp.replace(f"a=rtpmap:{o} ", "a=rtpmap:111 ")


def test_the_answer_speaks_the_offers_red_and_opus_numbers() -> None:
    import asyncio

    from aiortc import RTCPeerConnection, RTCSessionDescription

    offer = _chromium_like_offer()
    assert "a=rtpmap:63 red/48000/2" in offer and "a=fmtp:63 111/111" in offer

    async def answer(sdp: str) -> tuple[str, bool]:
        pc = RTCPeerConnection()
        t = pc.addTransceiver("audio", direction="sendonly")
        t.setCodecPreferences(audio_red.opus_red_preferences())
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        kept = audio_red.pin_red(t, sdp)
        await pc.setLocalDescription(await pc.createAnswer())
        text = pc.localDescription.sdp
        await pc.close()
        return text, kept

    text, kept = asyncio.run(answer(offer))
    assert kept and "a=rtpmap:63 red/48000/2" in text and "a=fmtp:63 111/111" in text
    assert text.split("m=audio ")[1].split()[2:4] == ["63", "111"]  # RED first: the relay sends it
    # RED of another payload type than the Opus offered: answered with plain Opus
    text, kept = asyncio.run(answer(offer.replace("a=fmtp:63 111/111", "a=fmtp:63 0/0")))
    assert not kept and "red/" not in text


def test_loss_with_a_queue_takes_copies_away_instead_of_adding_them() -> None:
    policy = RedDistance(hold_s=10.0)
    assert policy.update(20.0, 0, rtt_s=0.02) == 2  # random loss on a short path: two copies
    assert policy.update(20.0, 1, rtt_s=0.03) == 2  # some jitter: still random loss
    assert policy.update(18.0, 2, rtt_s=0.12) == 1  # the round trip stands 100 ms above its floor
    assert policy.update(18.0, 3, rtt_s=0.12) == 0
    assert policy.congested_reports == 2
    assert policy.update(15.0, 4, rtt_s=0.02) == 0  # the queue has drained: no new copies for the hold
    assert policy.update(15.0, 14, rtt_s=0.02) == 2
    assert policy.update(0.0, 15, rtt_s=0.2) == 2  # no loss: a long round trip alone says nothing
