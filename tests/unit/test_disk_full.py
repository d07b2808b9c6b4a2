"""A full disk stops the recording alone, with one plain status (no traceback), and leaves a file
that plays; low space is only a warning. The disk is a real 256 KiB tmpfs that fills up."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import pytest
from test_recorder import Events, feed, start_workers

from studio.outputs.recorder import Recorder, RecorderState


def decodable_frames(path: Path) -> tuple[int, bool]:
    """Video frames a player gets from the file (a cut-off last packet ends it), and whether the
    first is a keyframe."""
    frames, first_key = 0, False
    with av.open(str(path)) as container:
        try:
            for frame in container.decode(video=0):
                first_key = first_key or (frames == 0 and frame.key_frame)
                frames += 1
        except av.FFmpegError:
            pass  # the packet the disk cut short: players stop there too
    return frames, first_key


@pytest.mark.parametrize(("container", "audio_codec"), [("mkv", "opus"), ("mp4", "aac")])
def test_full_disk_stops_only_the_recording_and_the_file_plays(
        tiny_filesystem: Path, container: str, audio_codec: str, caplog: pytest.LogCaptureFixture) -> None:
    fanout, progress, video, audio = start_workers(audio_codec)
    assert audio is not None
    recorder = Recorder(tiny_filesystem / f"show.{container}", video.stream_info, audio.stream_info)
    events = Events(recorder)
    fanout.add_sink("recorder", recorder)
    caplog.set_level(logging.INFO)
    try:
        recorder.start()  # far under 1 GB free: a warning, not a refusal
        frame = 0
        while not events.wait_for("stopped", timeout=0) and frame < 3000:
            feed(video, audio, progress, range(frame, frame + 10))
            frame += 10
        assert events.wait_for("stopped")
        # the encoders and every other output (the stream) go on
        seen = progress.video
        feed(video, audio, progress, range(frame, frame + 30))
        progress.wait_beyond(seen + 20)
    finally:
        video.stop()
        audio.stop()
        recorder.stop()
    assert events.kinds() == ["disk_low", "started", "error", "stopped"]
    error = events.items[2]
    assert error.message.startswith("the disk is full: recording stopped after ")
    assert f"{recorder.path} plays up to there" in error.message
    assert recorder.state is RecorderState.FAILED
    # one plain line for the user, no traceback anywhere
    assert not [r for r in caplog.records if r.exc_info]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        f"recording {recorder.path}: {error.message}"]
    stats = recorder.stats()
    frames, first_key = decodable_frames(recorder.path)
    assert first_key and frames >= 30
    assert frames >= stats.video_packets - 30  # all but what was in flight (under a second)


def test_low_disk_never_refuses_a_recording(tmp_path: Path) -> None:
    from fractions import Fraction

    from encoders.packets import StreamInfo

    info = StreamInfo("video", "h264", Fraction(1, 30), 320, 180, 30)
    recorder = Recorder(tmp_path, info, disk_free=lambda _p: 10)
    events = Events(recorder)
    try:
        path = recorder.start()
        assert events.wait_for("disk_low")
        assert recorder.state is RecorderState.WAITING_FOR_KEYFRAME and path.parent == tmp_path
        assert "low disk space: 0.00 GB free" in events.items[0].message
        assert "the stream goes on" in events.items[0].message
    finally:
        recorder.stop()
