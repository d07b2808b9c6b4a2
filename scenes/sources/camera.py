"""A camera (or any OpenCV capture: a device index, a device path, a stream URL, a video file).

Thread: one worker per source, named ``camera:<device>``, opens the capture, reads frames, converts
them to BGRA at the configured size and writes them to a latest-frame slot. When the camera is
absent or stops delivering (unplugged), the source shows a "NO SIGNAL" card, ``error`` says why,
and the worker tries again every ``RETRY_S`` seconds. The clock only ever reads the slot. The
card is for the operator's views only (``Source.frame_for``): the program shows the
``fallback_image``, or nothing.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import cv2
import numpy as np

from scenes.frame import VideoFrame
from scenes.properties import PropertyKind, PropertySpec
from scenes.registry import SourceFlags, SourceType, register
from scenes.slots import LatestSlot
from scenes.sources.base import Source, StatusNotice
from scenes.sources.fallback import FALLBACK_IMAGE, FallbackImage, add_fallback_image

# An absent camera is an expected state shown on the card; keep OpenCV's per-retry warnings quiet.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

JOIN_TIMEOUT_S = 5.0


def open_capture(device: str) -> cv2.VideoCapture:
    """An index ("0") opens that camera; anything else is a path or URL OpenCV understands."""
    device = device.strip()
    if device.isdigit():
        return cv2.VideoCapture(int(device))
    return cv2.VideoCapture(device)


def to_bgra(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A captured picture (gray, BGR or BGRA) as opaque BGRA at ``size`` (width, height)."""
    if img.ndim == 2 or img.shape[2] == 1:
        out = cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
    elif img.shape[2] == 3:
        out = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    else:
        out = img.copy()
        out[:, :, 3] = 255  # a camera has no transparency
    w, h = size
    if (out.shape[1], out.shape[0]) != (w, h):
        shrink = w < out.shape[1] and h < out.shape[0]
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return out


class CameraSource(Source):
    type_id = "camera"
    status_title = "NO SIGNAL"
    RETRY_S = 2.0  # how long an absent camera waits before the next attempt

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._fallback = FallbackImage(str(settings.get(FALLBACK_IMAGE.name, "")))
        self._lock = threading.Lock()
        self._retired: list[threading.Thread] = []
        self._closed = False
        self._start()

    # ---- worker lifecycle -----------------------------------------------------------------

    def _start(self) -> None:
        self._stop = threading.Event()
        self._attempted = threading.Event()  # the first open attempt finished (frame or error)
        self._failing = threading.Event()  # set while the camera gives no picture
        self._slot: LatestSlot[VideoFrame] = LatestSlot()
        self.frames_captured = 0
        device = str(self.settings["device"])
        if not device.strip():
            self.error = "no camera chosen"
            self._attempted.set()
            self._failing.set()
            self._thread: threading.Thread | None = None
            return
        self.error = None
        self._thread = threading.Thread(
            target=self._run,
            args=(device, self.size, float(self.settings["fps"]), self._stop, self._slot),
            name=f"camera:{device}",
            daemon=True,  # a driver stuck in open() must not keep the process alive
        )
        self._thread.start()

    def update(self, settings: dict[str, Any]) -> None:
        keys = ("device", "width", "height", "fps")
        with self._lock:
            changed = any(settings.get(k) != self.settings.get(k) for k in keys)
            super().update(settings)
            self._fallback.set_path(str(settings.get(FALLBACK_IMAGE.name, "")))
            if not changed or self._closed:
                return
            # signal only (never join on the caller's thread); close() joins everything
            self._stop.set()
            if self._thread is not None:
                self._retired.append(self._thread)
            self._start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop.set()
            threads = [*self._retired, *([self._thread] if self._thread is not None else [])]
            self._retired, self._thread = [], None
        for t in threads:
            t.join(JOIN_TIMEOUT_S)
        self._fallback.close()

    def _run(
        self,
        device: str,
        size: tuple[int, int],
        fps: float,
        stop: threading.Event,
        slot: LatestSlot[VideoFrame],
    ) -> None:
        attempted, failing = self._attempted, self._failing
        while not stop.is_set():
            cap = open_capture(device)
            try:
                if not cap.isOpened():
                    reason = "cannot open (not connected, busy or no access)"
                    self._set_error(stop, slot, failing, f"camera {device}: {reason}")
                else:
                    cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
                    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
                    cap.set(cv2.CAP_PROP_FPS, fps)
                    got = self._capture(cap, stop, slot, (attempted, failing), size, fps)
                    reason = "stopped delivering frames (unplugged?)" if got else "opened but gave no picture"
                    self._set_error(stop, slot, failing, f"camera {device}: {reason}")
            except cv2.error as exc:
                self._set_error(stop, slot, failing, f"camera {device}: capture failed ({exc})")
            finally:
                cap.release()
            attempted.set()
            stop.wait(self.RETRY_S)

    def _capture(
        self,
        cap: cv2.VideoCapture,
        stop: threading.Event,
        slot: LatestSlot[VideoFrame],
        events: tuple[threading.Event, threading.Event],
        size: tuple[int, int],
        fps: float,
    ) -> bool:
        """Read until the capture fails or the source stops; True if any frame came."""
        attempted, failing = events
        period = 1.0 / fps
        due = time.monotonic()
        got = False
        while not stop.is_set():
            ok, img = cap.read()
            if not ok or img is None or img.size == 0:
                return got
            slot.put(VideoFrame(to_bgra(img, size), opaque=True))
            if not stop.is_set():
                self.error = None
                failing.clear()
            self.frames_captured += 1
            got = True
            attempted.set()
            # a real camera paces itself inside read(); a file or fast stream is held to the fps
            due = max(due + period, time.monotonic() - period)
            stop.wait(max(0.0, due - time.monotonic()))
        return got

    def _set_error(
        self, stop: threading.Event, slot: LatestSlot[VideoFrame], failing: threading.Event, message: str
    ) -> None:
        if stop.is_set():
            return  # this worker was replaced or closed; its problems are no longer news
        slot.clear()
        self.error = message
        failing.set()

    # ---- the clock's side -----------------------------------------------------------------

    def wait_ready(self, clock_ns: int, timeout_s: float) -> bool:
        """Block until the first attempt to open the camera has a result (a frame or an error)."""
        return self._attempted.wait(timeout_s)

    def wait_failing(self, timeout_s: float) -> bool:
        """Block until the camera is known to give no picture (``error`` is set)."""
        return self._failing.wait(timeout_s)

    def wait_frame(self, timeout_s: float, after: int = 0) -> bool:
        """Block until more than ``after`` frames were captured since the last (re)start."""
        return self._slot.wait(timeout_s, after)

    def frame(self) -> VideoFrame | None:
        return self._slot.get()

    def status(self) -> StatusNotice | None:
        if self._slot.get() is not None:
            return None
        return StatusNotice("NO SIGNAL", self.error or f"waiting for camera {self.settings['device']}")

    def fallback_frame(self) -> VideoFrame | None:
        return self._fallback.frame(self.size)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.settings["width"]), int(self.settings["height"])


CAMERA = register(
    SourceType(
        id="camera",
        version=2,  # 2: fallback_image
        name="Camera",
        flags=SourceFlags.VIDEO | SourceFlags.DEVICE,
        properties=(
            PropertySpec("device", PropertyKind.STRING, "0", "Device (index, path or URL)", max_length=1000),
            PropertySpec("width", PropertyKind.INT, 1280, "Width", 16, 8192),
            PropertySpec("height", PropertyKind.INT, 720, "Height", 16, 8192),
            PropertySpec("fps", PropertyKind.INT, 30, "Frame rate", 1, 120),
            FALLBACK_IMAGE,
        ),
        factory=CameraSource,
        migrations={1: add_fallback_image},
    )
)
