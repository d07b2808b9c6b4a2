"""A WHEP viewer made of a real aiortc peer, for end-to-end tests against the relay."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from studio.webrtc import passthrough

WAIT = 30.0


@dataclass
class Viewer:
    pc: RTCPeerConnection
    receivers: dict[str, RTCRtpReceiver]
    items: dict[str, list[object]] = field(default_factory=lambda: {"video": [], "audio": []})
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, kind: str, count: int) -> list[object]:
        async def enough() -> None:
            while len(self.items[kind]) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(enough(), WAIT)
        return self.items[kind]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.pc.close()


async def open_viewer(url: str, encoded: bool = False) -> Viewer:
    """A WHEP viewer; ``encoded`` keeps the received frames encoded (pass-through receivers)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receivers = {k: pc.addTransceiver(k, direction="recvonly").receiver for k in ("video", "audio")}
    viewer = Viewer(pc, receivers)

    async def pull(kind: str, track: MediaStreamTrack) -> None:
        try:
            while True:
                viewer.items[kind].append(await track.recv())
                viewer.changed.set()
        except MediaStreamError:
            pass

    await pc.setLocalDescription(await pc.createOffer())
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}) as resp,
    ):
        assert resp.status == 201, await resp.text()
        assert resp.headers["Location"].startswith("/whep/live/")
        answer = await resp.text()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    for kind, receiver in receivers.items():
        if encoded:
            passthrough.make_passthrough(receiver)
        viewer.tasks.append(asyncio.create_task(pull(kind, receiver.track)))
    return viewer


