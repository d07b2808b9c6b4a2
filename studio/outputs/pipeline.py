"""Program picture and mixed sound -> one encode per rendition -> every output.

    program frames (video-clock) --submit--> enc-video --> video fan-out --+--> WHIP session
    mixer blocks (audio) -------------------> enc-audio (Opus) ----------+--> recorder (.mkv)
                                         \\--> enc-audio (AAC, only for .mp4 recordings) --> recorder

The stream may get its own, smaller rendition when the network is weak (``stream_rendition``:
the resolution/frame-rate ladder); the recording always keeps the full picture. Its bitrate comes
from ``ratecontrol`` (REMB and each receiver report's loss, round trip and delivered rate).

Encoders run only while an output needs them. The mixer follows the video clock's program
timeline (clip sound is placed on it and read back by position), so audio and video packets
carry timestamps from one clock.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from encoders.audio import AudioEncoderWorker
from encoders.fanout import PacketFanout
from encoders.settings import AudioEncoderSettings, VideoEncoderSettings, default_bitrate_kbps
from encoders.video import FallbackEvent, VideoEncoderStats, VideoEncoderWorker
from scenes.events import Signal
from studio.audio.mixer import AudioMixer, MixedBlock
from studio.engine import Studio
from studio.events import ProgramFrame
from studio.net.loop import NetLoop
from studio.outputs.audio_routing import ClipAudioRouter
from studio.outputs.destination_set import DestinationSet
from studio.outputs.ladder import Ladder
from studio.outputs.low_layer import LowLayer, LowLayerGate, low_layer_size
from studio.outputs.output_scaling import shares_main, stream_info, stream_ladder
from studio.outputs.output_scaling import stream_max_height as capped_height
from studio.outputs.ratecontrol import RateController
from studio.outputs.recorder import Recorder, RecorderEvent, RecorderStats
from studio.outputs.stream_rendition import StreamRendition
from studio.outputs.whip import WhipConfig, WhipOutput
from studio.outputs.whip_events import OutputState, WhipStats
from studio.secrets import Secret
from studio.webrtc import trace

log = logging.getLogger(__name__)

# How far behind the program clock the live mix runs: a clip hands out one frame of sound per
# frame (33 ms at 30 fps) and the mixer takes 21 ms blocks; the rest is scheduling margin.
MIX_LATENCY_NS = 80_000_000
# Receiver reports come about once a second; an older last report says nothing about now.
FEEDBACK_FRESH_S = 2.5
# RTP/UDP/IP headers of the session (~50 audio + ~100 video packets/s at 60 bytes): the rate
# estimates cover them, so the video target leaves room for them and for the audio
HEADERS_BPS = 70_000
OPUS_BPS = AudioEncoderSettings("opus").bitrate_kbps * 1000


def other_bps(red_copies: int) -> int:
    """What the stream sends besides video: the Opus rate once per copy RED carries of each packet
    (each redundant block is a whole earlier packet), plus the packets' headers."""
    return OPUS_BPS * (1 + max(0, red_copies)) + HEADERS_BPS


def opus_expected_loss(loss_pct: float, red_copies: int) -> float:
    """The loss Opus in-band FEC is told to protect against: none while RED carries a copy (that
    copy already restores a lost packet whole; FEC would spend the packet's bits on a coarse second
    one), else the reported loss."""
    return 0.0 if red_copies > 0 else loss_pct


def red_copies(stream: WhipOutput) -> int | None:
    """Redundant copies per audio packet the session sends now (None: RED not negotiated)."""
    red = stream.audio_red
    return red.policy.distance if red is not None and red.active else None


@dataclass(frozen=True)
class StreamTarget:
    """Where to push, and within which bitrate range the rate control may steer the video.

    The default range is 300-6000 kbit/s: 300 leaves room for Opus (~130 kbit/s) and RTP/RTX
    overhead on a 1 Mbit/s uplink, and is where the ladder's lowest rung (360p15) still looks
    like a picture; 6000 is a good 1080p30 for baseline H.264. ``adaptive_resolution`` lets the
    ladder give the stream a smaller rendition when the target no longer carries the canvas.
    """

    url: str
    token: Secret | None = None  # never shows itself in repr or logs
    min_bitrate_kbps: int = 300
    max_bitrate_kbps: int = 6000
    playout_delay: bool = True  # ask receivers for no playout delay (see DESIGN.md, latency)
    adaptive_resolution: bool = True
    # our own relay only: a second, small layer published there (``low_layer``) for weak viewers.
    # Without it, a layer starts only where a live session's server advertises one (our relay does)
    low_layer_url: str | None = None
    # the stream's largest height (0: no cap; None: the pipeline's ``stream_max_height``, the user's
    # "Stream resolution"): above it the stream gets its own scaled encode and the recording keeps
    # the full picture (output_scaling)
    max_height: int | None = None


@dataclass(frozen=True)
class PipelineStats:
    video: VideoEncoderStats | None
    recorder: RecorderStats | None
    stream: WhipStats | None
    stream_state: OutputState | None
    audio_skipped_blocks: int


class OutputPipeline:
    def __init__(self, studio: Studio, mixer: AudioMixer, video: VideoEncoderSettings | None = None,
                 net: NetLoop | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.studio = studio
        self._clock = clock  # the low layer's comeback wait (tests step it)
        self.mixer = mixer
        self.video_settings = video or default_video_settings(studio)
        self._check_encode_size(self.video_settings)
        # no bitrate given: it follows the main encode's size (an output plan's scaled recording)
        self._auto_bitrate = video is None
        # the user's "Stream resolution" for streams that name none (None: 1080 above 1080p, 0: the canvas)
        self.stream_max_height: int | None = None
        self._net = net
        self._own_net = False
        self.video_fanout = PacketFanout()
        self.opus_fanout = PacketFanout()
        self.aac_fanout = PacketFanout()
        self.fallbacks: Signal[FallbackEvent] = Signal()
        self.stream_state: Signal[OutputState] = Signal()
        self.stream_stats: Signal[WhipStats] = Signal()
        self.stats: Signal[PipelineStats] = Signal()
        self.recorder_events: Signal[RecorderEvent] = Signal()  # disk low, errors, stopped
        self._lock = threading.RLock()
        self._video: VideoEncoderWorker | None = None
        self._opus: AudioEncoderWorker | None = None
        self._aac: AudioEncoderWorker | None = None
        self.recorder: Recorder | None = None
        self.stream: WhipOutput | None = None
        self._rate: RateController | None = None
        self._ladder: Ladder | None = None
        self._rendition: StreamRendition | None = None
        self._low_layer: LowLayer | None = None
        self._low_layer_starter: threading.Thread | None = None
        self._low_layer_stopper: threading.Thread | None = None
        self._low_layer_gate: LowLayerGate | None = None  # room for the low layer on the uplink
        # guards only _low_layer_starter and _low_layer_url (taken on the net thread; after _lock)
        self._starter_lock = threading.Lock()
        self._low_layer_url: str | None = None  # where this stream's low layer goes (given or advertised)
        self._last_stream_stats: WhipStats | None = None
        self._timeline_set = False
        self._router = ClipAudioRouter(mixer, studio.sources)
        # RTMP/SRT/extra WHIP destinations on the main encode (``destination_set``)
        self.destinations = DestinationSet(self)
        self._disconnects = [
            studio.frame_hooks.connect(self._router.sync),
            studio.events.program_frame.connect(self._on_frame),
            studio.events.stats.connect(lambda _s: self.stats.emit(self.snapshot())),
            studio.events.stats.connect(lambda _s: self.destinations.publish_stats()),
            mixer.blocks.connect(self._on_audio),
        ]

    # ---- outputs (any thread but the clock's) ------------------------------------------------
    def start_recording(self, target: Path, container: str = "mkv") -> Path:
        """Record to ``target`` (a file: the container follows its extension; a folder: dated name)."""
        with self._lock:
            if self.recorder is not None:
                raise ValueError("already recording")
            suffix = Path(target).suffix.lower() or f".{container}"
            video = self._ensure_video()
            audio = self._ensure_aac() if suffix == ".mp4" else self._ensure_opus()
            recorder = Recorder(target, video.stream_info, audio.stream_info, container=suffix[1:])
            recorder.events.connect(self.recorder_events.emit)  # before start: its first disk check counts
            path = recorder.start()
            self.recorder = recorder
            self.video_fanout.add_sink("recorder", recorder)
            (self.aac_fanout if suffix == ".mp4" else self.opus_fanout).add_sink("recorder", recorder)
            video.force_keyframe()  # the recording starts at a keyframe: make the next frame one
            if self._rendition is not None:
                self._rendition.recording_changed()
            log.info("recording to %s", path)
            return path

    def stop_recording(self) -> RecorderStats | None:
        with self._lock:
            recorder, self.recorder = self.recorder, None
            if recorder is None:
                return None
            self.video_fanout.remove_sink("recorder")
            self.opus_fanout.remove_sink("recorder")
            self.aac_fanout.remove_sink("recorder")
            if self._rendition is not None:
                self._rendition.recording_changed()
        recorder.stop()
        self._release_unused()
        return recorder.stats()

    def start_streaming(self, target: StreamTarget) -> WhipOutput:
        with self._lock:
            if self.stream is not None:
                raise ValueError("already streaming")
            start_kbps = min(max(self.stream_bitrate_kbps(target), target.min_bitrate_kbps),
                             target.max_bitrate_kbps)
            video = self._ensure_video()
            opus = self._ensure_opus()
            s = self.video_settings
            rungs = stream_ladder(s, self._stream_cap(target))
            config = WhipConfig(url=target.url, token=target.token, video=stream_info(video.stream_info, s, rungs[0]),
                                audio=opus.stream_info, min_bitrate_bps=target.min_bitrate_kbps * 1000,
                                max_bitrate_bps=target.max_bitrate_kbps * 1000,
                                playout_delay=target.playout_delay)
            self._ladder = Ladder(rungs if target.adaptive_resolution else rungs[:1])
            self._ladder.start(start_kbps)
            self._low_layer_gate = gate = LowLayerGate(self._clock)
            with self._starter_lock:
                self._low_layer_url = target.low_layer_url or None
            rate = RateController(self._apply_stream_rate, target.min_bitrate_kbps, target.max_bitrate_kbps,
                                  start_kbps, other_bps=other_bps(0))
            self._rate = rate
            rendition = StreamRendition(video, s, self._recording_kbps, on_fallback=self._fallback)
            self._rendition = rendition
            stream = WhipOutput(config, self._ensure_net(), on_keyframe_request=rendition.request_keyframe,
                                on_bitrate_estimate=rate.on_remb,
                                on_receiver_report=lambda r: rate.on_receiver_report(
                                    r.fraction_lost, r.rtt_s, r.delivered.bps if r.delivered else None,
                                    # a burst shows only in a short window: the NACKs' (an RTCP
                                    # report's second spans the cut it may have caused)
                                    r.measured_s, r.delivered.sent_bps if r.delivered and r.from_nacks else None))
            rendition.switch.set_sink(stream)
            # a step's first IDR starts a new picture: on a capped link the old one's packets are not
            # worth resending (with random loss and room on the link they still show a frame or two)
            rendition.switch.on_switching = lambda _name: stream.new_picture() if rate.link_capped else None
            stream.state_changed.connect(self.stream_state.emit)
            stream.stats_changed.connect(self._on_stream_stats)
            if not target.low_layer_url:
                stream.low_layer_advertised.connect(lambda url: self._low_layer_advertised(stream, url))
            self._apply_stream_rate(start_kbps)  # the first rung and rate before the first frame
            if shares_main(rungs[0], s):  # capped below the main encode: the stream never shares it
                self.video_fanout.add_sink("whip", rendition.main_input)
            self.opus_fanout.add_sink("whip", stream)
            self.stream = stream
            if target.low_layer_url and low_layer_size(s.width, s.height) is not None and gate.allowed:
                self._low_layer = LowLayer(video, s, target.low_layer_url, target.token, self._ensure_net(),
                                           on_fallback=self._fallback)
            low_layer = self._low_layer
        stream.start()
        if low_layer is not None:
            low_layer.start()
        return stream

    def stop_streaming(self) -> None:
        with self._lock:
            stream, self.stream = self.stream, None
            if stream is None:
                return
            self.video_fanout.remove_sink("whip")
            self.opus_fanout.remove_sink("whip")
            rendition, self._rendition = self._rendition, None
            low_layer, self._low_layer = self._low_layer, None
            with self._starter_lock:
                starter, self._low_layer_starter = self._low_layer_starter, None
                self._low_layer_url = None
            stopper, self._low_layer_stopper = self._low_layer_stopper, None
            self._rate = self._ladder = self._low_layer_gate = None
            if self._video is not None and (self.recorder is not None or self.destinations.needs_main_encode()):
                self._video.set_bitrate(self.video_settings.bitrate_kbps)  # the recording's own rate again
        if rendition is not None:
            rendition.close()
        if starter is not None:  # it finds the stream gone and starts nothing (see _start_low_layer)
            starter.join()
        if low_layer is not None:
            low_layer.stop()
        if stopper is not None:
            stopper.join()
        stream.stop()
        self._release_unused()

    def close(self) -> None:
        self.destinations.stop_all()
        self.stop_streaming()
        self.stop_recording()
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()
        self._release_unused()
        if self._own_net and self._net is not None:
            self._net.stop()

    def _low_layer_advertised(self, stream: WhipOutput, url: str) -> None:
        """The server (our relay) asks for a low layer: start it, off the net thread (the encoder
        opens on the caller's thread). The net thread never waits for ``_lock`` here: encoders open
        under it."""
        with self._starter_lock:
            if self._low_layer_url is not None:
                return  # once per stream
            self._low_layer_url = url
            self._spawn_low_layer_starter(stream)

    def _spawn_low_layer_starter(self, stream: WhipOutput) -> None:
        """(``_starter_lock`` held) Start the low layer on its own thread unless one is starting."""
        running = self._low_layer_starter
        if running is not None and running.is_alive():
            return
        starter = threading.Thread(target=self._start_low_layer, args=(stream,), name="low-layer-start",
                                   daemon=True)
        starter.start()  # before anyone can see it: stop_streaming joins it
        self._low_layer_starter = starter

    def _start_low_layer(self, stream: WhipOutput) -> None:
        stopper = self._low_layer_stopper
        if stopper is not None:  # a layer stopped before: its tap must go before the new one's comes
            stopper.join()
        with self._lock:  # held through the start: stop_streaming either comes first or stops it
            video, s, gate = self._video, self.video_settings, self._low_layer_gate
            with self._starter_lock:
                url = self._low_layer_url
            if self.stream is not stream or self._low_layer is not None or video is None or url is None \
                    or gate is None or not gate.allowed or low_layer_size(s.width, s.height) is None:
                return
            token = stream.config.token
            layer = LowLayer(video, self.video_settings, url, token if isinstance(token, Secret) else None,
                             self._ensure_net(), on_fallback=self._fallback)
            self._low_layer = layer
            try:
                layer.start()
            except Exception:
                log.exception("the low layer did not start")

    # ---- stats -------------------------------------------------------------------------------
    def snapshot(self) -> PipelineStats:
        with self._lock:
            video, recorder, stream, opus, aac = self._video, self.recorder, self.stream, self._opus, self._aac
        skipped = sum(w.stats().skipped_blocks for w in (opus, aac) if w is not None)
        return PipelineStats(video.stats() if video else None, recorder.stats() if recorder else None,
                             self._last_stream_stats if stream else None, stream.state if stream else None,
                             skipped)

    def _on_stream_stats(self, stats: WhipStats) -> None:
        rate = self._rate
        if rate is not None:
            # a receiver report has arrived (and the receiver still talks): its loss counts
            fresh = stats.feedback_age_s is None or stats.feedback_age_s < FEEDBACK_FRESH_S
            stream = self.stream
            copies = red_copies(stream) if stream is not None else None
            rate.set_other_bps(other_bps(copies or 0))  # RED's copies are audio bits too
            rate.on_send_rate(stats.bitrate_bps)
            opus = self._opus
            if opus is not None and copies:
                opus.set_expected_loss(opus_expected_loss(stats.packet_loss_pct, copies))  # RED covers it
            elif opus is not None and stats.rtt_ms is not None and fresh:  # (the rate hears each report itself)
                opus.set_expected_loss(stats.packet_loss_pct)  # Opus in-band FEC follows the reported loss
            self._apply_stream_rate(rate.target_kbps)  # the ladder's step-up hold needs a regular look
            estimate = rate.estimate()
            with self._lock:
                rendition = self._rendition
                step = rendition.rung.label if rendition is not None and rendition.rung is not None else ""
            stats = dataclasses.replace(stats, target_bitrate_bps=estimate.target_bps,
                                        delay_target_bps=estimate.delay_bps, loss_target_bps=estimate.loss_bps,
                                        ladder_step=step, audio_red_copies=copies)
        self._last_stream_stats = stats
        self.stream_stats.emit(stats)

    # ---- rate control (net thread, and start_streaming) ---------------------------------------
    def _apply_stream_rate(self, kbps: int) -> None:
        """The rate controller's target -> the ladder's rung -> the stream's encoder."""
        with self._lock:
            ladder, rendition = self._ladder, self._rendition
            if ladder is None or rendition is None:
                return
            rung = ladder.update(kbps)
            if rung != rendition.rung:
                trace.event("ladder_step", rung=rung.label, kbps=kbps)
            if rung != rendition.rung or kbps != rendition.kbps:
                rendition.apply(rung, shares_main(rung, self.video_settings), kbps)
            gate, stream, rate = self._low_layer_gate, self.stream, self._rate
            room = gate is None or gate.update(kbps, link_capped=rate is not None and rate.link_capped)
            if not room and self._low_layer is not None:
                # the uplink cannot carry both: stop it off this thread (the net thread: stop waits on it)
                layer, self._low_layer = self._low_layer, None
                self._low_layer_stopper = threading.Thread(target=layer.stop, name="low-layer-stop", daemon=True)
                self._low_layer_stopper.start()
                log.info("low layer stopped: the stream's target %d kbps leaves no room for it", kbps)
            elif room and self._low_layer is None and stream is not None \
                    and low_layer_size(self.video_settings.width, self.video_settings.height) is not None:
                with self._starter_lock:
                    if self._low_layer_url is not None:  # it had one: back, now that there is room again
                        self._spawn_low_layer_starter(stream)

    def _recording_kbps(self) -> int | None:
        keep = self.recorder is not None or self.destinations.needs_main_encode()  # platforms: steady rate
        return self.video_settings.bitrate_kbps if keep else None

    # ---- frames and blocks (engine threads) -----------------------------------------------------
    def _on_frame(self, frame: ProgramFrame) -> None:
        if not self._timeline_set and self.studio.started_ns:
            # the mix follows the program clock, a little behind so each clip's sound is there
            self.mixer.follow_timeline(self.studio.started_ns, MIX_LATENCY_NS)
            self._timeline_set = True
        video = self._video
        if video is not None:
            video.submit(frame, frame.index, frame.composite_ns)

    def _on_audio(self, block: MixedBlock) -> None:
        if block.timeline_pts is None:
            return  # not yet on the program timeline: no timestamp to give it
        for worker in (self._opus, self._aac):
            if worker is not None:
                worker.submit(block.samples, block.timeline_pts)

    # ---- encoders on demand ------------------------------------------------------------------------
    def set_encode_size(self, width: int, height: int) -> None:
        """The main encode's size (an output plan's: the recording of a 4K canvas at 1080p, scaled
        on the encoder's thread); takes effect when no output runs."""
        with self._lock:
            if self._video is not None:
                raise ValueError("the main encode is running: stop the outputs first")
            settings = dataclasses.replace(self.video_settings, width=width, height=height)
            if self._auto_bitrate:
                settings = settings.with_bitrate(default_bitrate_kbps(width, height, settings.fps))
            self._check_encode_size(settings)
            self.video_settings = settings

    def _stream_cap(self, target: StreamTarget) -> int | None:
        return self.stream_max_height if target.max_height is None else target.max_height

    def stream_bitrate_kbps(self, target: StreamTarget | None = None) -> int:
        """The stream's bitrate on its top rung: the main encode's when it shares it or the user set
        one, else the default for the capped size (a 4K show streams 1080p at 1080p's rate)."""
        s = self.video_settings
        cap = capped_height(s.height, self.stream_max_height if target is None else self._stream_cap(target))
        if cap is None or not self._auto_bitrate:
            return s.bitrate_kbps
        return default_bitrate_kbps(round(s.width * cap / s.height), cap, s.fps)

    def _check_encode_size(self, settings: VideoEncoderSettings) -> None:
        if settings.width > self.studio.width or settings.height > self.studio.height:
            raise ValueError(f"the encode ({settings.width}x{settings.height}) must not be larger than the canvas "
                             f"({self.studio.width}x{self.studio.height})")

    def _ensure_video(self) -> VideoEncoderWorker:
        if self._video is None:
            worker = VideoEncoderWorker(self.video_settings, self.video_fanout, on_fallback=self._fallback,
                                        canvas_size=(self.studio.width, self.studio.height))
            worker.start()
            self._video = worker
        return self._video

    def _fallback(self, event: FallbackEvent) -> None:
        log.warning("%s", event.message)
        self.fallbacks.emit(event)

    def _ensure_opus(self) -> AudioEncoderWorker:
        if self._opus is None:
            worker = AudioEncoderWorker(AudioEncoderSettings("opus"), self.opus_fanout, thread_name="enc-audio")
            worker.start()
            self._opus = worker
        return self._opus

    def _ensure_aac(self) -> AudioEncoderWorker:
        if self._aac is None:
            worker = AudioEncoderWorker(AudioEncoderSettings("aac"), self.aac_fanout, thread_name="enc-audio-aac")
            worker.start()
            self._aac = worker
        return self._aac

    def _release_unused(self) -> None:
        """Stop encoders no output needs any more (an idle studio encodes nothing)."""
        with self._lock:
            recording_mp4 = self.recorder is not None and self.recorder.path.suffix.lower() == ".mp4"
            dests = self.destinations
            needs_video = self.recorder is not None or self.stream is not None or dests.needs_main_encode()
            needs_opus = self.stream is not None or (self.recorder is not None and not recording_mp4) \
                or dests.needs_opus()
            stop: list[VideoEncoderWorker | AudioEncoderWorker] = []
            if not needs_video and self._video is not None:
                stop.append(self._video)
                self._video = None
            if not needs_opus and self._opus is not None:
                stop.append(self._opus)
                self._opus = None
            if not recording_mp4 and not dests.needs_aac() and self._aac is not None:
                stop.append(self._aac)
                self._aac = None
        for worker in stop:
            worker.stop()

    def _ensure_net(self) -> NetLoop:
        if self._net is None:
            self._net = NetLoop()
            self._own_net = True
        self._net.start()
        return self._net


def default_video_settings(studio: Studio) -> VideoEncoderSettings:
    """The live rendition: the canvas size and rate with the encoder defaults (auto, low latency)
    and the bitrate for its pixel rate."""
    return VideoEncoderSettings(width=studio.width, height=studio.height, fps=studio.fps,
                                bitrate_kbps=default_bitrate_kbps(studio.width, studio.height, studio.fps))
