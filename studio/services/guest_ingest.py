"""Co-host guests on the embedded relay (issue 15): WHIP in from the guest's browser, the return
feed out to it, and the guest page. Runs on the ``net`` loop; the relay registers the routes.

Routes (``room`` is the relay stream the guest watches, normally ``live``):

- ``GET /guest/{room}``: the guest page. The invite token travels in the URL fragment, never in
  a request line.
- ``POST /guest/{room}/whip`` (application/sdp, ``Authorization: Bearer <invite token>``, or the
  ``Guest-Session`` key of a guest whose connection dropped, within ``guests.REJOIN_S``): H.264
  or VP8 video (optional: an audio-only guest has no camera) and Opus audio -> 201, answer,
  ``Location: /guest/{room}/whip/{guest id}`` and ``Guest-Session: <key>``, the key that every
  later request of this guest carries as its bearer. A missing or wrong token is 401; a used,
  revoked or expired one 403; a full show (``GuestBook.max_guests``) 409. Nothing is left behind.
- ``DELETE /guest/{room}/whip/{guest id}``: the guest leaves.
- ``GET /guest/{room}/whip/{guest id}/events``: the guest's state as JSON lines, one per change
  (waiting, on_air, muted_by_host, ended with its reason), until it ends.
- ``POST /guest/{room}/watch/{guest id}`` (recvonly offer): the return feed, WHEP-like: the
  program's video packets (what viewers of ``room`` get) and the Opus packets the studio pushes
  through :meth:`GuestLink.push_return_audio` (the program minus this guest). ``DELETE`` on its
  ``Location`` ends it.

A guest ends when it DELETEs, when it is kicked, when its peer connection fails, when no media
has come for ``liveness_s`` (a closed laptop sends nothing: seconds, not ICE's 30), or when its
camera sends more than ``max_size`` (a 4K camera: the page asks for 1280x720, but the relay
does not trust that). The studio's sink hears ``on_guest_ended`` once, with the reason.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.sdp import SessionDescription

from studio.services import whep_offer
from studio.services.access import bearer
from studio.services.guest_link import GuestCodec, GuestEndReason, GuestMediaSink, GuestPacket
from studio.services.guests import Guest, GuestBook, GuestRefused
from studio.webrtc import audio_red, feedback, passthrough, playout_delay, sender_setup
from studio.webrtc.codecs import h264_preferences, opus_preferences
from studio.webrtc.feedback import FeedbackCounters
from studio.webrtc.frame_size import frame_size
from studio.webrtc.packet_track import EncodedPacketTrack

log = logging.getLogger(__name__)

_ROOM = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MAX_SIZE = (1920, 1080)  # in pixels (area): 1080p at most; the page asks for 720p
LIVENESS_S = 3.0  # no media for this long: the guest is gone
STARTUP_S = 15.0  # ICE and the first packet may take this long
KEYFRAME_INTERVAL_S = 0.5  # PLIs to one guest at most this often
_RTP_WRAP = 1 << 32


class ProgramFeed(Protocol):
    """What the relay lends the return feed: the program's video packets for one more viewer."""

    def add_program_viewer(self, room: str, pc: RTCPeerConnection, track: EncodedPacketTrack,
                           rtcp: FeedbackCounters | None) -> str: ...

    def remove_program_viewer(self, room: str, viewer_id: str) -> None: ...

    def program_video_plid(self, room: str) -> str: ...

    def request_program_keyframe(self, room: str) -> None: ...


@dataclass
class _Watch:
    id: str
    pc: RTCPeerConnection
    viewer_id: str | None  # the relay's viewer entry for the program video


def _offer_kinds(sdp: str) -> dict[str, str]:
    """kind -> direction of each media section ("sendonly" when the offer says nothing)."""
    try:
        media = SessionDescription.parse(sdp).media
    except Exception as exc:  # aiortc's parser raises assorted errors on garbage
        raise web.HTTPBadRequest(text=f"the SDP offer could not be parsed: {exc}") from None
    kinds: dict[str, str] = {}
    for m in media:
        if m.kind in ("audio", "video") and m.kind not in kinds:
            kinds[m.kind] = m.direction or "sendrecv"
    return kinds


def _codec_of(name: str) -> GuestCodec:
    lowered = name.lower()
    if lowered in ("h264", "vp8", "opus"):
        return lowered  # type: ignore[return-value]
    raise ValueError(f"unexpected codec {name}")


class GuestPeer:
    """One guest: its ingest peer, its return feed, its page's event stream. Implements
    :class:`studio.services.guest_link.GuestLink` (for the studio) and
    :class:`studio.services.guests.GuestSession` (for the book)."""

    def __init__(self, ingest: GuestIngest, room: str, name: str, pc: RTCPeerConnection,
                 has_video: bool) -> None:
        self._ingest = ingest
        self._loop = asyncio.get_running_loop()
        self.room = room
        self._id = uuid.uuid4().hex
        self._name = name
        self._has_video = has_video
        self.session_key = secrets.token_urlsafe(24)
        self.pc = pc
        self.receivers: dict[str, RTCRtpReceiver] = {}
        self.codecs: dict[str, GuestCodec] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.watches: dict[str, _Watch] = {}
        self.return_audio: EncodedPacketTrack | None = None
        self._return_pts = 0
        self._sink: GuestMediaSink | None = None
        self._listeners: list[asyncio.Queue[dict[str, str]]] = []
        self._state: dict[str, str] = {"state": "waiting"}
        self._first_pts: dict[str, int] = {}
        self._last_media = time.monotonic()
        self._got_media = False
        self._last_pli = -1e9
        self.ended_reason: GuestEndReason | None = None
        self.invite_id = ""
        self.packets_in = {"video": 0, "audio": 0}
        self.plis_sent = 0
        self.frame_size: tuple[int, int] | None = None

    # --- GuestLink -----------------------------------------------------------------------------

    @property
    def guest_id(self) -> str:
        return self._id

    @property
    def display_name(self) -> str:
        return self._name

    @property
    def has_video(self) -> bool:
        return self._has_video

    def attach(self, sink: GuestMediaSink) -> None:
        self._sink = sink
        if self.ended_reason is not None:  # attached too late: tell it at once
            self._loop.call_soon_threadsafe(sink.on_guest_ended, self.ended_reason)
        else:
            self.request_keyframe()  # a new decoder starts at a keyframe

    def detach(self) -> None:
        self._sink = None

    def request_keyframe(self) -> None:
        self._loop.call_soon_threadsafe(self._send_pli)

    def push_return_audio(self, packet: av.Packet) -> None:
        self._loop.call_soon_threadsafe(self._push_return, packet)

    # --- GuestSession --------------------------------------------------------------------------

    def state_changed(self, guest: Guest) -> None:
        self._publish({"state": guest.state})

    def end(self, reason: GuestEndReason, detail: str = "") -> None:
        """End this guest once: tell the page, the studio and the book, then free everything."""
        if self.ended_reason is not None:
            return
        self.ended_reason = reason
        self._publish({"state": "ended", "reason": reason, "detail": detail})
        sink = self._sink
        self._sink = None
        if sink is not None:
            try:
                sink.on_guest_ended(reason)
            except Exception:
                log.exception("guest sink failed on end")
        self._ingest.book.ended(self._id, reason, detail)
        if reason == "timeout":  # a dropped connection: its page may come back with its session key
            self._ingest.book.allow_rejoin(self.invite_id, self.session_key)
        log.info("relay: guest %s ended (%s)", self._id, reason)
        self._ingest.closing(self)

    # --- internals (loop thread) ---------------------------------------------------------------

    def _send_pli(self) -> None:
        receiver = self.receivers.get("video")
        now = time.monotonic()
        if receiver is None or self.ended_reason is not None or now - self._last_pli < KEYFRAME_INTERVAL_S:
            return
        if not passthrough.send_pli(receiver):
            return
        self._last_pli = now
        self.plis_sent += 1

    def _push_return(self, packet: av.Packet) -> None:
        track = self.return_audio
        if track is None:
            return
        if packet.pts is None:  # the feed's own clock: 20 ms Opus packets at 48 kHz
            packet.pts = packet.dts = self._return_pts
            self._return_pts += 960
        if packet.time_base is None:
            from fractions import Fraction

            packet.time_base = Fraction(1, 48000)
        track.push(packet)

    def _publish(self, event: dict[str, str]) -> None:
        self._state = event
        for queue in self._listeners:
            queue.put_nowait(event)

    def listen(self) -> asyncio.Queue[dict[str, str]]:
        queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        queue.put_nowait(self._state)
        self._listeners.append(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[dict[str, str]]) -> None:
        if queue in self._listeners:
            self._listeners.remove(queue)

    async def forward(self, kind: str) -> None:
        receiver = self.receivers[kind]
        codec = self.codecs[kind]
        try:
            while True:
                packet = await receiver.track.recv()
                if not isinstance(packet, av.Packet) or self.ended_reason is not None:
                    continue
                self._last_media = time.monotonic()
                self._got_media = True
                self.packets_in[kind] += 1
                if kind == "video" and packet.is_keyframe and not self._size_ok(codec, bytes(packet)):
                    return
                assert packet.pts is not None
                first = self._first_pts.setdefault(kind, packet.pts)
                packet.pts = packet.dts = (packet.pts - first) % _RTP_WRAP  # from 0, in the RTP clock
                sink = self._sink
                if sink is not None:
                    sink.on_guest_packet(GuestPacket(kind, codec, packet))  # type: ignore[arg-type]
        except MediaStreamError:
            pass

    def _size_ok(self, codec: GuestCodec, data: bytes) -> bool:
        size = frame_size(codec, data)
        if size is None:
            return True
        self.frame_size = size
        most = self._ingest.max_size
        if size[0] * size[1] <= most[0] * most[1]:
            return True
        self.end("error", f"the camera sends {size[0]}x{size[1]}; a guest may send at most {most[0]}x{most[1]} "
                          "(choose another camera or resolution)")
        return False

    async def watchdog(self, liveness_s: float) -> None:
        """Ends the guest when its connection fails or its media stops (seconds, not ICE's 30)."""
        started = time.monotonic()
        while self.ended_reason is None:
            await asyncio.sleep(min(0.5, liveness_s / 3))
            now = time.monotonic()
            if self.pc.connectionState in ("failed", "closed"):
                self.end("timeout", "the connection to the guest failed")
            elif self._got_media and now - self._last_media > liveness_s:
                self.end("timeout", f"no media from the guest for {liveness_s:g} s")
            elif not self._got_media and now - started > STARTUP_S:
                self.end("timeout", "the guest's media never arrived")


class GuestIngest:
    """The guest routes of one relay, and the guests on it (net loop)."""

    def __init__(self, book: GuestBook, program: ProgramFeed, web_root: Path, *,
                 max_size: tuple[int, int] = MAX_SIZE, liveness_s: float = LIVENESS_S) -> None:
        self.book = book
        self._program = program
        self._web_root = web_root
        self.max_size = max_size
        self.liveness_s = liveness_s
        self.peers: dict[str, GuestPeer] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/guest/{room}", self._page),
            web.post("/guest/{room}/whip", self._publish),
            web.delete("/guest/{room}/whip/{guest}", self._leave),
            web.patch("/guest/{room}/whip/{guest}", self._no_patch),
            web.get("/guest/{room}/whip/{guest}/events", self._events),
            web.post("/guest/{room}/watch/{guest}", self._watch),
            web.delete("/guest/{room}/watch/{guest}/{watch}", self._unwatch),
        ]

    async def stop(self) -> None:
        for peer in list(self.peers.values()):
            peer.end("left", "the studio stopped")
        while self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _room(request: web.Request) -> str:
        room = request.match_info["room"]
        if not _ROOM.match(room):
            raise web.HTTPBadRequest(text="room names are 1-64 letters, digits, '.', '_' or '-'")
        return room

    def _peer(self, request: web.Request) -> GuestPeer:
        """The guest this request's session key belongs to (404 for another or none)."""
        peer = self.peers.get(request.match_info["guest"])
        key = bearer(request.headers, request.query) or ""
        if peer is None or peer.room != self._room(request) or not hmac.compare_digest(
                key.encode(), peer.session_key.encode()):
            raise web.HTTPNotFound(text="no such guest session")
        return peer

    @staticmethod
    async def _offer(request: web.Request) -> str:
        if request.content_type != "application/sdp":
            raise web.HTTPUnsupportedMediaType(text="the offer must be sent as application/sdp")
        offer = await request.text()
        if not offer.strip().startswith("v=0"):
            raise web.HTTPBadRequest(text="the body is not an SDP offer")
        return offer

    @staticmethod
    def _new_pc() -> RTCPeerConnection:
        return RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))

    def closing(self, peer: GuestPeer) -> None:
        """Free a guest that ended (called by :meth:`GuestPeer.end`, maybe from inside a handler)."""
        self.peers.pop(peer.guest_id, None)
        task = asyncio.ensure_future(self._free(peer))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _free(self, peer: GuestPeer) -> None:
        current = asyncio.current_task()
        for task in peer.tasks:
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in peer.tasks if t is not current), return_exceptions=True)
        for watch in list(peer.watches.values()):
            await self._end_watch(peer, watch)
        if peer.return_audio is not None:
            peer.return_audio.stop()
        await peer.pc.close()

    # --- the guest page ------------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.FileResponse:
        self._room(request)
        return web.FileResponse(self._web_root / "guest.html", headers={
            "Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"})

    async def _no_patch(self, request: web.Request) -> web.Response:
        raise web.HTTPMethodNotAllowed("PATCH", ["DELETE"])

    # --- WHIP from the guest -------------------------------------------------------------------

    async def _publish(self, request: web.Request) -> web.Response:
        room = self._room(request)
        token = bearer(request.headers, {})  # the header only: a token in a URL ends up in logs
        try:
            invite = self.book.check(token)
            if self.book.live_count >= self.book.max_guests:
                raise GuestRefused(409, f"the show already has {self.book.max_guests} guests, the most it "
                                        "takes; try again when one has left")
        except GuestRefused as refused:
            raise _refusal(refused) from None
        offer = await self._offer(request)
        kinds = _offer_kinds(offer)
        if "audio" not in kinds and "video" not in kinds:
            raise web.HTTPBadRequest(text="the SDP offer has no audio or video section")
        refusal = _codec_refusal(offer)
        if refusal is not None:
            raise web.HTTPNotAcceptable(text=refusal)
        pc = self._new_pc()
        has_video = "video" in kinds and kinds["video"] in ("sendonly", "sendrecv")
        peer = GuestPeer(self, room, invite.name, pc, has_video)
        peer.invite_id = invite.invite_id
        try:
            transceivers = {}
            for kind in ("audio", "video"):
                if kind not in kinds:
                    continue
                # no codec preferences: aiortc then keeps the offer's order, so the guest's
                # browser chooses between H.264 and VP8 (``_codec_refusal`` checked it offers one)
                transceiver = pc.addTransceiver(kind, direction="recvonly")
                passthrough.use_fast_release(transceiver.receiver, kind, peer.request_keyframe,
                                             is_keyframe=passthrough.any_is_keyframe)
                transceivers[kind] = transceiver
                peer.receivers[kind] = transceiver.receiver
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            if "audio" in transceivers:  # a browser's RED (63, 111/111) answered in its own numbers
                audio_red.pin_red(transceivers["audio"], offer)
            for kind, transceiver in transceivers.items():
                passthrough.make_passthrough(transceiver.receiver)
                peer.codecs[kind] = _codec_of(transceiver._codecs[0].name)
            await pc.setLocalDescription(await pc.createAnswer())
            self.book.admit(token, peer, peer, has_video)  # uses the invite; another POST may have won
        except GuestRefused as refused:
            await pc.close()
            raise _refusal(refused) from None
        except Exception as exc:
            await pc.close()
            raise web.HTTPNotAcceptable(
                text=f"cannot accept this offer (H.264 or VP8 video, Opus audio): {exc}") from None
        if peer.ended_reason is not None:  # a listener of guest_joined ended it at once (kicked)
            raise web.HTTPForbidden(text="the host ended this guest session")
        self.peers[peer.guest_id] = peer
        for kind in peer.receivers:
            peer.tasks.append(asyncio.create_task(peer.forward(kind)))
        peer.tasks.append(asyncio.create_task(peer.watchdog(self.liveness_s)))
        log.info("relay: guest %s joined room %r (%s)", peer.guest_id, room,
                 ", ".join(f"{k} {c}" for k, c in peer.codecs.items()))
        headers = {"Location": f"/guest/{room}/whip/{peer.guest_id}", "Guest-Session": peer.session_key,
                   "Cache-Control": "no-store"}
        return web.Response(status=201, text=pc.localDescription.sdp, content_type="application/sdp",
                            headers=headers)

    async def _leave(self, request: web.Request) -> web.Response:
        self._peer(request).end("left")
        return web.Response(status=200)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        peer = self._peer(request)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-store"})
        await response.prepare(request)
        queue = peer.listen()
        try:
            while True:
                event = await queue.get()
                await response.write(json.dumps(event).encode() + b"\n")
                if event.get("state") == "ended":
                    break
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            peer.unlisten(queue)
        return response

    # --- the return feed -----------------------------------------------------------------------

    async def _watch(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        offer = await self._offer(request)
        kinds = _offer_kinds(offer)
        plid = self._program.program_video_plid(peer.room)
        try:
            plan = whep_offer.plan_video(offer, plid)
        except ValueError as exc:
            raise web.HTTPNotAcceptable(text=str(exc)) from None
        pc = self._new_pc()
        watch = _Watch(uuid.uuid4().hex, pc, None)
        video: EncodedPacketTrack | None = None
        rtcp = None
        try:
            transceivers = {}
            for kind in ("video", "audio"):
                if kind not in kinds:
                    continue
                if kind == "video":
                    video = EncodedPacketTrack("video", max_queue=16, on_keyframe_needed=lambda: (
                        self._program.request_program_keyframe(peer.room)))
                    transceiver = pc.addTransceiver(video, direction="sendonly")
                    transceiver.setCodecPreferences(h264_preferences(plan.preferences_plid if plan else plid))
                    playout_delay.attach(transceiver.sender)
                    rtcp = feedback.attach(transceiver.sender, on_keyframe_request=lambda: (
                        self._program.request_program_keyframe(peer.room)))
                    sender_setup.prepare_video_sender(transceiver.sender, rtcp)
                else:
                    if peer.return_audio is None or peer.return_audio.readyState != "live":
                        peer.return_audio = EncodedPacketTrack("audio", max_queue=50)
                    transceiver = pc.addTransceiver(peer.return_audio, direction="sendonly")
                    transceiver.setCodecPreferences(opus_preferences())
                transceivers[kind] = transceiver
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            if "video" in transceivers and plan is not None:
                whep_offer.pin_answer(transceivers["video"], plan)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            await pc.close()
            raise web.HTTPNotAcceptable(text=f"cannot serve the return feed (needs H.264/Opus): {exc}") from None
        if peer.ended_reason is not None:
            await pc.close()
            raise web.HTTPNotFound(text="no such guest session")
        if video is not None:
            watch.viewer_id = self._program.add_program_viewer(peer.room, pc, video, rtcp)
            self._program.request_program_keyframe(peer.room)
        peer.watches[watch.id] = watch
        return web.Response(status=201, text=pc.localDescription.sdp, content_type="application/sdp",
                            headers={"Location": f"/guest/{peer.room}/watch/{peer.guest_id}/{watch.id}"})

    async def _unwatch(self, request: web.Request) -> web.Response:
        peer = self._peer(request)
        watch = peer.watches.get(request.match_info["watch"])
        if watch is None:
            raise web.HTTPNotFound(text="no such return feed")
        await self._end_watch(peer, watch)
        return web.Response(status=200)

    async def _end_watch(self, peer: GuestPeer, watch: _Watch) -> None:
        peer.watches.pop(watch.id, None)
        if watch.viewer_id is not None:
            self._program.remove_program_viewer(peer.room, watch.viewer_id)
        await watch.pc.close()


def _refusal(refused: GuestRefused) -> web.HTTPException:
    if refused.status == 401:
        return web.HTTPUnauthorized(text=refused.message, headers={"WWW-Authenticate": "Bearer"})
    if refused.status == 409:
        return web.HTTPConflict(text=refused.message)
    return web.HTTPForbidden(text=refused.message)


def _codec_refusal(offer: str) -> str | None:
    """Why the guest's offer cannot be taken, in words (None: it can)."""
    for m in SessionDescription.parse(offer).media:
        names = {c.mimeType.lower() for c in m.rtp.codecs}
        if m.kind == "video" and not names & {"video/h264", "video/vp8"}:
            return "guests send H.264 or VP8 video; this offer has neither"
        if m.kind == "audio" and "audio/opus" not in names:
            return "guests send Opus audio; this offer has none"
    return None


__all__ = ["LIVENESS_S", "MAX_SIZE", "GuestIngest", "GuestPeer", "ProgramFeed"]
