"""The recorder: real encoders -> fan-out -> MKV/fragmented MP4 on disk, read back with PyAV.

The crash test runs a real recording in a child process, SIGKILLs it mid-stream, and decodes what
it left behind.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
import sys
import textwrap
import threading
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from encoders.audio import AudioEncoderWorker
from encoders.fanout import PacketFanout
from encoders.packets import EncodedPacket, StreamInfo
from encoders.settings import AudioEncoderSettings, VideoEncoderSettings
from encoders.video import VideoEncoderWorker
from studio.bench.encode import moving_card
from studio.outputs.recorder import GB, Recorder, RecorderEvent, RecorderState, recording_filename

ROOT = Path(__file__).resolve().parents[2]
W, H, FPS = 320, 180, 30
SAMPLES_PER_FRAME = 48_000 // FPS


class Events:
    def __init__(self, recorder: Recorder) -> None:
        self.items: list[RecorderEvent] = []
        self._cond = threading.Condition()
        recorder.events.connect(self._on)

    def _on(self, event: RecorderEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait_for(self, kind: str, timeout: float = 20.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: any(e.kind == kind for e in self.items), timeout)

    def wait_count(self, kind: str, count: int, timeout: float = 20.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: sum(e.kind == kind for e in self.items) >= count, timeout)

    def kinds(self) -> list[str]:
        with self._cond:
            return [e.kind for e in self.items]


class Progress:
    """A sink that counts video packets, so a test can wait for the encoder instead of sleeping."""

    def __init__(self) -> None:
        self.video = 0
        self._cond = threading.Condition()

    def put(self, packet: EncodedPacket) -> None:
        if packet.kind == "video":
            with self._cond:
                self.video += 1
                self._cond.notify_all()

    def wait_beyond(self, count: int, timeout: float = 20.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.video > count, timeout)


def submit_video(video: VideoEncoderWorker, progress: Progress, i: int) -> None:
    """Submit frame ``i``; a test wants every frame, so a full queue waits for the next packet."""
    canvas = moving_card(W, H, i)
    while True:
        seen = progress.video
        if video.submit(canvas, i):
            return
        progress.wait_beyond(seen)


def feed(video: VideoEncoderWorker, audio: AudioEncoderWorker, progress: Progress, frames: range) -> None:
    """Frames and their audio on one engine clock (frame i <-> sample i * 1600)."""
    for i in frames:
        submit_video(video, progress, i)
        tone = np.full((SAMPLES_PER_FRAME, 2), 0.1 * np.sin(i / 5), np.float32)
        assert audio.submit(tone, i * SAMPLES_PER_FRAME)


def start_workers(
    audio_codec: str | None = "opus",
) -> tuple[PacketFanout, Progress, VideoEncoderWorker, AudioEncoderWorker | None]:
    fanout = PacketFanout()
    progress = Progress()
    fanout.add_sink("progress", progress)
    video = VideoEncoderWorker(
        VideoEncoderSettings(encoder="libx264", width=W, height=H, bitrate_kbps=400), fanout
    )
    video.start()
    audio = None
    if audio_codec is not None:
        audio = AudioEncoderWorker(AudioEncoderSettings(codec=audio_codec), fanout)  # type: ignore[arg-type]
        audio.start()
    return fanout, progress, video, audio


def record(tmp_path: Path, container: str, audio_codec: str, frames: int = 60) -> Recorder:
    fanout, progress, video, audio = start_workers(audio_codec)
    assert audio is not None
    recorder = Recorder(tmp_path / "recordings", video.stream_info, audio.stream_info, container=container)
    fanout.add_sink("recorder", recorder)
    try:
        recorder.start(now=datetime(2026, 11, 25, 14, 3, 7))
        feed(video, audio, progress, range(frames))
    finally:
        video.stop()
        audio.stop()
        recorder.stop()
    return recorder


def mp4_header_duration(path: Path) -> float:
    """Seconds in moov/mvhd (an empty fragmented moov says 0 until finalised)."""
    data = path.read_bytes()
    moov = data.index(b"moov") - 4
    mvhd = data.index(b"mvhd", moov) - 4
    version = data[mvhd + 8]
    if version == 1:
        timescale, duration = struct.unpack(">IQ", data[mvhd + 28 : mvhd + 40])
    else:
        timescale, duration = struct.unpack(">II", data[mvhd + 20 : mvhd + 28])
    return float(duration / timescale)


@pytest.mark.parametrize(("container", "audio_codec"), [("mkv", "opus"), ("mp4", "aac"), ("mp4", "opus")])
def test_recording_is_decodable_with_both_streams_and_a_final_duration(
    tmp_path: Path, container: str, audio_codec: str
) -> None:
    recorder = record(tmp_path, container, audio_codec)
    path = recorder.path
    assert path.name == f"recording_2026-11-25_14-03-07.{container}"
    assert recorder.state is RecorderState.STOPPED
    stats = recorder.stats()
    assert stats.video_packets == 60 and stats.audio_packets > 0 and stats.mux_errors == 0
    with av.open(str(path)) as f:
        assert {s.type: s.codec_context.name for s in f.streams} == {"video": "h264", "audio": audio_codec}
        assert f.duration is not None and abs(f.duration / 1e6 - 2.0) < 0.1  # from the header
        frames = list(f.decode(video=0))
    assert len(frames) == 60
    assert frames[0].pts == 0 and abs(float(frames[-1].time) - 59 / 30) < 0.01
    with av.open(str(path)) as f:
        first_audio = next(f.decode(audio=0))
        assert 0 <= float(first_audio.time or 0) < 0.05  # both streams start at 0 together
    if container == "mp4":
        assert abs(mp4_header_duration(path) - 2.0) < 0.1


def test_recording_starts_at_a_keyframe_and_names_do_not_collide(tmp_path: Path) -> None:
    fanout, progress, video, audio = start_workers("opus")
    assert audio is not None
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / recording_filename(datetime(2026, 1, 2, 3, 4, 5))).write_bytes(b"older take")
    recorder = Recorder(folder, video.stream_info, audio.stream_info)
    try:
        feed(video, audio, progress, range(10))
        fanout.add_sink("recorder", recorder)  # joins mid-GOP, as a user pressing Record does
        recorder.start(now=datetime(2026, 1, 2, 3, 4, 5))
        feed(video, audio, progress, range(10, 75))
    finally:
        video.stop()
        audio.stop()
        recorder.stop()
    assert recorder.path.name == "recording_2026-01-02_03-04-05_2.mkv"
    with av.open(str(recorder.path)) as f:
        frames = list(f.decode(video=0))
    assert len(frames) == 45 and frames[0].key_frame  # frames 30..74: from the first keyframe on
    assert recorder.stats().dropped > 0  # packets before it were not written


def test_low_disk_warns_twice_and_keeps_recording(tmp_path: Path) -> None:
    free = [10 * GB]
    fanout, progress, video, _ = start_workers(None)
    recorder = Recorder(
        tmp_path / "x.mkv",
        video.stream_info,
        None,
        warn_free_bytes=5 * GB,
        low_free_bytes=1 * GB,
        disk_check_interval_s=0.02,
        disk_free=lambda _path: free[0],
    )
    events = Events(recorder)
    fanout.add_sink("recorder", recorder)
    try:
        recorder.start()
        for i in range(40):
            submit_video(video, progress, i)
            if i == 15:
                free[0] = 3 * GB
                assert events.wait_for("disk_low")
                assert recorder.state is RecorderState.RECORDING
            if i == 25:
                free[0] = GB // 2
                assert events.wait_count("disk_low", 2)
                assert recorder.state is RecorderState.RECORDING  # a warning, never a stop
    finally:
        video.stop()
        recorder.stop()
    assert events.kinds() == ["started", "disk_low", "disk_low", "stopped"]
    assert "0.50 GB free" in events.items[2].message and "stops if the disk fills up" in events.items[2].message
    assert recorder.state is RecorderState.STOPPED
    with av.open(str(recorder.path)) as f:
        assert f.duration is not None  # finalised, not just abandoned
        assert len(list(f.decode(video=0))) == 40


def test_validates_its_inputs(tmp_path: Path) -> None:
    info = StreamInfo("video", "h264", Fraction(1, 30), W, H, 30)
    with pytest.raises(ValueError, match="low_free_bytes"):
        Recorder(tmp_path, info, warn_free_bytes=GB, low_free_bytes=2 * GB)
    with pytest.raises(ValueError, match="extension"):
        Recorder(tmp_path / "x.avi", info)
    with pytest.raises(ValueError, match="container"):
        Recorder(tmp_path, info, container="webm")
    with pytest.raises(ValueError, match="video stream"):
        Recorder(tmp_path, StreamInfo("video", "vp8", Fraction(1, 30)))
    with pytest.raises(ValueError, match="audio stream"):
        Recorder(tmp_path, info, StreamInfo("audio", "mp3", Fraction(1, 48_000)))
    with pytest.raises(ValueError, match="needs a video or an audio"):
        Recorder(tmp_path, None, None)


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from encoders.audio import AudioEncoderWorker
    from encoders.fanout import PacketFanout
    from encoders.settings import AudioEncoderSettings, VideoEncoderSettings
    from encoders.video import VideoEncoderWorker
    from studio.bench.encode import moving_card
    from studio.outputs.recorder import Recorder

    path, codec = sys.argv[1], sys.argv[2]
    fanout = PacketFanout()
    video = VideoEncoderWorker(VideoEncoderSettings(encoder="libx264", width=320, height=180, bitrate_kbps=400), fanout)
    audio = AudioEncoderWorker(AudioEncoderSettings(codec=codec), fanout)
    video.start(); audio.start()
    recorder = Recorder(path, video.stream_info, audio.stream_info)
    fanout.add_sink("recorder", recorder)
    recorder.start()
    cards = [moving_card(320, 180, i) for i in range(30)]
    start = time.perf_counter()
    for i in range(100000):  # a live show: paced by the frame clock until killed
        time.sleep(max(0.0, start + i / 30 - time.perf_counter()))
        video.submit(cards[i % 30], i)
        audio.submit(np.full((1600, 2), 0.1, np.float32), i * 1600)
        if i % 5 == 0:
            print(f"progress {recorder.stats().duration_s:.3f}", flush=True)
    """
)


@pytest.mark.parametrize(("ext", "codec"), [("mkv", "opus"), ("mp4", "aac")])
def test_kill_9_leaves_a_file_that_plays_to_within_a_second_of_the_kill(
    tmp_path: Path, ext: str, codec: str
) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    target = tmp_path / f"crash.{ext}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (tmp_path / "child.err").open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, str(script), str(target), codec],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    reported = 0.0
    try:
        assert child.stdout is not None
        for line in child.stdout:  # blocks on the child's output, no polling
            match = re.match(r"progress ([\d.]+)", line)
            if match:
                reported = float(match.group(1))
            if reported >= 2.5:
                break
        child.send_signal(signal.SIGKILL)  # mid-stream, no chance to finalise
    finally:
        child.kill()
        child.wait(30)
        if child.stdout is not None:
            child.stdout.close()
    errors = (tmp_path / "child.err").read_text()
    assert child.returncode == -signal.SIGKILL and reported >= 2.5, errors
    with av.open(str(target)) as f:
        assert {s.type for s in f.streams} == {"video", "audio"}
        frames = list(f.decode(video=0))
    last = float(frames[-1].time)
    print(f"killed at {reported:.2f} s of recording; the file plays to {last:.2f} s")
    assert last >= reported - 1.0, f"file plays to {last:.2f} s, recorder had reached {reported:.2f} s"
    assert [round(float(fr.time) * 30) for fr in frames] == list(range(len(frames)))  # no holes
