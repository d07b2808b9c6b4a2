"""`studio render`: a scene (or, through studio.render_rundown, a rundown path) to a video file.

Offline and deterministic: the engine renders frame by frame (waiting for decoders), the mixer
mixes exactly one frame's worth of sound per frame, and the same encoders and muxer as a live
recording write the file. Nothing is real-time, so the file is complete however busy the machine is.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from encoders.audio import AudioEncoder
from encoders.colorspace import I420Buffer
from encoders.settings import AudioEncoderSettings, VideoEncoderSettings
from encoders.video import VideoEncoder
from scenes.audio import SAMPLE_RATE
from scenes.model import SceneCollection
from studio.audio.mixer import AudioMixer
from studio.display import use_offscreen_qt
from studio.engine import Studio
from studio.outputs.audio_routing import ClipAudioRouter
from studio.outputs.recorder import Recorder

Progress = Callable[[int, int], None]  # (frames done, frames total)
# Called once per frame before it renders, on the render thread: the rundown drives the show here.
FrameDriver = Callable[[Studio, int], None]


@dataclass(frozen=True)
class RenderResult:
    path: Path
    frames: int
    seconds: float
    wall_s: float


class RenderCancelled(Exception):
    pass


def file_video_settings(studio: Studio, encoder: str = "libx264") -> VideoEncoderSettings:
    """Files are not live: spend bits and a slower preset on quality."""
    kbps = {720: 6000, 1080: 10000, 1440: 16000, 2160: 35000}.get(studio.height, 10000)
    preset = "veryfast" if encoder == "libx264" else ""
    return VideoEncoderSettings(encoder=encoder, width=studio.width, height=studio.height, fps=studio.fps,
                                bitrate_kbps=kbps, rate_control="vbr", keyframe_interval_s=2.0, preset=preset)


def render_studio(studio: Studio, frames: int, output: Path, encoder: str = "libx264",
                  progress: Progress | None = None, driver: FrameDriver | None = None,
                  cancelled: Callable[[], bool] | None = None) -> RenderResult:
    """Render ``frames`` frames of whatever the studio's program shows (the caller sets it up)."""
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".mp4", ".mkv"):
        raise ValueError(f"{output}: the output must end in .mp4 or .mkv")
    if SAMPLE_RATE % studio.fps:
        raise ValueError(f"{studio.fps} fps does not divide {SAMPLE_RATE} Hz audio evenly")
    started = time.perf_counter()
    mixer = AudioMixer(block_size=SAMPLE_RATE // studio.fps)  # exactly one frame of sound per frame
    mixer.follow_timeline(None)  # lockstep: block k is frame k's sound
    router = ClipAudioRouter(mixer, studio.sources)
    unhook = studio.frame_hooks.connect(router.sync)
    video = VideoEncoder(file_video_settings(studio, encoder))
    audio = AudioEncoder(AudioEncoderSettings("aac" if suffix == ".mp4" else "opus", 192))
    recorder = Recorder(output, video.stream_info, audio.stream_info, container=suffix[1:])
    picture = I420Buffer(studio.width, studio.height)
    recorder.start()
    done = 0
    try:
        for index in range(frames):
            if cancelled is not None and cancelled():
                raise RenderCancelled(f"render of {output} cancelled at frame {index}")
            if driver is not None:
                driver(studio, index)
            frame = studio.render_offline(index)
            picture.fill_from_bgra(frame)
            for packet in video.encode(picture, index):
                recorder.put(packet)
            block = mixer.mix_block()
            for packet in audio.encode(block.samples, block.timeline_pts):
                recorder.put(packet)
            done = index + 1
            if progress is not None:
                progress(done, frames)
        for packet in video.flush() + audio.flush():
            recorder.put(packet)
    finally:
        unhook()
        recorder.stop()
        video.close()
        studio.stop()
    return RenderResult(recorder.path, done, done / studio.fps, time.perf_counter() - started)


def render_scene(collection: SceneCollection, scene: str, seconds: float, output: Path,
                 encoder: str = "libx264", progress: Progress | None = None) -> RenderResult:
    if seconds <= 0:
        raise ValueError("--seconds must be positive")
    collection.scene(scene)
    collection.program_scene = scene
    studio = Studio(collection)
    return render_studio(studio, int(round(seconds * studio.fps)), output, encoder, progress)


def terminal_progress(label: str) -> Progress:
    """A progress bar on a terminal; a line per 10 % when the output is not a terminal."""
    tty = sys.stderr.isatty()
    started = time.perf_counter()
    last = [-1]

    def show(done: int, total: int) -> None:
        pct = done * 100 // max(total, 1)
        if tty:
            bar = "#" * (pct // 4)
            rate = done / max(time.perf_counter() - started, 1e-6)
            sys.stderr.write(f"\r{label} [{bar:<25}] {pct:3d}% {done}/{total} frames {rate:5.1f} fps")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif pct // 10 != last[0] // 10:
            last[0] = pct
            print(f"{label}: {pct}% ({done}/{total} frames)", file=sys.stderr, flush=True)

    return show


def render_command(args: argparse.Namespace) -> int:
    use_offscreen_qt()
    from studio.session import open_collection

    result: RenderResult
    if getattr(args, "rundown", None):
        from studio.render_rundown import render_rundown

        choices = [c.strip() for c in (args.path or "").split(",") if c.strip()]
        result = render_rundown(args.rundown, choices, args.output, terminal_progress("rendering"))
    else:
        collection, _ = open_collection(args.collection)
        scene = args.scene or collection.program_scene
        if scene is None:
            raise ValueError("the collection has no scenes to render")
        result = render_scene(collection, scene, args.seconds, args.output, args.encoder,
                              terminal_progress(f"rendering {scene}"))
    print(f"studio: wrote {result.path} ({result.frames} frames, {result.seconds:.1f} s of video "
          f"in {result.wall_s:.1f} s)")
    return 0
