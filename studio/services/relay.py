"""Embedded WebRTC relay: WHIP in, WHEP out, and the web viewer page.

Runs on the ``net`` loop (``await RelayServer.start()``). Routes:

- ``POST /whip/{stream}`` (application/sdp): ingest from our studio or any WHIP client -> 201,
  answer, Location ``/whip/{stream}/{id}``. ``DELETE`` there ends it; ``PATCH`` answers 405
  (no trickle: aiortc reads candidates from the offer). A new ingest replaces the old one.
- ``POST /whep/{stream}`` (application/sdp, recvonly offer): playback -> 201 + answer; ``DELETE``.
- ``GET /`` and ``GET /view/{stream}``: the viewer page (``resources/web``).
- ``/guest/{room}...``: co-host guests (``guest_book`` given; ``studio.services.guest_ingest``).

Media is forwarded without re-encoding: ingest receivers are switched to pass-through
(``studio.webrtc.passthrough``: encoded frames as ``av.Packet``, released on the RTP marker
bit) and every viewer gets an ``EncodedPacketTrack`` whose sender only packetises. A viewer
starts at a keyframe; while it waits the relay sends one PLI upstream (at most one per
``keyframe_request_interval_s``, shared by all viewers), and PLI/FIR from viewers go upstream
under the same limit. Timestamps are rebased when a new ingest replaces the old one, so
viewers see one continuous stream.

Listening: 127.0.0.1 by default. Any other address needs ``allow_lan=True`` and two different
tokens (``studio.services.access``): ``token`` lets a client publish (WHIP), ``view_token`` lets a
viewer watch (WHEP; the publish token may watch too). Requests carry them as ``Authorization:
Bearer`` (the page passes ``?token=``). A WHIP/WHEP session ends only by a DELETE on its own
Location (``/whip|whep/{stream}/{session id}``, an unguessable id) with a token of its right.
Browser players on other origins get CORS headers on WHIP/WHEP only from ``cors_origins``.

Loopback ICE: aioice drops 127.0.0.1 from host candidates and has no option to keep it, so the
relay calls ``studio.webrtc.loopback.enable()`` (a wrapper around aioice's address gathering)
and uses ``RTCConfiguration(iceServers=[])``, so it works with no network and no STUN server.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import av
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.sdp import SessionDescription

from studio.outputs.whip_http import low_layer_link
from studio.paths import resources_dir
from studio.services import layers, whep_offer
from studio.services.access import OriginPolicy, Scope, bearer, cors_middleware, token_matches
from studio.services.guest_ingest import GuestIngest
from studio.services.guests import GuestBook
from studio.webrtc import audio_red, feedback, loopback, passthrough, playout_delay, sender_setup, trace
from studio.webrtc.audio_red import enabled_by_default as audio_red_default
from studio.webrtc.codecs import (
    h264_preferences,
    opus_preferences,
    validate_profile_level_id,
)
from studio.webrtc.packet_track import EncodedPacketTrack

log = logging.getLogger(__name__)

WEB_ROOT = resources_dir() / "web"
_STREAM_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# one frame's worth of RTP ticks, to continue timestamps across ingest sessions
_STEP = {"video": 3000, "audio": 960}


@dataclass
class _Ingest:
    id: str
    pc: RTCPeerConnection
    receivers: dict[str, RTCRtpReceiver] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


@dataclass
class _Viewer:
    id: str
    pc: RTCPeerConnection
    tracks: dict[str, EncodedPacketTrack] = field(default_factory=dict)
    rtcp: feedback.FeedbackCounters | None = None  # PLI/FIR/NACK counts from this viewer
    layer: layers.ViewerLayer = field(default_factory=layers.ViewerLayer)  # main or low layer
    red: audio_red.RedSenderState | None = None  # RED to this viewer, when it negotiates it


class RelayStream:
    """One named stream: at most one ingest, any number of viewers."""

    def __init__(self, name: str, keyframe_request_interval_s: float) -> None:
        self.name = name
        self.ingest: _Ingest | None = None
        self.viewers: dict[str, _Viewer] = {}
        self.video_plid = "42e01f"
        self.packets_in = {"video": 0, "audio": 0}
        self.keyframes_in = 0
        self.plis_upstream = 0
        self._interval = keyframe_request_interval_s
        self._last_pli = -1e9
        self._generation: dict[str, str] = {}
        self._offset: dict[str, int] = {}
        self._last_out: dict[str, int] = {}
        self.low: RelayStream | None = None  # "<name>.low", once it publishes (studio.services.layers)
        self.video_rate = layers.RateMeter()

    def publish(self, ingest_id: str, kind: str, packet: av.Packet) -> None:
        """Forward one encoded packet from the ingest to every viewer (loop thread)."""
        assert packet.pts is not None
        if self._generation.get(kind) != ingest_id:
            # a new ingest restarts its clock at 0: continue after what viewers last got
            self._generation[kind] = ingest_id
            last = self._last_out.get(kind)
            self._offset[kind] = 0 if last is None else last + _STEP[kind] - packet.pts
        pts = packet.pts + self._offset[kind]
        packet.pts = packet.dts = pts
        self._last_out[kind] = pts
        self.packets_in[kind] += 1
        if kind == "video":
            self.video_rate.add(packet.size)
            if trace.enabled():
                trace.event("relay_video_in", stream=self.name, pts=pts, key=bool(packet.is_keyframe))
            if packet.is_keyframe:
                self.keyframes_in += 1
                trace.event("relay_keyframe_in", stream=self.name)
                self._decide_layers()
        for viewer in list(self.viewers.values()):
            track = viewer.tracks.get(kind)
            out = viewer.layer.accept(layers.HIGH, packet) if kind == "video" else packet
            if track is not None and out is not None:
                track.push(out)

    def publish_low(self, packet: av.Packet) -> None:
        """Forward one video packet of this stream's low layer to the viewers watching that layer."""
        for viewer in list(self.viewers.values()):
            track = viewer.tracks.get("video")
            out = viewer.layer.accept(layers.LOW, packet) if track is not None else None
            if track is not None and out is not None:
                track.push(out)

    def _decide_layers(self) -> None:
        for viewer in list(self.viewers.values()):
            self.decide_layer(viewer)

    def decide_layer(self, viewer: _Viewer) -> None:
        """One viewer's layer, from its feedback (at each main keyframe and each of its reports)."""
        low = self.low
        track = viewer.tracks.get("video")
        if track is None or viewer.rtcp is None:
            return
        switch_to = viewer.layer.decide(viewer.rtcp.remb_bps, self.video_rate.bps,
                                        low is not None and low.ingest is not None, viewer.rtcp.last_report)
        if switch_to is not None:
            log.info("relay: viewer %s of %r -> %s layer (%s)", viewer.id[:8], self.name, switch_to,
                     viewer.layer.reason)
            if viewer.layer.starved:  # off a layer its link cannot carry: what it was sent is no use now
                viewer.rtcp.picture_restarted()
            self.request_viewer_keyframe(viewer)

    def request_viewer_keyframe(self, viewer: _Viewer) -> None:
        """A keyframe of the layer ``viewer`` watches or is switching to (its PLIs, its track's
        restarts): the main layer's would not reach a viewer of the low one."""
        low = self.low
        if viewer.layer.wanted == layers.LOW and low is not None:
            low.request_keyframe()
        else:
            self.request_keyframe()

    def request_keyframe(self) -> None:
        """Send one PLI to the ingest, at most once per interval."""
        now = time.monotonic()
        ingest = self.ingest
        if ingest is None or now - self._last_pli < self._interval:
            trace.event("relay_pli_limited", stream=self.name)
            return
        receiver = ingest.receivers.get("video")
        if receiver is None or not passthrough.send_pli(receiver):
            return
        trace.event("relay_pli_upstream", stream=self.name)
        self._last_pli = now
        self.plis_upstream += 1


def _media_kinds(sdp: str) -> list[str]:
    try:
        kinds = [m.kind for m in SessionDescription.parse(sdp).media]
    except Exception as exc:  # aiortc's parser raises assorted errors on garbage
        raise web.HTTPBadRequest(text=f"the SDP offer could not be parsed: {exc}") from None
    if not {"audio", "video"} & set(kinds):
        raise web.HTTPBadRequest(text="the SDP offer has no audio or video section")
    return kinds


def _offered_h264_level(sdp: str) -> str | None:
    for media in SessionDescription.parse(sdp).media:
        if media.kind != "video":
            continue
        for codec in media.rtp.codecs:
            if codec.mimeType.lower() == "video/h264":
                plid = str(codec.parameters.get("profile-level-id", "42e01f"))
                try:
                    return validate_profile_level_id(plid)
                except ValueError:
                    continue
    return None


class RelayServer:
    """aiohttp server for WHIP ingest, WHEP playback and the viewer page."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        view_token: str | None = None,
        cors_origins: tuple[str, ...] = (),
        allow_lan: bool = False,
        keyframe_request_interval_s: float = 1.0,
        playout_delay_zero: bool = True,
        marker_release: bool = True,
        audio_red: bool | None = None,
        web_root: Path = WEB_ROOT,
        guest_book: GuestBook | None = None,
    ) -> None:
        if host not in _LOOPBACK_HOSTS and not allow_lan:
            raise ValueError(f"RelayServer host {host!r}: listening beyond 127.0.0.1 needs allow_lan=True")
        if allow_lan and not (token and view_token):
            raise ValueError(
                "RelayServer: a publish token and a view token are required when the relay listens on "
                "the LAN (allow_lan=True)"
            )
        if token and view_token and token == view_token:
            raise ValueError("RelayServer: the view token must differ from the publish token")
        if not 0 <= port <= 65535:
            raise ValueError(f"RelayServer port must be 0..65535, got {port}")
        self.host = host
        self._port = port
        self._token = token
        self._view_token = view_token
        self._cors = OriginPolicy(cors_origins)
        self._interval = keyframe_request_interval_s
        self._playout_delay = playout_delay_zero
        self._marker_release = marker_release  # False: aiortc's stock jitter buffer (benchmarks)
        # RED audio in from publishers that send it, out to viewers that take it (None: DLS_AUDIO_RED)
        self._audio_red = audio_red_default() if audio_red is None else audio_red
        self._web_root = web_root
        self.streams: dict[str, RelayStream] = {}
        self._runner: web.AppRunner | None = None
        self._pcs: set[RTCPeerConnection] = set()
        # co-host guests (issue 15): their own tokens, routes and peers
        self.guests = GuestIngest(guest_book, self, web_root) if guest_book is not None else None

    @property
    def port(self) -> int:
        return self._port

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}{path}"

    async def start(self) -> None:
        loopback.enable()
        passthrough.install()
        playout_delay.register()
        if self._audio_red:
            audio_red.ensure_red()
        app = web.Application(client_max_size=256 * 1024, middlewares=[cors_middleware(self._cors)])
        app.add_routes(
            [
                web.get("/", self._page),
                web.get("/view/{stream}", self._page),
                web.get("/static/{name}", self._static),
                web.get("/favicon.ico", self._no_icon),
                web.post("/whip/{stream}", self._whip_post),
                web.delete("/whip/{stream}/{id}", self._whip_delete),
                web.patch("/whip/{stream}/{id}", self._no_patch),
                web.post("/whep/{stream}", self._whep_post),
                web.delete("/whep/{stream}/{id}", self._whep_delete),
                web.patch("/whep/{stream}/{id}", self._no_patch),
                web.options("/whep/{stream}", self._options),
                web.options("/whip/{stream}", self._options),
                web.options("/whep/{stream}/{id}", self._options),
                web.options("/whip/{stream}/{id}", self._options),
            ]
        )
        if self.guests is not None:
            app.add_routes(self.guests.routes())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        try:
            await site.start()
        except BaseException:  # the port is taken, or start was cancelled: leave nothing behind
            await runner.cleanup()
            raise
        self._runner = runner
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self._port = sockets[0].getsockname()[1]
        log.info("relay listening on %s", self.url())

    async def stop(self) -> None:
        if self.guests is not None:
            await self.guests.stop()
        for stream in self.streams.values():
            if stream.ingest is not None:
                await self._end_ingest(stream, stream.ingest)
            for viewer in list(stream.viewers.values()):
                await self._end_viewer(stream, viewer)
        for pc in list(self._pcs):
            await pc.close()
        self._pcs.clear()
        self.streams.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- helpers -------------------------------------------------------------------------------

    def _stream(self, request: web.Request) -> RelayStream:
        name = request.match_info["stream"]
        if not _STREAM_NAME.match(name):
            raise web.HTTPBadRequest(text="stream names are 1-64 letters, digits, '.', '_' or '-'")
        if name not in self.streams:
            self.streams[name] = RelayStream(name, self._interval)
        return self.streams[name]

    def _drop_if_unused(self, stream: RelayStream) -> None:
        """A failed or bogus POST leaves no stream entry behind."""
        if stream.ingest is None and not stream.viewers and self.streams.get(stream.name) is stream:
            del self.streams[stream.name]

    def _authorize(self, request: web.Request, scope: Scope) -> None:
        """Publishing needs the publish token; watching the view token (or the publish token).
        With no token set (loopback), anyone on this machine may do both."""
        accepted = (self._token,) if scope == "publish" else (self._view_token, self._token)
        if not any(accepted):
            return
        if not token_matches(bearer(request.headers, request.query), *accepted):
            raise web.HTTPUnauthorized(
                text=f"a valid bearer token with the {scope} right is required",
                headers={"WWW-Authenticate": "Bearer"},
            )

    async def _read_offer(self, request: web.Request, scope: Scope) -> str:
        self._authorize(request, scope)
        if request.content_type != "application/sdp":
            raise web.HTTPUnsupportedMediaType(text="the offer must be sent as application/sdp")
        offer = await request.text()
        if not offer.strip().startswith("v=0"):
            raise web.HTTPBadRequest(text="the body is not an SDP offer")
        return offer

    def _new_pc(self) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self._pcs.add(pc)
        return pc

    @staticmethod
    def _created(answer: str, location: str, low_layer: str | None = None) -> web.Response:
        headers = {"Location": location, "Access-Control-Expose-Headers": "Location"}
        if low_layer is not None:  # where our studio may publish this stream's low layer (layers)
            headers["Link"] = low_layer_link(low_layer)
            headers["Access-Control-Expose-Headers"] = "Location, Link"
        return web.Response(status=201, text=answer, content_type="application/sdp", headers=headers)

    def _watch(self, pc: RTCPeerConnection, on_gone: asyncio.Future[None]) -> None:
        def changed() -> None:
            if pc.connectionState in ("failed", "closed") and not on_gone.done():
                on_gone.set_result(None)

        pc.on("connectionstatechange", changed)

    # --- WHIP ingest ---------------------------------------------------------------------------

    async def _whip_post(self, request: web.Request) -> web.Response:
        offer = await self._read_offer(request, "publish")
        kinds = _media_kinds(offer)  # garbage is a 400 before any stream entry exists
        refusal = whep_offer.ingest_refusal(offer)
        if refusal is not None:
            raise web.HTTPNotAcceptable(text=refusal)
        stream = self._stream(request)
        pc = self._new_pc()
        ingest = _Ingest(id=uuid.uuid4().hex, pc=pc)
        try:
            for kind in kinds:
                if kind not in ("audio", "video"):
                    continue
                transceiver = pc.addTransceiver(kind, direction="recvonly")
                if kind == "video":
                    caps = RTCRtpReceiver.getCapabilities("video")
                    assert caps is not None
                    transceiver.setCodecPreferences(
                        [c for c in caps.codecs if c.mimeType.lower() in ("video/h264", "video/rtx")]
                    )
                elif not self._audio_red:
                    transceiver.setCodecPreferences(opus_preferences())
                if self._marker_release:
                    passthrough.use_fast_release(transceiver.receiver, kind, stream.request_keyframe)
                ingest.receivers[kind] = transceiver.receiver
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            if self._audio_red and "audio" in ingest.receivers:  # RED as the publisher numbers it
                audio_red.pin_red(next(t for t in pc.getTransceivers() if t.kind == "audio"), offer)
            for receiver in ingest.receivers.values():
                passthrough.make_passthrough(receiver)
            await pc.setLocalDescription(await pc.createAnswer())
        except web.HTTPException:
            await self._close_pc(pc)
            self._drop_if_unused(stream)
            raise
        except Exception as exc:
            await self._close_pc(pc)
            self._drop_if_unused(stream)
            raise web.HTTPNotAcceptable(text=f"cannot accept this offer (H.264/Opus only): {exc}") from None

        if stream.ingest is not None:
            await self._end_ingest(stream, stream.ingest)
        stream.video_plid = _offered_h264_level(offer) or stream.video_plid
        stream.ingest = ingest
        for kind, receiver in ingest.receivers.items():
            ingest.tasks.append(asyncio.create_task(self._forward(stream, ingest, kind, receiver.track)))
        gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._watch(pc, gone)
        ingest.tasks.append(asyncio.create_task(self._reap_ingest(stream, ingest, gone)))
        log.info("relay: ingest %s on stream %r", ingest.id, stream.name)
        low = None if layers.base_name(stream.name) is not None else f"/whip/{stream.name}{layers.LOW_SUFFIX}"
        return self._created(pc.localDescription.sdp, f"/whip/{stream.name}/{ingest.id}", low)

    async def _forward(
        self, stream: RelayStream, ingest: _Ingest, kind: str, track: MediaStreamTrack
    ) -> None:
        try:
            while True:
                packet = await track.recv()
                if isinstance(packet, av.Packet) and stream.ingest is ingest:
                    stream.publish(ingest.id, kind, packet)
                    if kind == "video":
                        self._to_main_stream(stream, packet)
        except MediaStreamError:
            pass

    def _to_main_stream(self, stream: RelayStream, packet: av.Packet) -> None:
        """A ``X.low`` layer's packet also goes to ``X``'s viewers that watch the low layer."""
        name = layers.base_name(stream.name)
        main = self.streams.get(name) if name is not None else None
        if main is not None:
            main.low = stream
            main.publish_low(packet)

    async def _reap_ingest(self, stream: RelayStream, ingest: _Ingest, gone: asyncio.Future[None]) -> None:
        await gone
        if stream.ingest is ingest:
            await self._end_ingest(stream, ingest)

    async def _end_ingest(self, stream: RelayStream, ingest: _Ingest) -> None:
        if stream.ingest is ingest:
            stream.ingest = None
        current = asyncio.current_task()
        for task in ingest.tasks:
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in ingest.tasks if t is not current), return_exceptions=True)
        await self._close_pc(ingest.pc)

    async def _whip_delete(self, request: web.Request) -> web.Response:
        self._authorize(request, "publish")
        stream = self._stream(request)
        ingest = stream.ingest
        if ingest is None or ingest.id != request.match_info["id"]:
            raise web.HTTPNotFound(text="no such WHIP session")
        await self._end_ingest(stream, ingest)
        return web.Response(status=200)

    # --- WHEP playback ---------------------------------------------------------------------------

    async def _whep_post(self, request: web.Request) -> web.Response:
        offer = await self._read_offer(request, "view")
        _media_kinds(offer)  # garbage is a 400 before any stream entry exists
        stream = self._stream(request)
        try:  # third-party players: other H.264 profiles, levels, unsupported audio (``whep_offer``)
            plan = whep_offer.plan_video(offer, stream.video_plid)
        except ValueError as exc:
            self._drop_if_unused(stream)
            raise web.HTTPNotAcceptable(text=str(exc)) from None
        offer, rejected = whep_offer.strip_unsupported_audio(offer)
        kinds = _media_kinds(offer)
        pc = self._new_pc()
        viewer = _Viewer(id=uuid.uuid4().hex, pc=pc)
        transceivers = {}
        try:
            for kind in kinds:
                if kind not in ("audio", "video") or kind in viewer.tracks:
                    continue
                track = EncodedPacketTrack(kind, max_queue=16 if kind == "video" else 50,
                                           on_keyframe_needed=lambda: stream.request_viewer_keyframe(viewer))
                transceiver = pc.addTransceiver(track, direction="sendonly")
                if kind == "video":
                    transceiver.setCodecPreferences(
                        h264_preferences(plan.preferences_plid if plan else stream.video_plid))
                    if self._playout_delay:
                        playout_delay.attach(transceiver.sender)
                    viewer.rtcp = feedback.attach(
                        transceiver.sender, on_keyframe_request=lambda: stream.request_viewer_keyframe(viewer),
                        on_report=lambda report: self._on_viewer_report(stream, viewer, report),
                    )
                    sender_setup.prepare_video_sender(transceiver.sender, viewer.rtcp)  # 1 s history, pacing
                elif self._audio_red:  # RED to a viewer that offers it (Chromium does), else Opus
                    transceiver.setCodecPreferences(audio_red.opus_red_preferences())
                    viewer.red = audio_red.attach_sender(transceiver.sender)
                else:
                    transceiver.setCodecPreferences(opus_preferences())
                viewer.tracks[kind] = track
                transceivers[kind] = transceiver
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            if "video" in transceivers and plan is not None:
                whep_offer.pin_answer(transceivers["video"], plan)
            if "audio" in transceivers and self._audio_red:
                audio_red.pin_red(transceivers["audio"], offer)
            await pc.setLocalDescription(await pc.createAnswer())
        except web.HTTPException:
            await self._close_pc(pc)
            self._drop_if_unused(stream)
            raise
        except Exception as exc:
            await self._close_pc(pc)
            self._drop_if_unused(stream)
            raise web.HTTPNotAcceptable(text=f"cannot serve this offer (needs H.264/Opus): {exc}") from None

        stream.viewers[viewer.id] = viewer
        gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._watch(pc, gone)

        async def reap() -> None:
            await gone
            await self._end_viewer(stream, viewer)

        asyncio.ensure_future(reap())
        stream.request_keyframe()  # a late joiner starts at the next keyframe
        log.info("relay: viewer %s on stream %r", viewer.id, stream.name)
        answer = whep_offer.reinsert_rejected(pc.localDescription.sdp, rejected)
        return self._created(answer, f"/whep/{stream.name}/{viewer.id}")

    @staticmethod
    def _on_viewer_report(stream: RelayStream, viewer: _Viewer, report: feedback.ReceiverReport) -> None:
        stream.decide_layer(viewer)  # a weak link: low at once
        if viewer.red is not None:  # the video's reports (~1/s) say this viewer's loss sooner than audio's
            viewer.red.on_loss(report.fraction_lost * 100, report.rtt_s)

    # --- the program for co-host guests (guest_ingest.ProgramFeed) ------------------------------

    def add_program_viewer(self, room: str, pc: RTCPeerConnection, track: EncodedPacketTrack,
                           rtcp: feedback.FeedbackCounters | None) -> str:
        """One more viewer of ``room``'s video: a guest's return feed (its audio is the studio's)."""
        stream = self.streams.setdefault(room, RelayStream(room, self._interval))
        viewer = _Viewer(id=uuid.uuid4().hex, pc=pc, tracks={"video": track}, rtcp=rtcp)
        stream.viewers[viewer.id] = viewer
        return viewer.id

    def remove_program_viewer(self, room: str, viewer_id: str) -> None:
        stream = self.streams.get(room)
        if stream is not None:
            stream.viewers.pop(viewer_id, None)
            self._drop_if_unused(stream)

    def program_video_plid(self, room: str) -> str:
        stream = self.streams.get(room)
        return stream.video_plid if stream is not None else "42e01f"

    def request_program_keyframe(self, room: str) -> None:
        stream = self.streams.get(room)
        if stream is not None:
            stream.request_keyframe()

    async def _end_viewer(self, stream: RelayStream, viewer: _Viewer) -> None:
        stream.viewers.pop(viewer.id, None)
        await self._close_pc(viewer.pc)

    async def _whep_delete(self, request: web.Request) -> web.Response:
        self._authorize(request, "view")
        stream = self._stream(request)
        viewer = stream.viewers.get(request.match_info["id"])
        if viewer is None:
            raise web.HTTPNotFound(text="no such WHEP session")
        await self._end_viewer(stream, viewer)
        return web.Response(status=200)

    async def _no_patch(self, request: web.Request) -> web.Response:
        # RFC 9725: a resource without trickle ICE / ICE restart support answers 405
        raise web.HTTPMethodNotAllowed("PATCH", ["DELETE"])

    async def _options(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers={"Accept-Post": "application/sdp"})

    async def _close_pc(self, pc: RTCPeerConnection) -> None:
        self._pcs.discard(pc)
        try:
            await pc.close()
        except Exception:
            log.exception("relay: closing a peer connection failed")

    # --- viewer page -----------------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(self._web_root / "viewer.html", headers={"Cache-Control": "no-cache"})

    async def _no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _static(self, request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if name not in ("viewer.js", "viewer.css", "guest.js", "guest.css"):
            raise web.HTTPNotFound()
        return web.FileResponse(self._web_root / name, headers={"Cache-Control": "no-cache"})


__all__ = ["RelayServer", "RelayStream"]
