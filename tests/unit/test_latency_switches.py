"""Switches for latency A/B runs (`studio bench network --variants`): the pacer and the playout-delay
extension each follow an environment variable, and the bench maps variant names onto them."""

from __future__ import annotations

import argparse
import asyncio

import pytest
from aiortc import RTCPeerConnection
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import RtpPacket, unpack_header_extensions

from studio.bench import network
from studio.webrtc import playout_delay, sender_setup
from studio.webrtc.pacer import Pacer


def _written(ext_map: playout_delay.PlayoutDelayExtensionsMap) -> dict[int, bytes]:
    ext_map.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(id=7, uri=playout_delay.PLAYOUT_DELAY_URI),
    ]))
    packet = RtpPacket(payload_type=97, sequence_number=1, timestamp=0)
    packet.extensions.mid = "0"
    raw = packet.serialize(ext_map)
    words = int.from_bytes(raw[14:16], "big")
    return dict(unpack_header_extensions(int.from_bytes(raw[12:14], "big"), raw[16 : 16 + 4 * words]))


def _sender_map(monkeypatch: pytest.MonkeyPatch, value: str | None) -> playout_delay.PlayoutDelayExtensionsMap:
    if value is None:
        monkeypatch.delenv(playout_delay.ENV, raising=False)
    else:
        monkeypatch.setenv(playout_delay.ENV, value)

    async def make() -> playout_delay.PlayoutDelayExtensionsMap:
        pc = RTCPeerConnection()
        try:
            return playout_delay.attach(pc.addTransceiver("video", direction="sendonly").sender)
        finally:
            await pc.close()

    return asyncio.run(make())


def test_the_playout_delay_extension_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _written(_sender_map(monkeypatch, None))[7] == playout_delay.encode_delay(0, 0)
    assert _written(_sender_map(monkeypatch, "20,100"))[7] == playout_delay.encode_delay(20, 100)
    assert 7 not in _written(_sender_map(monkeypatch, "off"))  # negotiated, never written
    monkeypatch.setenv(playout_delay.ENV, "100,20")
    with pytest.raises(ValueError):
        playout_delay.delay_from_env(0, 0)


def test_pacing_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    async def paced() -> bool:
        pc = RTCPeerConnection()
        try:
            sender = pc.addTransceiver("video", direction="sendonly").sender
            sender_setup.prepare_video_sender(sender)
            # attach() wraps the sender's send with the pacer's hook; without pacing it stays aiortc's
            return "send" in vars(sender)
        finally:
            await pc.close()

    monkeypatch.delenv(sender_setup.PACER_ENV, raising=False)
    assert asyncio.run(paced())
    monkeypatch.setenv(sender_setup.PACER_ENV, "0")
    assert not asyncio.run(paced())


def test_the_pacer_queue_limit_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sender_setup.PACER_MAX_QUEUE_ENV, raising=False)
    assert sender_setup.pacer_options() == {}  # the pacer's own default
    monkeypatch.setenv(sender_setup.PACER_MAX_QUEUE_ENV, "15")
    options = sender_setup.pacer_options()
    assert options == {"max_queue_s": 0.015}
    assert Pacer(_discard, **options).max_queue_s == 0.015
    monkeypatch.setenv(sender_setup.PACER_MAX_QUEUE_ENV, "soon")
    with pytest.raises(ValueError, match=sender_setup.PACER_MAX_QUEUE_ENV):
        sender_setup.pacer_options()


async def _discard(data: bytes) -> None:
    pass


def test_bench_variants_name_real_switches() -> None:
    assert dict(network.VARIANTS["no-pacer"].env) == {sender_setup.PACER_ENV: "0"}
    assert dict(network.VARIANTS["no-playout-ext"].env) == {playout_delay.ENV: "off"}
    assert dict(network.VARIANTS["pacer-15ms"].env) == {sender_setup.PACER_MAX_QUEUE_ENV: "15"}
    parser = argparse.ArgumentParser()
    network.add_arguments(parser)
    args = parser.parse_args(["--variants", "no-such", "--profiles", "clean"])
    with pytest.raises(ValueError, match="no-such"):
        network.run(args)
