"""A few seconds of UDP blackout while the server still answers HTTP do not end the WHIP session:
the silence watch asks the server, the server answers, the session is kept, and media flows again
over the same session once packets pass (NACK/PLI recover it, no new POST/ICE/DTLS).

Real parts: the engine (a test pattern) -> our encoder -> WhipOutput -> the embedded relay on
127.0.0.1, each on its own net loop. The blackout drops every datagram (media, RTCP, STUN) that
reaches either peer's ICE sockets, as a dead radio link would, while TCP (HTTP) keeps working.
No timings are asserted: `studio bench network --profiles blackout3` measures the recovery."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCPeerConnection

from studio.bench.liveness import PushingStudio, is_live
from studio.net.loop import NetLoop
from studio.outputs.whip import WhipOutput
from studio.outputs.whip_events import OutputStatus
from studio.services.relay import RelayServer, RelayStream
from studio.webrtc import liveness


class UdpBlackout:
    """Drops every datagram arriving at the ICE sockets of the given peers while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.dropped = 0

    def attach(self, pc: RTCPeerConnection) -> None:
        transport = pc.getTransceivers()[0].sender.transport or pc.getTransceivers()[0].receiver.transport
        for protocol in transport.transport._connection._protocols:
            original = protocol.datagram_received

            def received(data: bytes | str, addr: tuple[Any, ...], original: Any = original) -> None:
                if self.on:
                    self.dropped += 1
                    return
                original(data, addr)

            protocol.datagram_received = received  # type: ignore[method-assign]


def spy_on_probes(stream: WhipOutput) -> tuple[list[bool], threading.Event]:
    """Note each answer of the output's own HTTP probe (the real one runs)."""
    answers: list[bool] = []
    answered = threading.Event()
    probe: Callable[[], Awaitable[bool]] = stream._server_answers

    async def noted() -> bool:
        result = await probe()
        answers.append(result)
        if result:
            answered.set()
        return result

    stream._server_answers = noted  # type: ignore[method-assign]
    return answers, answered


def test_a_udp_blackout_with_the_server_reachable_keeps_the_session_and_media_returns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the product reconnects right after the probe by default; this is the keep-the-session mode
    monkeypatch.setattr(liveness, "DEFAULT_REACHABLE_SILENCE_S", 10.0)
    relay_net = NetLoop()
    relay_net.start()
    relay = RelayServer(port=0, keyframe_request_interval_s=0.0)
    relay_net.run(relay.start())
    pusher = PushingStudio(relay.url("/whip/live"), tmp_path / "rec.mkv")
    blackout = UdpBlackout()
    try:
        pusher.start()
        stream = pusher.pipeline.stream
        assert stream is not None
        answers, answered = spy_on_probes(stream)  # before the session is live: its watch uses it
        seen, _, _ = pusher.wait_for(is_live)
        # the watch is armed and knows the receiver's report interval (until then it allows 10 s)
        pusher.wait_until(lambda: stream._rtcp_packets() >= 6)
        live: RelayStream = relay.streams["live"]
        ingest = live.ingest
        assert ingest is not None and stream._pc is not None
        resource = stream.resource_url
        pusher.net.run(_attach(blackout, stream._pc))
        relay_net.run(_attach(blackout, ingest.pc))

        blackout.on = True
        # the receiver falls silent, the watch asks the server, and the server answers
        assert answered.wait(60), (answers, blackout.dropped, pusher.states[seen:], pusher.feedback_age_s)
        blackout.on = False
        keyframes, packets = live.keyframes_in, live.packets_in["video"]

        # media flows again: fresh packets and a keyframe reach the relay over the same ingest
        pusher.wait_until(lambda: live.keyframes_in > keyframes and live.packets_in["video"] > packets + 30)
        pusher.wait_until(lambda: pusher.feedback_age_s is not None and pusher.feedback_age_s < 2.0)
        assert blackout.dropped > 0
        assert live.ingest is ingest  # never replaced by a new POST
        assert stream.resource_url == resource
        assert all(s.state is OutputStatus.LIVE for _, s in pusher.states[seen:]), pusher.states[seen:]
    finally:
        blackout.on = False
        pusher.close()
        relay_net.run(relay.stop())
        relay_net.stop()


async def _attach(blackout: UdpBlackout, pc: RTCPeerConnection) -> None:
    blackout.attach(pc)  # on the peer's own loop: its sockets are read there


def test_the_watch_ends_a_session_at_once_only_when_the_server_does_not_answer() -> None:
    """``liveness.wait_until_dead`` on its own, with a receiver that reported and went quiet."""

    async def watch(answers: bool, resume_after_probes: int | None) -> tuple[str | None, list[float], int]:
        packets, probes, ticks = [0], [0], [0]
        resumed: list[float] = []

        async def server_answers() -> bool:
            probes[0] += 1
            if resume_after_probes is not None and probes[0] == resume_after_probes:
                packets[0] += 1  # the receiver reports again
            return answers

        def reporting() -> int:
            ticks[0] += 1
            if ticks[0] <= 6:  # a few reports first: the watch learns their pace
                packets[0] += 1
                return packets[0]
            if resume_after_probes is None or probes[0] < resume_after_probes:
                return packets[0]
            packets[0] += 1  # and keeps reporting
            return packets[0]

        task = asyncio.create_task(liveness.wait_until_dead(
            reporting, server_answers, silence_s=0.05, reachable_silence_s=0.3, poll_s=0.01,
            probe_every_s=0.05, on_resumed=resumed.append))
        if resume_after_probes is None:
            return await asyncio.wait_for(task, 30), resumed, probes[0]
        while not resumed:
            await asyncio.sleep(0.01)  # the watch's own pace
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return None, resumed, probes[0]

    gone, _, probes = asyncio.run(watch(answers=False, resume_after_probes=None))
    assert gone is not None and "does not answer" in gone and probes == 1
    media_dead, _, probes = asyncio.run(watch(answers=True, resume_after_probes=None))
    assert media_dead is not None and "although the server answers" in media_dead and probes >= 2
    kept, resumed, _ = asyncio.run(watch(answers=True, resume_after_probes=2))
    assert kept is None and len(resumed) == 1 and resumed[0] >= 0.05
