"""Product card for live e-commerce: image, title, price, struck-through original price, discount
tag and a ticking countdown.

The card without the countdown is rendered once per settings change (the static layer); each
time the displayed second changes, the countdown is drawn over a copy of it. The countdown starts
at the first ``tick`` after creation or after ``restart_countdown()``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from scenes.frame import VideoFrame, premultiply, solid
from scenes.properties import PropertyKind, PropertySpec, parse_color
from scenes.registry import SourceFlags, SourceType, register
from scenes.sources.base import Source
from scenes.text_raster import TextStyle, blit_over, measure_text, render_text

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp)"


def format_price(value: float) -> str:
    """99.0 -> "99", 99.9 -> "99.9", 99.95 -> "99.95"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def auto_discount(price: float, original: float) -> str:
    """ "8折" style tag from the prices (Chinese discounts count tenths of the original); "" if none."""
    if original <= 0 or price <= 0 or price >= original:
        return ""
    tenths = math.floor(price / original * 100 + 0.5) / 10  # one decimal, e.g. 8.5
    if tenths >= 10:
        return ""
    return f"{tenths:g}折"


def format_countdown(seconds: int) -> str:
    h, rest = divmod(max(0, seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def rounded_rect_coverage(width: int, height: int, radius: float) -> np.ndarray:
    """Antialiased coverage (0..1, float32 HxW) of a rounded rectangle filling width x height."""
    r = max(0.0, min(radius, width / 2, height / 2))
    xs = np.abs(np.arange(width, dtype=np.float32) + 0.5 - width / 2) - (width / 2 - r)
    ys = np.abs(np.arange(height, dtype=np.float32) + 0.5 - height / 2) - (height / 2 - r)
    dx = np.maximum(xs, 0)[None, :]
    dy = np.maximum(ys, 0)[:, None]
    dist = np.sqrt(dx * dx + dy * dy) - r
    cov: np.ndarray = np.clip(0.5 - dist, 0.0, 1.0)
    return cov


def load_image(path: str) -> np.ndarray:
    """A picture file as premultiplied BGRA; ValueError naming the file when it cannot be used."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"product image {path}: file not found")
    try:
        data = np.fromfile(p, dtype=np.uint8)  # np.fromfile + imdecode: works with Chinese paths on Windows
    except OSError as exc:
        raise ValueError(f"product image {path}: cannot read ({exc.strerror or exc})") from None
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise ValueError(f"product image {path}: not a decodable image")
    if img.dtype == np.uint16:
        img = (img // 257).astype(np.uint8)
    if img.dtype != np.uint8:
        raise ValueError(f"product image {path}: unsupported pixel type {img.dtype}")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
    elif img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    elif img.shape[2] == 4:
        img = premultiply(img)
    else:
        raise ValueError(f"product image {path}: unsupported channel count {img.shape[2]}")
    return np.ascontiguousarray(img)


def _fit(img: np.ndarray, box_w: int, box_h: int) -> np.ndarray:
    """Scale to fit inside the box, keeping the aspect ratio (letterbox)."""
    h, w = img.shape[:2]
    scale = min(box_w / w, box_h / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out: np.ndarray = cv2.resize(img, size, interpolation=interp)
    return out


class ProductCardSource(Source):
    type_id = "product_card"

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__(settings)
        self._start_ns: int | None = None
        self._shown: int | None = None  # remaining seconds currently drawn
        self._static = self._render_static()
        self._frame = self._render_countdown(self._remaining(None))

    # ---- settings and countdown ----

    def update(self, settings: dict[str, Any]) -> None:
        if settings.get("countdown_seconds") != self.settings.get("countdown_seconds"):
            self._start_ns = None
        super().update(settings)
        self._static = self._render_static()
        self._frame = self._render_countdown(self._remaining(None))

    def restart_countdown(self) -> None:
        """Start the countdown again from the full time at the next tick."""
        self._start_ns = None
        self._frame = self._render_countdown(self._remaining(None))

    def _remaining(self, clock_ns: int | None) -> int:
        total = int(self.settings["countdown_seconds"])
        if clock_ns is None or self._start_ns is None:
            return total
        elapsed = max(0, clock_ns - self._start_ns) // 1_000_000_000
        return max(0, total - int(elapsed))

    def tick(self, clock_ns: int) -> None:
        if self.settings["countdown_seconds"] <= 0:
            return
        if self._start_ns is None:
            self._start_ns = clock_ns
        remaining = self._remaining(clock_ns)
        if remaining != self._shown:
            self._frame = self._render_countdown(remaining)

    @property
    def countdown_text(self) -> str:
        """What the countdown shows now ("" when there is none)."""
        if self.settings["countdown_seconds"] <= 0 or self._shown is None:
            return ""
        return format_countdown(self._shown) if self._shown > 0 else self.settings["ended_text"]

    def frame(self) -> VideoFrame:
        return self._frame

    @property
    def size(self) -> tuple[int, int]:
        return self.settings["width"], self.settings["height"]

    # ---- layout ----

    def _metrics(self) -> dict[str, int]:
        w, h = self.settings["width"], self.settings["height"]
        m = max(4, round(h * 0.07))
        side = max(1, min(h - 2 * m, round(w * 0.45)))
        x0 = m + side + m
        return {"w": w, "h": h, "m": m, "side": side, "x0": x0, "tw": max(8, w - x0 - m)}

    def _styles(self) -> dict[str, TextStyle]:
        s, h = self.settings, self.settings["height"]
        text, accent = s["text_color"], s["accent_color"]
        return {
            "title": TextStyle(size_px=max(10, round(h * 0.1)), bold=True, color=text, max_lines=2),
            "price": TextStyle(size_px=max(14, round(h * 0.2)), bold=True, color=accent),
            "original": TextStyle(size_px=max(9, round(h * 0.08)), color="#FF999999", strikeout=True),
            "tag": TextStyle(
                size_px=max(9, round(h * 0.075)),
                bold=True,
                color="#FFFFFFFF",
                background=accent,
                padding=max(2, round(h * 0.02)),
                corner_radius=max(2, round(h * 0.03)),
            ),
            "countdown": TextStyle(size_px=max(9, round(h * 0.08)), bold=True, color=accent),
            "placeholder": TextStyle(size_px=max(9, round(h * 0.07)), color="#FF8A8A8A"),
        }

    def _render_static(self) -> np.ndarray:
        s = self.settings
        g = self._metrics()
        st = self._styles()
        w, h, m, side, x0, tw = g["w"], g["h"], g["m"], g["side"], g["x0"], g["tw"]
        canvas = solid(w, h, parse_color(s["panel_color"]))
        cov = rounded_rect_coverage(w, h, h * 0.08)
        canvas = (canvas.astype(np.float32) * cov[:, :, None] + 0.5).astype(np.uint8)
        self.error = None
        self._draw_image(canvas, m, m, side, st["placeholder"])
        y = m
        if s["title"]:
            blit_over(canvas, render_text(st["title"], s["title"], tw).pixels, x0, y)
        line_h = measure_text(st["title"], "国")[1]
        tag = s["discount_tag"] or auto_discount(s["price"], s["original_price"])
        if tag:
            blit_over(canvas, render_text(st["tag"], tag, tw).pixels, x0, y + 2 * line_h + m // 2)
        price = render_text(st["price"], f"{s['currency']}{format_price(s['price'])}")
        py = h - m - price.height
        blit_over(canvas, price.pixels, x0, py)
        if s["original_price"] > 0:
            orig = render_text(st["original"], f"{s['currency']}{format_price(s['original_price'])}")
            # bottom-align with the price's text, which sits above its descender room
            blit_over(
                canvas, orig.pixels, x0 + price.width + m // 2, py + price.height - orig.height - m // 2
            )
        return canvas

    def _draw_image(self, canvas: np.ndarray, x: int, y: int, side: int, placeholder: TextStyle) -> None:
        box = solid(side, side, (238, 238, 238, 255))
        path = self.settings["image"]
        img: np.ndarray | None = None
        if path:
            try:
                img = load_image(path)
            except ValueError as exc:
                self.error = str(exc)
        if img is not None:
            fitted = _fit(img, side, side)
            blit_over(box, fitted, (side - fitted.shape[1]) // 2, (side - fitted.shape[0]) // 2)
        else:
            label = render_text(placeholder, "暂无图片", side)
            blit_over(box, label.pixels, (side - label.width) // 2, (side - label.height) // 2)
        blit_over(canvas, box, x, y)

    def _render_countdown(self, remaining: int) -> VideoFrame:
        s = self.settings
        if s["countdown_seconds"] <= 0:
            self._shown = None
            return VideoFrame(self._static)
        g = self._metrics()
        st = self._styles()
        text = format_countdown(remaining) if remaining > 0 else s["ended_text"]
        label = render_text(st["countdown"], text) if text else None
        canvas = self._static.copy()
        if label is not None:
            line_h = measure_text(st["title"], "国")[1]
            y = g["m"] + 2 * line_h + g["m"] // 2
            blit_over(canvas, label.pixels, g["w"] - g["m"] - label.width, y)
        self._shown = remaining
        return VideoFrame(canvas)


PRODUCT_CARD = register(
    SourceType(
        id="product_card",
        version=1,
        name="Product card",
        flags=SourceFlags.VIDEO,
        properties=(
            # the catalogue product the card shows (studio.catalogue.cards fills the fields below
            # from it); empty: the fields below as typed (files from before the catalogue)
            PropertySpec("product_id", PropertyKind.STRING, "", "Catalogue product id", max_length=64),
            PropertySpec("image", PropertyKind.PATH, "", "Product image", file_filter=IMAGE_FILTER),
            PropertySpec("title", PropertyKind.STRING, "商品名称", "Title", max_length=200),
            PropertySpec("price", PropertyKind.FLOAT, 99.0, "Price", 0, 1e9),
            PropertySpec("currency", PropertyKind.STRING, "¥", "Currency symbol", max_length=8),
            PropertySpec("original_price", PropertyKind.FLOAT, 0.0, "Original price (0 = none)", 0, 1e9),
            PropertySpec(
                "discount_tag", PropertyKind.STRING, "", "Discount tag (empty = from prices)", max_length=40
            ),
            PropertySpec("countdown_seconds", PropertyKind.INT, 0, "Countdown (s, 0 = none)", 0, 86400),
            PropertySpec(
                "ended_text", PropertyKind.STRING, "已结束", "Text when the countdown ends", max_length=40
            ),
            PropertySpec("accent_color", PropertyKind.COLOR, "#FFFF2D55", "Accent colour"),
            PropertySpec("panel_color", PropertyKind.COLOR, "#F2FFFFFF", "Panel colour"),
            PropertySpec("text_color", PropertyKind.COLOR, "#FF1A1A1A", "Text colour"),
            PropertySpec("width", PropertyKind.INT, 560, "Width", 160, 3840),
            PropertySpec("height", PropertyKind.INT, 220, "Height", 80, 2160),
        ),
        factory=ProductCardSource,
    )
)
