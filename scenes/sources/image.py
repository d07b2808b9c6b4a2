"""A still image (PNG, JPEG, ... with alpha), decoded off the clock thread.

Thread: a short-lived loader, named ``image:<file name>``, reads and decodes the file whenever the
path is set; until it is done ``frame()`` shows nothing. A file that cannot be read has no picture:
``error`` names the file and the problem, and the operator's views show a "MEDIA ERROR" card
(``Source.frame_for``); the program shows nothing there.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import cv2
import numpy as np

from scenes.frame import VideoFrame, premultiply
from scenes.properties import PropertyKind, PropertySpec
from scenes.registry import SourceFlags, SourceType, register
from scenes.sources.base import Source

DEFAULT_SIZE = (1280, 720)
JOIN_TIMEOUT_S = 10.0
MAX_FILE_BYTES = 512 * 1024 * 1024
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff)"


def to_premultiplied(img: np.ndarray, name: str = "image") -> tuple[np.ndarray, bool]:
    """A decoded picture (gray, BGR or BGRA; 8 or 16 bit) -> (premultiplied BGRA uint8, opaque)."""
    if img.dtype == np.uint16:
        # exact rounding of 0..65535 onto 0..255
        img = ((img.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ValueError(f"{name}: {img.dtype} pixels are not supported (8 or 16 bit only)")
    if img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 1):
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA), True
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"{name}: {img.shape} is not a gray, colour or colour+alpha picture")
    if img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2BGRA), True
    if bool((img[:, :, 3] == 255).all()):
        return np.ascontiguousarray(img), True
    return premultiply(img), False


def load_image(path: str) -> VideoFrame:
    """Read and decode ``path`` (non-ASCII paths work); ValueError names the file and the problem."""
    name = os.path.basename(path) or path
    if not os.path.isfile(path):
        raise ValueError(f"image file not found: {path}")
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            raise ValueError(f"{name}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        # np.fromfile + imdecode instead of imread: imread cannot open non-ASCII paths on Windows
        data = np.fromfile(path, np.uint8)
    except OSError as exc:
        raise ValueError(f"{name}: cannot read ({exc.strerror or exc})") from None
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise ValueError(f"{name}: not a supported image (PNG, JPEG, BMP, WebP, TIFF)")
    pixels, opaque = to_premultiplied(img, name)
    return VideoFrame(pixels, opaque=opaque)


class ImageSource(Source):
    type_id = "image"
    status_title = "MEDIA ERROR"

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._frame: VideoFrame | None = None
        self._loaded = threading.Event()
        self._loaders: list[threading.Thread] = []
        self._gen = 0
        self._closed = False
        self._load()

    def update(self, settings: dict[str, Any]) -> None:
        changed = settings.get("path") != self.settings.get("path")
        super().update(settings)
        if changed:
            self._load()

    def _load(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._gen += 1
            self._frame = None
            self._loaded = threading.Event()
            self._loaders = [t for t in self._loaders if t.is_alive()]
            path = str(self.settings.get("path", ""))
            if not path:
                self.error = "no image file chosen"
                self._loaded.set()
                return
            self.error = None
            t = threading.Thread(
                target=self._decode,
                args=(self._gen, path, self._loaded),
                name=f"image:{os.path.basename(path) or path}",
                daemon=True,
            )
            self._loaders.append(t)
            t.start()

    def _decode(self, gen: int, path: str, loaded: threading.Event) -> None:
        frame: VideoFrame | None = None
        error: str | None = None
        try:
            frame = load_image(path)
        except ValueError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a strange file must not kill the thread silently
            error = f"{os.path.basename(path)}: cannot decode ({type(exc).__name__}: {exc})"
        with self._lock:
            if gen == self._gen:  # a newer path may have replaced this one meanwhile
                self._frame, self.error = frame, error
        loaded.set()

    @property
    def ready(self) -> bool:
        return self._loaded.is_set()

    def wait_ready(self, clock_ns: int, timeout_s: float) -> bool:
        """Block until the current file is decoded (or failed); for offline renders and tests."""
        return self._loaded.wait(timeout_s)

    def frame(self) -> VideoFrame | None:
        return self._frame if self.error is None else None

    @property
    def size(self) -> tuple[int, int]:
        f = self._frame
        return (f.width, f.height) if f is not None else DEFAULT_SIZE

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._gen += 1
            loaders, self._loaders = self._loaders, []
        for t in loaders:
            t.join(JOIN_TIMEOUT_S)


IMAGE = register(
    SourceType(
        id="image",
        version=1,
        name="Image",
        flags=SourceFlags.VIDEO,
        properties=(
            PropertySpec("path", PropertyKind.PATH, "", "File", file_filter=IMAGE_FILTER),
        ),
        factory=ImageSource,
    )
)
