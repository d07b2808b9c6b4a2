"""Probing one clip with PyAV: its format, length and a thumbnail, or why it cannot be used.

Runs on the import worker, never the UI thread or the video clock. A damaged file must never hang
an import: PyAV's open/read timeout interrupts FFmpeg's I/O, the format probe reads a bounded
amount, and finding the thumbnail's frame decodes a bounded number of frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import av
import cv2

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".ts", ".m2ts", ".mts", ".avi", ".m4v", ".flv",
                              ".mpg", ".mpeg", ".wmv", ".3gp"})
TIMEOUT_S = (10.0, 5.0)  # (open, each read): a stalled network share gives up instead of hanging
PROBE_OPTIONS = {"probesize": "5000000", "analyzeduration": "5000000"}  # FFmpeg's defaults, said out loud
THUMB_AT = 0.10  # a frame from 10 % in: past black leaders and title cards
THUMB_WIDTH = 240
MAX_DECODED_FRAMES = 240  # looking for the thumbnail frame after the seek, at most this many
MAX_PACKETS = 2_000  # ... and at most this many packets (a damaged file may decode none of them)


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    reason: str = ""  # why not, in words (empty when ok)
    size: int = 0
    mtime: float = 0.0
    duration_s: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    codec: str = ""
    has_audio: bool = False
    audio_codec: str = ""
    thumbnail: bool = False  # written to the requested path


def is_video_name(path: Path | str) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def probe_file(path: Path | str, thumbnail: Path | None = None) -> ProbeResult:
    """What the file is (never raises for a bad file: ``ok`` is False and ``reason`` says why)."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return ProbeResult(False, "file not found")
    except OSError as exc:
        return ProbeResult(False, f"cannot be read ({exc.strerror})")
    if not path.is_file():
        return ProbeResult(False, "not a file")
    size, mtime = st.st_size, st.st_mtime
    if size == 0:
        return ProbeResult(False, "empty file (0 bytes)", size, mtime)
    if not os.access(path, os.R_OK):
        return ProbeResult(False, "no permission to read it", size, mtime)
    try:
        container = av.open(str(path), "r", options=PROBE_OPTIONS, timeout=TIMEOUT_S)
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        return ProbeResult(False, f"not a playable media file ({_short(exc)})", size, mtime)
    with container:
        return _probe_open(container, size, mtime, thumbnail)


def _probe_open(container: av.container.InputContainer, size: int, mtime: float,
                thumbnail: Path | None) -> ProbeResult:
    has_audio = bool(container.streams.audio)
    audio_codec = container.streams.audio[0].codec_context.name if has_audio else ""
    if not container.streams.video:
        what = "audio only, no video stream" if has_audio else "no video stream"
        return ProbeResult(False, what, size, mtime, has_audio=has_audio, audio_codec=audio_codec)
    vs = container.streams.video[0]
    cc = vs.codec_context
    width, height = int(cc.width or 0), int(cc.height or 0)
    rate = vs.average_rate or vs.guessed_rate
    fps = float(rate) if rate else 0.0
    if vs.duration is not None and vs.time_base is not None:
        duration = float(vs.duration * vs.time_base)
    else:
        duration = (container.duration or 0) / 1_000_000
    found = ProbeResult(True, "", size, mtime, max(0.0, duration), width, height, round(fps, 3), cc.name or "",
                        has_audio, audio_codec)
    if not width or not height:
        return _broken(found, "the video stream has no picture size")
    try:
        frame = _frame_near(container, vs, duration * THUMB_AT)
    except (av.FFmpegError, OSError) as exc:
        return _broken(found, f"the video cannot be decoded ({_short(exc)})")
    if frame is None:
        return _broken(found, "no picture could be decoded (damaged or truncated)")
    if thumbnail is not None:
        found = _with(found, thumbnail=_write_thumbnail(frame, width, height, thumbnail))
    return found


def _frame_near(container: av.container.InputContainer, vs: av.VideoStream, at_s: float) -> av.VideoFrame | None:
    """The first frame at or after ``at_s`` (or the last one decoded before giving up)."""
    tb = vs.time_base
    target = None
    if at_s > 0 and tb:
        target = (vs.start_time or 0) + int(at_s / float(tb))
        try:
            container.seek(target, stream=vs, backward=True)
        except av.FFmpegError:
            container.seek(0)  # unseekable: the first frames do
            target = None
    picked = None
    decoded = 0
    for n, packet in enumerate(container.demux(vs)):
        if n >= MAX_PACKETS:
            break
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            continue  # one damaged packet; later ones may decode
        for frame in frames:
            picked = frame
            decoded += 1
            if target is None or frame.pts is None or frame.pts >= target or decoded >= MAX_DECODED_FRAMES:
                return picked
        if decoded >= MAX_DECODED_FRAMES:
            break
    return picked


def _write_thumbnail(frame: av.VideoFrame, width: int, height: int, path: Path) -> bool:
    w = THUMB_WIDTH
    h = max(2, round(w * height / max(1, width)) // 2 * 2)
    bgr = frame.to_ndarray(format="bgr24", width=w, height=h)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data.tobytes())  # cv2.imwrite cannot take non-ASCII paths on Windows
    os.replace(tmp, path)
    return True


def _broken(found: ProbeResult, reason: str) -> ProbeResult:
    return _with(found, ok=False, reason=reason)


def _with(found: ProbeResult, **changes: object) -> ProbeResult:
    return replace(found, **changes)  # type: ignore[arg-type]


def _short(exc: BaseException) -> str:
    # FFmpeg's own words without the file name it appends (the row already shows the file)
    text = (getattr(exc, "strerror", None) or str(exc)).strip() or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "…"
