"""The relay with third-party WebRTC offers (real aiortc peers, real HTTP on 127.0.0.1): Baseline-only
and High-only WHEP offers, levels without level-asymmetry-allowed, a PCMU-only audio m-line rejected
instead of failing the session, VP8 ingest told plainly, and no stream entries left by bad POSTs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from studio.net import NetLoop
from studio.services.relay import RelayServer
from studio.services.whep_offer import plan_video


@pytest.fixture
def relay(net: NetLoop) -> Iterator[RelayServer]:
    server = RelayServer("127.0.0.1", 0)
    net.run(server.start())
    yield server
    net.run(server.stop())


async def _offer(video_plid: str | None = "42001f", audio: str | None = "opus", vp8: bool = False) -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    if video_plid is not None or vp8:
        t = pc.addTransceiver("video", direction="recvonly")
        caps = RTCRtpSender.getCapabilities("video").codecs
        if vp8:
            t.setCodecPreferences([c for c in caps if c.mimeType.lower() == "video/vp8"])
        else:
            t.setCodecPreferences([c for c in caps if c.mimeType.lower() == "video/h264"
                                   and c.parameters.get("profile-level-id") == "42001f"])
    if audio is not None:
        t = pc.addTransceiver("audio", direction="recvonly")
        t.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("audio").codecs
                               if c.mimeType.lower() == f"audio/{audio.lower()}"])
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    if video_plid is not None and video_plid != "42001f":
        sdp = sdp.replace("profile-level-id=42001f", f"profile-level-id={video_plid}")
    return pc, sdp


async def _post(url: str, sdp: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, \
            http.post(url, data=sdp, headers={"Content-Type": "application/sdp"}) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize("plid", ["42001f", "640c1f"])
def test_whep_accepts_baseline_or_high_only_offers(net: NetLoop, relay: RelayServer, plid: str) -> None:
    async def go() -> str:
        pc, sdp = await _offer(plid)
        try:
            status, answer = await _post(relay.url("/whep/show"), sdp)
            assert status == 201, answer
            if plid == "42001f":  # aiortc takes the answer back (it only knows its own profiles)
                await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            return answer
        finally:
            await pc.close()

    answer = net.run(go(), 30)
    assert f"profile-level-id={plid[:4]}" in answer


def test_pcmu_only_audio_is_rejected_not_the_session(net: NetLoop, relay: RelayServer) -> None:
    async def go() -> str:
        pc, sdp = await _offer("42001f", audio="PCMU")
        try:
            status, answer = await _post(relay.url("/whep/show"), sdp)
            assert status == 201, answer
            return answer
        finally:
            await pc.close()

    answer = net.run(go(), 30)
    assert "m=audio 0 " in answer and re.search(r"(?m)^m=video [1-9]", answer)
    assert answer.index("m=video") < answer.index("m=audio")  # the offer's order


def test_vp8_ingest_is_told_plainly_and_leaves_no_stream(net: NetLoop, relay: RelayServer) -> None:
    async def go() -> tuple[int, str]:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        t = pc.addTransceiver("video", direction="sendonly")
        t.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                               if c.mimeType.lower() == "video/vp8"])
        await pc.setLocalDescription(await pc.createOffer())
        try:
            return await _post(relay.url("/whip/vp8cam"), pc.localDescription.sdp)
        finally:
            await pc.close()

    status, text = net.run(go(), 30)
    assert status == 406 and "takes H.264" in text and "VP8" in text
    assert "vp8cam" not in relay.streams


def test_bogus_and_failed_posts_leave_no_stream_entries(net: NetLoop, relay: RelayServer) -> None:
    async def go() -> list[int]:
        statuses = [(await _post(relay.url("/whip/junk"), "v=0\r\nthis is not sdp"))[0],
                    (await _post(relay.url("/whep/junk2"), "not even v=0"))[0]]
        pc, sdp = await _offer(None, audio=None, vp8=True)
        try:
            statuses.append((await _post(relay.url("/whep/vp8viewer"), sdp))[0])
        finally:
            await pc.close()
        return statuses

    statuses = net.run(go(), 30)
    assert all(400 <= s < 500 for s in statuses), statuses
    assert not {"junk", "junk2", "vp8viewer"} & set(relay.streams)


def test_levels_follow_rfc6184_asymmetry() -> None:
    def offer(params: str) -> str:
        return ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n"
                f"a=fmtp:102 {params}\r\n")

    strict = plan_video(offer("packetization-mode=1;profile-level-id=42e01f"), "42e028")
    assert strict is not None and strict.answer_plid == "42e01f" and not strict.asymmetry  # not above 3.1
    relaxed = plan_video(offer("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"), "42e028")
    assert relaxed is not None and relaxed.answer_plid == "42e028" and relaxed.asymmetry
    high = plan_video(offer("packetization-mode=1;profile-level-id=640c1f"), "42e01f")
    assert high is not None and high.preferences_plid == "640c1f" and high.answer_plid == "640c1f"
    with pytest.raises(ValueError, match="only VP8"):
        plan_video(offer("x=1").replace("H264", "VP8"), "42e01f")
