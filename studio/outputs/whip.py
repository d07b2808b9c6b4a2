"""WHIP output (RFC 9725): our already-encoded H.264/Opus packets pushed over WebRTC with aiortc.

Runs on the ``net`` asyncio thread (``studio.net.NetLoop``); ``put()`` may be called from any
thread (the encoder's) and never blocks. aiortc's encoder is not used: a packet track hands
``av.Packet``s to the sender, which only packetises them (``studio.webrtc.packet_track``).

Signalling: POST the SDP offer (``Authorization: Bearer``) -> 201 with the answer and a Location
(the session resource; PATCH/DELETE go there). 307/308 are followed by hand and the token only
ever goes to the configured endpoint's origin. ``Link: <...>; rel="ice-server"`` entries are
remembered and used for the next peer connection (aiortc cannot change ICE servers on a live
connection: it has neither ``setConfiguration`` nor ``restartIce``).

Trickle ICE: aiortc gathers every candidate inside ``setLocalDescription``, so the offer already
holds them all and works with any server. When the 201 advertises
``Accept-Patch: application/trickle-ice-sdpfrag`` we still PATCH the candidates with
``a=end-of-candidates`` (and ``If-Match`` with the ETag), which tells the server no more are
coming. ICE restart needs ``restartIce`` too, so a dropped connection is answered with a DELETE
of the old resource and a fresh POST after a backoff (2 s, x1.5, at most 60 s; a Retry-After
from the server is honoured) until the user stops the output.

Liveness: a session ends when the ICE/DTLS connection fails or closes, or when the receiver, having
sent RTCP, sends none for ``feedback_timeout_s`` (3 s; ``studio.webrtc.liveness``) and the server
then does not answer an HTTP OPTIONS on the endpoint within ``probe_timeout_s`` -- a killed server
is noticed in seconds instead of after aiortc's 30 s consent timeout. A server that answers keeps
the session through a UDP outage (NACK/PLI recover it as soon as packets flow, far sooner than a
new session would) for up to ``feedback_reachable_timeout_s`` of silence. While the server is
merely unreachable (connection refused, no route) the retry delay stays at most
``unreachable_retry_max_s`` (3 s): such an attempt costs the server nothing, and a server coming
back is exactly what the studio waits for, so it is live again within seconds of its return.
Servers that answer with errors get the growing backoff.

Low layer: our own relay advertises where a second, low layer of the stream may be published
(``Link: <...>; rel="urn:drama-live-studio:low-layer"`` on the 201, same origin only);
``low_layer_url`` holds it once a session with it is live, and ``low_layer_advertised`` says so.
Other servers never send it, so they never get a second stream.

Feedback: PLI/FIR call ``on_keyframe_request()`` (rate-limited), REMB calls
``on_bitrate_estimate(bps)`` clamped to the configured min/max, and each receiver report about the
video calls ``on_receiver_report`` (loss, round trip, delivered rate: ``feedback.ReceiverReport``).
All run on the net thread, so the encoder's callbacks must be thread-safe (set a flag, do not encode there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.rtcconfiguration import RTCBundlePolicy

from encoders.packets import EncodedPacket, StreamInfo
from scenes.events import Signal
from studio.net.loop import NetLoop
from studio.outputs.sdp_check import missing_h264
from studio.outputs.whip_events import OutputState, OutputStatus, WhipStats
from studio.outputs.whip_http import (
    TRICKLE_TYPE,
    WhipError,
    error_for,
    parse_ice_servers,
    parse_low_layer,
    redact_url,
    request,
    resolve_location,
    same_origin,
    supports_trickle,
    trickle_sdpfrag,
    validate_endpoint,
)
from studio.secrets import Secret, redact
from studio.webrtc import audio_red, feedback, liveness, loopback, playout_delay, sender_setup
from studio.webrtc.codecs import h264_preferences, opus_preferences, validate_profile_level_id
from studio.webrtc.packet_track import EncodedPacketTrack

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 3600.0


@dataclass(frozen=True)
class WhipConfig:
    url: str
    token: Secret | str | None = field(default=None, repr=False)  # stored as a Secret
    video: StreamInfo | None = None
    audio: StreamInfo | None = None
    min_bitrate_bps: int = 300_000
    max_bitrate_bps: int = 6_000_000
    ice_servers: tuple[RTCIceServer, ...] = ()
    request_timeout_s: float = 10.0
    connect_timeout_s: float = 20.0
    backoff_initial_s: float = 2.0
    backoff_factor: float = 1.5
    backoff_max_s: float = 60.0
    unreachable_retry_max_s: float = 3.0  # retry delay cap while nothing answers (see the module doc)
    feedback_timeout_s: float = liveness.DEFAULT_SILENCE_S  # receiver silent this long: ask the server
    probe_timeout_s: float = 1.0  # ... which must answer HTTP this fast, or the session is dead
    # ... dead anyway after this (read when the config is made, so a test can keep sessions longer)
    feedback_reachable_timeout_s: float = field(default_factory=lambda: liveness.DEFAULT_REACHABLE_SILENCE_S)
    dead_delete_timeout_s: float = 2.0  # DELETE of a session whose server went silent
    playout_delay: bool = True
    trickle: bool = True
    stats_interval_s: float = 1.0
    keyframe_request_interval_s: float = 0.5
    # RED (RFC 2198) for Opus when the server answers it; plain Opus otherwise (``webrtc.audio_red``)
    audio_red: bool = field(default_factory=audio_red.enabled_by_default)

    def __post_init__(self) -> None:
        validate_endpoint(self.url, "WhipConfig.url")
        if isinstance(self.token, str):
            object.__setattr__(self, "token", Secret(self.token) if self.token else None)
        if self.video is None and self.audio is None:
            raise ValueError("WhipConfig: give at least one of video/audio StreamInfo")
        if self.video is not None:
            if self.video.kind != "video" or self.video.codec.lower() != "h264":
                raise ValueError("WhipConfig.video: WHIP video must be an H.264 video stream")
            validate_profile_level_id(
                self.video.profile_level_id or "42e01f", "WhipConfig.video.profile_level_id"
            )
        if self.audio is not None and (self.audio.kind != "audio" or self.audio.codec.lower() != "opus"):
            raise ValueError("WhipConfig.audio: WebRTC audio must be an Opus stream")
        if not 0 < self.min_bitrate_bps <= self.max_bitrate_bps:
            raise ValueError(
                f"WhipConfig: need 0 < min_bitrate_bps ({self.min_bitrate_bps}) <= max_bitrate_bps "
                f"({self.max_bitrate_bps})"
            )
        for name in (
            "request_timeout_s",
            "connect_timeout_s",
            "backoff_initial_s",
            "backoff_max_s",
            "unreachable_retry_max_s",
            "feedback_timeout_s",
            "probe_timeout_s",
            "feedback_reachable_timeout_s",
            "dead_delete_timeout_s",
            "stats_interval_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"WhipConfig.{name} must be > 0")
        if self.backoff_factor < 1:
            raise ValueError("WhipConfig.backoff_factor must be >= 1")

    def bearer(self) -> str | None:
        token = self.token
        return token.reveal() if isinstance(token, Secret) else token or None


class WhipOutput:
    """One WHIP publishing session with reconnects. Implements ``encoders.packets.PacketSink``."""

    def __init__(
        self,
        config: WhipConfig,
        net: NetLoop,
        *,
        on_keyframe_request: Callable[[], None] | None = None,
        on_bitrate_estimate: Callable[[int], None] | None = None,
        on_receiver_report: Callable[[feedback.ReceiverReport], None] | None = None,
    ) -> None:
        self.config = config
        self.on_receiver_report = on_receiver_report  # the video's receiver reports (net thread)
        self._net = net
        self.on_keyframe_request: Callable[[], None] = on_keyframe_request or (lambda: None)
        self.on_bitrate_estimate: Callable[[int], None] = on_bitrate_estimate or (lambda bps: None)
        self.state_changed: Signal[OutputState] = Signal()
        self.stats_changed: Signal[WhipStats] = Signal()
        self.low_layer_advertised: Signal[str] = Signal()  # net thread, once per live session with it
        self.low_layer_url: str | None = None
        self._state = OutputState(OutputStatus.IDLE)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_teardown = False
        self._accepting = False
        self._http: aiohttp.ClientSession | None = None
        self._pc: RTCPeerConnection | None = None
        self._tracks: dict[str, EncodedPacketTrack] = {}
        self._senders: list[RTCRtpSender] = []
        self._feedback: feedback.FeedbackCounters | None = None  # the video sender's
        self._retransmit: sender_setup.RetransmitCounters | None = None
        self._rtcp: list[feedback.FeedbackCounters] = []  # every sender's (liveness)
        self._audio: RTCRtpTransceiver | None = None
        self.audio_red: audio_red.RedSenderState | None = None  # this session's, when RED is offered
        self._session_silent = False  # the receiver went quiet: the server is likely gone
        self._stats_task: asyncio.Task[None] | None = None
        self._last_keyframe_request = 0.0
        self._target_bps = config.max_bitrate_bps
        self._went_live = False
        self.learned_ice_servers: list[RTCIceServer] = []
        self.resource_url: str | None = None
        self._etag: str | None = None
        if origin_is_loopback(config.url):
            loopback.enable()

    # --- public API (any thread) ---------------------------------------------------------

    @property
    def state(self) -> OutputState:
        return self._state

    def start(self) -> None:
        """Begin publishing (returns at once; follow ``state_changed``)."""
        if self._net.in_loop_thread():
            self._start_on_loop()
        else:
            self._net.call_soon(self._start_on_loop)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop publishing: DELETE the resource, close the connection. Blocks until done."""
        if self._net.in_loop_thread():
            raise RuntimeError("WhipOutput.stop() from the net thread: await astop() instead")
        self._net.run(self.astop(), timeout)

    def put(self, packet: EncodedPacket) -> None:
        """Hand one encoded packet to the session (non-blocking; dropped while not live)."""
        if not self._accepting:
            return
        try:
            self._net.loop.call_soon_threadsafe(self._deliver, packet)
        except RuntimeError:  # the loop is closing
            self._accepting = False

    def new_picture(self) -> None:
        """The next video packet ``put`` begins a new picture (the ladder's step to another
        rendition): what was sent before is not resent when NACKed (``feedback``). Call from the
        thread that puts the packets, before the picture's first one (the loop keeps their order)."""
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._net.loop.call_soon_threadsafe(self._new_picture_on_loop)

    # --- loop thread -------------------------------------------------------------------------

    def _new_picture_on_loop(self) -> None:
        if self._feedback is not None:
            self._feedback.picture_restarted()

    def _start_on_loop(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="whip-output")

    async def astart(self) -> None:
        self._start_on_loop()

    async def astop(self) -> None:
        self._stopping = True
        task = self._task
        if task is not None and not task.done():
            if not self._in_teardown:
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._task = None
        self._emit(OutputStatus.STOPPED, "stopped")

    def _emit(self, status: OutputStatus, message: str = "", retry_in_s: float | None = None) -> None:
        # messages quote servers (error bodies may echo the token): redacted before anyone sees them
        previous, self._state = self._state, OutputState(status, redact(message), retry_in_s)
        changed = (previous.state, previous.message) != (status, self._state.message)
        if changed and status in (OutputStatus.FAILED, OutputStatus.RECONNECTING):  # not each countdown tick
            log.info("WHIP %s: %s", status.value, message)
        self.state_changed.emit(self._state)

    def _deliver(self, packet: EncodedPacket) -> None:
        track = self._tracks.get(packet.kind)
        if track is not None and self._accepting:
            track.push(packet.to_av())

    def _request_keyframe(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_keyframe_request < self.config.keyframe_request_interval_s:
            return
        self._last_keyframe_request = now
        try:
            self.on_keyframe_request()
        except Exception:
            log.exception("on_keyframe_request failed")

    def _on_video_report(self, report: feedback.ReceiverReport) -> None:
        # the video's reports (about 1/s; a browser reports on audio every ~5 s) say the path's loss
        # sooner: RED's distance follows them too
        if self.audio_red is not None:
            self.audio_red.on_loss(report.fraction_lost * 100, report.rtt_s)
        if self.on_receiver_report is not None:
            self.on_receiver_report(report)

    def _on_remb(self, bps: int) -> None:
        clamped = max(self.config.min_bitrate_bps, min(self.config.max_bitrate_bps, int(bps)))
        if clamped == self._target_bps:
            return
        self._target_bps = clamped
        try:
            self.on_bitrate_estimate(clamped)
        except Exception:
            log.exception("on_bitrate_estimate failed")

    async def _run(self) -> None:
        cfg = self.config
        delay = cfg.backoff_initial_s
        async with aiohttp.ClientSession() as http:
            self._http = http
            try:
                while not self._stopping:
                    retry_after: float | None = None
                    unreachable = False
                    self._went_live = False
                    try:
                        await self._session()
                        message = "connection lost"
                    except WhipError as exc:
                        if not exc.retryable:
                            self._emit(OutputStatus.FAILED, str(exc))
                            return
                        message, retry_after = str(exc), exc.retry_after
                        unreachable = exc.unreachable
                    except Exception as exc:  # aiortc or a server bug: keep the engine alive, retry
                        log.exception("WHIP session failed")
                        message = f"unexpected error: {exc}"
                    finally:
                        self._in_teardown = True
                        try:
                            await self._teardown()
                        finally:
                            self._in_teardown = False
                    if self._stopping:
                        return
                    if self._went_live:
                        delay = cfg.backoff_initial_s
                    if retry_after is not None:
                        wait = min(retry_after, MAX_RETRY_AFTER_S)
                    else:
                        wait = delay
                        delay = min(delay * cfg.backoff_factor, cfg.backoff_max_s)
                        if unreachable:  # nothing listens: retry soon, it costs the server nothing
                            wait = min(wait, cfg.unreachable_retry_max_s)
                            delay = min(delay, cfg.unreachable_retry_max_s)
                    await self._countdown(wait, message)
            finally:
                self._http = None

    async def _countdown(self, wait: float, message: str) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + wait
        while not self._stopping:
            remaining = end - loop.time()
            if remaining <= 0:
                return
            self._emit(OutputStatus.RECONNECTING, message, round(remaining, 1))
            await asyncio.sleep(min(1.0, remaining))

    def _make_peer(self) -> RTCPeerConnection:
        cfg = self.config
        servers = list(cfg.ice_servers) + self.learned_ice_servers
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self._tracks, self._senders, self._rtcp = {}, [], []
        self._audio, self.audio_red = None, None
        if cfg.video is not None:
            plid = (cfg.video.profile_level_id or "42e01f").lower()
            track = EncodedPacketTrack("video", on_keyframe_needed=self._request_keyframe)
            transceiver = pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(h264_preferences(plid))
            if cfg.playout_delay:
                playout_delay.attach(transceiver.sender)
            self._feedback = feedback.attach(transceiver.sender, self._request_keyframe, self._on_remb,
                                             self._on_video_report)
            self._retransmit = sender_setup.prepare_video_sender(transceiver.sender, self._feedback)  # history, pacing
            self._rtcp.append(self._feedback)
            self._tracks["video"] = track
            self._senders.append(transceiver.sender)
        if cfg.audio is not None:
            track = EncodedPacketTrack("audio", max_queue=50)
            transceiver = pc.addTransceiver(track, direction="sendonly")
            if cfg.audio_red:
                transceiver.setCodecPreferences(audio_red.opus_red_preferences())
                self.audio_red = audio_red.attach_sender(transceiver.sender)
            else:
                transceiver.setCodecPreferences(opus_preferences())
            self._audio = transceiver
            self._rtcp.append(feedback.attach(transceiver.sender))  # its receiver reports count too
            self._tracks["audio"] = track
            self._senders.append(transceiver.sender)
        return pc

    async def _session(self) -> None:
        cfg = self.config
        assert self._http is not None
        token = cfg.bearer()
        self._emit(OutputStatus.CONNECTING, f"connecting to {redact_url(cfg.url)}")
        pc = self._pc = self._make_peer()
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp

        resp = await request(
            self._http,
            "POST",
            cfg.url,
            token=token,
            token_origin=cfg.url,
            timeout_s=cfg.request_timeout_s,
            headers={"Content-Type": "application/sdp"},
            body=offer,
        )
        if resp.status != 201:
            raise error_for("POST", resp)
        location = resp.headers.get("Location")
        if not location:
            raise WhipError(
                f"POST {redact_url(resp.url)}: the server answered 201 without a Location header "
                "(not a WHIP endpoint?)",
                retryable=False,
            )
        self.resource_url = resolve_location(resp.url, location)
        self._etag = resp.headers.get("ETag")
        links = resp.headers.getall("Link", [])
        servers = parse_ice_servers(links)
        if servers:
            self.learned_ice_servers = servers
        low = parse_low_layer(links, resp.url)
        # the layer gets our token: never to another origin than the one we were given
        low_layer = low if low is not None and same_origin(low, cfg.url) else None
        if not resp.text.strip():
            raise WhipError(f"POST {redact_url(resp.url)}: 201 without an SDP answer", retryable=False)
        no_h264 = missing_h264(resp.text) if cfg.video is not None else None
        if no_h264 is not None:
            raise WhipError(no_h264, retryable=False)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=resp.text, type="answer"))
        except Exception as exc:
            raise WhipError(f"the server's SDP answer was not usable: {exc}", retryable=False) from None
        if self._audio is not None and cfg.audio_red:
            audio_red.pin_red(self._audio, resp.text)  # a server without RED: plain Opus

        if cfg.trickle and supports_trickle(resp.headers):
            await self._patch_candidates(offer, token)

        await self._wait_connection(pc)
        self._went_live = True
        self._accepting = True
        self._emit(OutputStatus.LIVE, f"live on {redact_url(cfg.url)}")
        self.low_layer_url = low_layer
        if low_layer is not None:
            self.low_layer_advertised.emit(low_layer)
        # a new session: nothing measured yet (the previous session's figures must not linger)
        self.stats_changed.emit(WhipStats(target_bitrate_bps=self._target_bps,
                                          max_bitrate_bps=cfg.max_bitrate_bps))
        self._request_keyframe(force=True)  # a new receiver needs an IDR to start
        self._stats_task = asyncio.create_task(self._poll_stats(), name="whip-stats")
        await self._wait_disconnect(pc)

    async def _patch_candidates(self, offer: str, token: str | None) -> None:
        assert self._http is not None and self.resource_url is not None
        headers = {"Content-Type": TRICKLE_TYPE, "If-Match": self._etag or "*"}
        try:
            resp = await request(
                self._http,
                "PATCH",
                self.resource_url,
                token=token,
                token_origin=self.config.url,
                timeout_s=self.config.request_timeout_s,
                headers=headers,
                body=trickle_sdpfrag(offer),
            )
        except WhipError as exc:
            log.warning("trickle ICE PATCH failed (the offer already carries candidates): %s", exc)
            return
        if resp.status not in (200, 204):
            log.warning("trickle ICE PATCH answered %d; the offer already carries candidates", resp.status)

    async def _wait_connection(self, pc: RTCPeerConnection) -> None:
        changed = asyncio.Event()
        pc.on("connectionstatechange", changed.set)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.connect_timeout_s
        while pc.connectionState != "connected":
            if pc.connectionState in ("failed", "closed"):
                raise WhipError(f"the WebRTC connection {pc.connectionState} while connecting (ICE/DTLS)")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WhipError(f"no WebRTC connection within {self.config.connect_timeout_s:g} s (ICE/DTLS)")
            changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def _wait_disconnect(self, pc: RTCPeerConnection) -> None:
        """Return when the connection fails or closes; raise when the receiver falls silent."""
        changed = asyncio.Event()
        pc.on("connectionstatechange", changed.set)
        cfg = self.config
        silence = asyncio.create_task(
            liveness.wait_until_dead(self._rtcp_packets, self._server_answers, cfg.feedback_timeout_s,
                                     cfg.feedback_reachable_timeout_s, on_resumed=self._feedback_resumed),
            name="whip-liveness")
        try:
            while pc.connectionState not in ("failed", "closed"):
                changed.clear()
                state_change = asyncio.create_task(changed.wait())
                await asyncio.wait((state_change, silence), return_when=asyncio.FIRST_COMPLETED)
                state_change.cancel()
                if silence.done():
                    self._session_silent = True
                    raise WhipError(f"the session is dead ({silence.result()})")
        finally:
            silence.cancel()
            await asyncio.gather(silence, return_exceptions=True)

    def _feedback_resumed(self, silent_s: float) -> None:
        # the receiver is back after an outage: what it had is seconds old, start it on a fresh
        # keyframe now rather than after its jitter buffer gives up on the hole and sends a PLI
        log.info("WHIP: the receiver reports again after %.1f s of silence; the session was kept", silent_s)
        self._request_keyframe(force=True)

    async def _server_answers(self) -> bool:
        """Does the WHIP server still answer HTTP? Any answer but a gateway's "no backend" counts."""
        cfg = self.config
        if self._http is None:
            return False
        try:
            resp = await request(self._http, "OPTIONS", cfg.url, token=cfg.bearer(), token_origin=cfg.url,
                                 timeout_s=cfg.probe_timeout_s)
        except WhipError as exc:
            log.info("WHIP: the receiver is silent and the server does not answer: %s", exc)
            return False
        return resp.status not in (502, 503, 504)

    def _rtcp_packets(self) -> int:
        return sum(c.rtcp_packets for c in self._rtcp)

    def _feedback_age_s(self) -> float | None:
        ages = [age for c in self._rtcp if (age := c.feedback_age_s()) is not None]
        return min(ages) if ages else None

    async def _teardown(self) -> None:
        self._accepting = False
        self.low_layer_url = None
        silent, self._session_silent = self._session_silent, False
        if self._stats_task is not None:
            self._stats_task.cancel()
            await asyncio.gather(self._stats_task, return_exceptions=True)
            self._stats_task = None
        # DELETE first, then close: a server (Janus + simple-whip-server) that sees the DTLS/ICE
        # session end first drops the resource and answers the DELETE with 404
        resource, self.resource_url = self.resource_url, None
        if resource and self._http is not None:
            cfg = self.config
            try:
                resp = await request(
                    self._http,
                    "DELETE",
                    resource,
                    token=cfg.bearer(),
                    token_origin=cfg.url,
                    # a silent server will not answer either: do not hold the reconnect for long
                    timeout_s=min(cfg.request_timeout_s, cfg.dead_delete_timeout_s) if silent
                    else cfg.request_timeout_s,
                )
                if resp.status == 404:  # not success: the server had lost the session already
                    log.warning("WHIP DELETE %s answered 404: the server no longer knew the session",
                                redact_url(resource))
                elif resp.status not in (200, 202, 204):
                    log.warning("WHIP DELETE %s answered %d", redact_url(resource), resp.status)
            except WhipError as exc:
                log.warning("WHIP DELETE failed: %s", exc)
        pc, self._pc = self._pc, None
        if pc is not None:
            try:
                await pc.close()
            except Exception:
                log.exception("closing the peer connection failed")

    async def _poll_stats(self) -> None:
        loop = asyncio.get_running_loop()
        last_bytes, last_t = 0, loop.time()
        while True:
            await asyncio.sleep(self.config.stats_interval_s)
            total = 0
            rtt_ms: float | None = None
            loss_pct, lost = 0.0, 0
            for sender in self._senders:
                report = await sender.getStats()
                for s in report.values():
                    if s.type == "outbound-rtp":
                        total += s.bytesSent
                    elif s.type == "remote-inbound-rtp" and s.kind == "video":
                        if s.roundTripTime is not None:
                            rtt_ms = s.roundTripTime * 1000.0
                        loss_pct = s.fractionLost / 256.0 * 100.0
                        lost = s.packetsLost
            now = loop.time()
            bitrate = int((total - last_bytes) * 8 / max(now - last_t, 1e-3))
            last_bytes, last_t = total, now
            fb = self._feedback or feedback.FeedbackCounters()
            video = self._tracks.get("video")
            tracks = list(self._tracks.values())
            self.stats_changed.emit(
                WhipStats(
                    bitrate_bps=max(0, bitrate),
                    target_bitrate_bps=self._target_bps,
                    max_bitrate_bps=self.config.max_bitrate_bps,
                    rtt_ms=rtt_ms,
                    packet_loss_pct=loss_pct,
                    packets_lost=lost,
                    nacks=fb.nacks,
                    plis=fb.plis,
                    firs=fb.firs,
                    keyframes_sent=video.keyframes_sent if video else 0,
                    packets_sent=sum(t.packets_sent for t in tracks),
                    packets_dropped=sum(t.dropped for t in tracks),
                    feedback_age_s=self._feedback_age_s(),
                    retransmissions=self._retransmit.retransmissions if self._retransmit else 0,
                    nacks_unanswered=self._retransmit.unanswered if self._retransmit else 0,
                )
            )


def origin_is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")
