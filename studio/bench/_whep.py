"""One WHEP viewer made of a real aiortc peer, on its own loop thread (as a viewer on another
machine would be): it pulls video and audio from the relay and counts what arrives.

``decode=False`` keeps the received frames encoded (the pass-through receiver: every RTP packet is
received, reordered and reassembled into frames, but not decoded), so on a small machine the
viewer does not take the CPU the show needs; ``decode=True`` decodes as a player does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from studio.net import NetLoop
from studio.webrtc import passthrough


@dataclass
class ViewerCounts:
    video_frames: int = 0
    audio_frames: int = 0
    longest_video_gap_ms: float = 0.0
    gaps_over_200ms: int = 0
    last_video: float = 0.0
    errors: list[str] = field(default_factory=list)


class WhepViewer:
    def __init__(self, url: str, decode: bool = False) -> None:
        self.url = url
        self.decode = decode
        self.counts = ViewerCounts()
        self._net = NetLoop("net-viewer")
        self._pc: RTCPeerConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, timeout: float = 30.0) -> None:
        self._net.start()
        self._net.run(self._open(), timeout)

    def stop(self) -> None:
        if self._net.running:
            self._net.run(self._close(), 30)
        self._net.stop()

    async def _open(self) -> None:
        pc = self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        receivers = {k: pc.addTransceiver(k, direction="recvonly").receiver for k in ("video", "audio")}
        await pc.setLocalDescription(await pc.createOffer())
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, data=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}) as resp,
        ):
            if resp.status != 201:
                raise RuntimeError(f"WHEP answered {resp.status}: {await resp.text()}")
            answer = await resp.text()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        for kind, receiver in receivers.items():
            if not self.decode:
                passthrough.make_passthrough(receiver)
            self._tasks.append(asyncio.create_task(self._pull(kind, receiver.track)))

    async def _pull(self, kind: str, track: MediaStreamTrack) -> None:
        c = self.counts
        try:
            while True:
                await track.recv()
                if kind == "audio":
                    c.audio_frames += 1
                    continue
                now = time.monotonic()
                if c.last_video:
                    gap = (now - c.last_video) * 1000
                    c.longest_video_gap_ms = max(c.longest_video_gap_ms, gap)
                    c.gaps_over_200ms += gap > 200
                c.last_video = now
                c.video_frames += 1
        except MediaStreamError:
            pass
        except Exception as exc:  # report, do not kill the loop
            c.errors.append(f"{kind}: {exc!r}")

    async def _close(self) -> None:
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pc is not None:
            await self._pc.close()
