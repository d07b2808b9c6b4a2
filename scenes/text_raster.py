"""Text to premultiplied BGRA pixels with QtGui: the one module of ``scenes`` that uses Qt.

Only QtGui is used (QImage, QPainter, QFont, QTextLayout, ...), never QtWidgets, so the engine runs
headless with the ``offscreen`` platform.

Threads: Qt needs a ``QGuiApplication`` before any font work. Call ``init_text_rendering()``
(``ensure_gui_app()`` then ``scenes.fonts.ensure_fonts()``) once on the MAIN thread at start-up; after that, rasterising on the
``video-clock`` thread is fine, because painting onto a ``QImage`` is allowed in worker threads.
``render_text`` creates the application itself when it runs first on the main thread (tests) and
raises ``RuntimeError`` when it runs first on another thread.

Results are cached (LRU by style, text and width, bounded in bytes), so the danmaku overlay
rasterises each message once. Cached pixels are read-only: copy before drawing on them.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QRawFont,
    QTextLayout,
    QTextOption,
)

from scenes.fonts import ensure_fonts
from scenes.frame import VideoFrame
from scenes.properties import parse_color

ALIGNMENTS = ("left", "center", "right")
ELLIPSIS = "\u2026"
_NO_WRAP_WIDTH = 1.0e6  # a line width no text reaches, for unwrapped layout

_app: QGuiApplication | None = None
_app_lock = threading.Lock()


def ensure_gui_app() -> QGuiApplication:
    """The running ``QGuiApplication``; creates one (main thread only) when there is none.

    With no display (no ``DISPLAY``/``WAYLAND_DISPLAY`` on Linux) and no ``QT_QPA_PLATFORM`` set,
    the ``offscreen`` platform is chosen so headless runs work.
    """
    global _app
    with _app_lock:
        existing = QGuiApplication.instance()
        if existing is not None:
            if not isinstance(existing, QGuiApplication):
                raise RuntimeError(
                    "a QCoreApplication is running; text rendering needs a QGuiApplication (or QApplication)"
                )
            return existing
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError(
                "text rendering needs a QGuiApplication: call scenes.text_raster.ensure_gui_app() "
                "on the main thread before starting the video clock"
            )
        if (
            sys.platform.startswith("linux")
            and not os.environ.get("QT_QPA_PLATFORM")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        ):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        _app = QGuiApplication([sys.argv[0] if sys.argv and sys.argv[0] else "studio"])
        return _app


def init_text_rendering() -> None:
    """Start-up call for the MAIN thread: the GUI application, then the CJK/emoji fonts."""
    ensure_gui_app()
    ensure_fonts()


# ---- font helpers used by scenes.fonts (kept here so Qt stays in one module) ----


def register_font_file(path: Path) -> tuple[str, ...]:
    """Add a font file to Qt; returns the families it brings (empty when Qt cannot load it)."""
    ensure_gui_app()
    font_id = QFontDatabase.addApplicationFont(str(path))
    if font_id < 0:
        return ()
    return tuple(QFontDatabase.applicationFontFamilies(font_id))


def installed_families() -> list[str]:
    ensure_gui_app()
    return list(QFontDatabase.families())


def family_covers(family: str, text: str) -> bool:
    """True when ``family`` itself (not a fallback) has a glyph for every character of ``text``."""
    ensure_gui_app()
    if family not in QFontDatabase.families():
        return False
    metrics = QFontMetrics(QFont(family))
    return all(metrics.inFontUcs4(ord(ch)) for ch in text)


# ---- style ----


def _qcolor(value: str) -> QColor:
    b, g, r, a = parse_color(value)
    return QColor(r, g, b, a)


@dataclass(frozen=True)
class TextStyle:
    """How to draw a piece of text. Colours are ``#RRGGBB`` or ``#AARRGGBB``; sizes are pixels."""

    family: str = ""  # "" = the CJK family found by scenes.fonts
    size_px: int = 48
    bold: bool = False
    color: str = "#FFFFFFFF"
    outline_width: float = 0.0
    outline_color: str = "#FF000000"
    shadow_offset: tuple[int, int] = (0, 0)
    shadow_color: str = "#A0000000"
    background: str = "#00000000"
    padding: int = 0
    corner_radius: float = 0.0  # of the background box
    align: str = "left"
    line_spacing: float = 1.0  # multiple of the font's line height
    wrap_width: int = 0  # 0 = no wrapping (render_text's max_width overrides)
    max_lines: int = 0  # 0 = unlimited; else cut with an ellipsis
    strikeout: bool = False
    extra_families: tuple[str, ...] = field(default=())  # tried before the CJK/emoji fallbacks

    def __post_init__(self) -> None:
        for name in ("color", "outline_color", "shadow_color", "background"):
            try:
                parse_color(getattr(self, name))
            except (ValueError, TypeError):
                raise ValueError(
                    f"TextStyle.{name}: expected #RRGGBB or #AARRGGBB, got {getattr(self, name)!r}"
                ) from None
        if not 1 <= self.size_px <= 1024:
            raise ValueError(f"TextStyle.size_px: {self.size_px} is outside 1..1024")
        if not 0 <= self.outline_width <= 64:
            raise ValueError(f"TextStyle.outline_width: {self.outline_width} is outside 0..64")
        if not 0 <= self.padding <= 1024:
            raise ValueError(f"TextStyle.padding: {self.padding} is outside 0..1024")
        if self.corner_radius < 0:
            raise ValueError(f"TextStyle.corner_radius: {self.corner_radius} is negative")
        if self.align not in ALIGNMENTS:
            raise ValueError(f"TextStyle.align: {self.align!r} is not one of {', '.join(ALIGNMENTS)}")
        if not 0.5 <= self.line_spacing <= 4.0:
            raise ValueError(f"TextStyle.line_spacing: {self.line_spacing} is outside 0.5..4")
        if self.wrap_width < 0 or self.max_lines < 0:
            raise ValueError("TextStyle.wrap_width and max_lines must be >= 0")
        if len(self.shadow_offset) != 2 or any(abs(int(v)) > 256 for v in self.shadow_offset):
            raise ValueError(
                f"TextStyle.shadow_offset: expected (dx, dy) within ±256, got {self.shadow_offset!r}"
            )


def _font(style: TextStyle) -> QFont:
    info = ensure_fonts()
    families: list[str] = []
    for fam in (style.family, *style.extra_families, *info.fallback_families):
        if fam and fam not in families:
            families.append(fam)
    font = QFont()
    if families:
        font.setFamilies(families)
    font.setPixelSize(style.size_px)
    font.setBold(style.bold)
    font.setStrikeOut(style.strikeout)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    return font


# ---- layout ----


@dataclass
class _Plan:
    layouts: list[QTextLayout]  # laid out, lines positioned in block coordinates
    ink: QRectF  # everything drawn by the text (block coordinates), outline included
    width: int  # final image size
    height: int
    origin: QPointF  # where block (0, 0) lands in the image
    shadow: tuple[int, int]


def _lay_paragraphs(font: QFont, paragraphs: Sequence[str], wrap: float, spacing: float) -> list[QTextLayout]:
    option = QTextOption()
    # CJK has no spaces: break at word boundaries where there are some, anywhere otherwise.
    option.setWrapMode(
        QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere
        if wrap < _NO_WRAP_WIDTH
        else QTextOption.WrapMode.NoWrap
    )
    y = 0.0
    layouts: list[QTextLayout] = []
    for para in paragraphs:
        layout = QTextLayout(para, font)
        layout.setTextOption(option)
        layout.setCacheEnabled(True)
        layout.beginLayout()
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(wrap)
            line.setPosition(QPointF(0.0, y))
            y += line.height() * spacing
        layout.endLayout()
        layouts.append(layout)
    return layouts


def _lines(layouts: Sequence[QTextLayout]) -> list[tuple[int, int]]:
    return [(i, j) for i, lay in enumerate(layouts) for j in range(lay.lineCount())]


def _layout_text(style: TextStyle, text: str, wrap: float) -> list[QTextLayout]:
    font = _font(style)
    paragraphs = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    layouts = _lay_paragraphs(font, paragraphs, wrap, style.line_spacing)
    if not style.max_lines or len(_lines(layouts)) <= style.max_lines:
        return layouts
    # Too many lines: keep max_lines, end the last kept line with an ellipsis.
    p_idx, l_idx = _lines(layouts)[style.max_lines - 1]
    para = paragraphs[p_idx]
    start = layouts[p_idx].lineAt(l_idx).textStart()
    rest = para[start:].rstrip()
    more_follows = layouts[p_idx].lineCount() > l_idx + 1 or p_idx + 1 < len(paragraphs)
    metrics = QFontMetricsF(font)
    tail = rest + ELLIPSIS if more_follows and not rest.endswith(ELLIPSIS) else rest
    for _ in range(8):  # elidedText and the layout may disagree by a pixel: shrink until it fits
        elided = metrics.elidedText(
            tail, Qt.TextElideMode.ElideRight, wrap if wrap < _NO_WRAP_WIDTH else 1.0e9
        )
        kept = [*paragraphs[:p_idx], para[:start] + elided]
        layouts = _lay_paragraphs(font, kept, wrap, style.line_spacing)
        if len(_lines(layouts)) <= style.max_lines:
            return layouts
        wrap -= max(1.0, style.size_px * 0.25)
    return layouts


def _plan(style: TextStyle, text: str, max_width: int | None) -> _Plan:
    ensure_gui_app()
    wrap_px = max_width if max_width is not None else style.wrap_width
    if wrap_px is not None and wrap_px < 0:
        raise ValueError(f"max_width: {wrap_px} is negative")
    wrap = float(wrap_px) if wrap_px else _NO_WRAP_WIDTH
    layouts = _layout_text(style, text, wrap)
    lines = [lay.lineAt(j) for lay in layouts for j in range(lay.lineCount())]
    block_w = max((ln.naturalTextWidth() for ln in lines), default=0.0)
    # Align each line inside the widest one.
    for ln in lines:
        slack = block_w - ln.naturalTextWidth()
        dx = 0.0 if style.align == "left" else slack / 2 if style.align == "center" else slack
        ln.setPosition(QPointF(dx, ln.position().y()))
    ink = QRectF()
    for ln in lines:
        ink = ink.united(QRectF(ln.position().x(), ln.position().y(), ln.naturalTextWidth(), ln.height()))
    for lay in layouts:
        for run in lay.glyphRuns():
            ink = ink.united(run.boundingRect())
    grow = style.outline_width + 1.0  # stroke half-width plus antialiasing
    ink = ink.adjusted(-grow, -grow, grow, grow)
    dx, dy = (int(v) for v in style.shadow_offset)
    pad = style.padding
    origin = QPointF(pad - ink.left() + max(0, -dx), pad - ink.top() + max(0, -dy))
    width = max(1, math.ceil(ink.width() + 2 * pad + abs(dx)))
    height = max(1, math.ceil(ink.height() + 2 * pad + abs(dy)))
    return _Plan(layouts, ink, width, height, origin, (dx, dy))


# ---- painting ----


_COLOUR_TABLES = ("CBDT", "sbix", "COLR", "SVG ")
_colour_fonts: dict[str, bool] = {}


def _is_colour_font(raw: QRawFont) -> bool:
    # Colour emoji have no outlines, and asking Qt for one (pathForGlyph) breaks later drawing of
    # that emoji at the same size, so such fonts are left out of the outline path.
    name = raw.familyName()
    known = _colour_fonts.get(name)
    if known is None:
        known = any(not raw.fontTable(tag).isEmpty() for tag in _COLOUR_TABLES)
        _colour_fonts[name] = known
    return known


def _outline_path(layouts: Sequence[QTextLayout]) -> QPainterPath:
    path = QPainterPath()
    for lay in layouts:
        for run in lay.glyphRuns():
            raw = run.rawFont()
            if _is_colour_font(raw):
                continue
            for glyph, pos in zip(run.glyphIndexes(), run.positions(), strict=False):
                # colour emoji are bitmaps without outlines: they add an empty path
                path.addPath(raw.pathForGlyph(glyph).translated(pos))
    return path


def _paint_text(style: TextStyle, plan: _Plan) -> QImage:
    img = QImage(plan.width, plan.height, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(0)
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.translate(plan.origin)
        if style.outline_width > 0:
            pen = QPen(_qcolor(style.outline_color), style.outline_width * 2.0)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.strokePath(_outline_path(plan.layouts), pen)
        p.setPen(_qcolor(style.color))
        for lay in plan.layouts:
            lay.draw(p, QPointF(0.0, 0.0))
    finally:
        p.end()
    return img


def _compose(style: TextStyle, plan: _Plan, fg: QImage) -> QImage:
    bg = _qcolor(style.background)
    shadow = _qcolor(style.shadow_color)
    has_shadow = plan.shadow != (0, 0) and shadow.alpha() > 0
    if bg.alpha() == 0 and not has_shadow:
        return fg
    out = QImage(plan.width, plan.height, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(0)
    p = QPainter(out)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if bg.alpha():
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(bg)
            box = QRectF(0, 0, plan.width, plan.height)
            if style.corner_radius > 0:
                p.drawRoundedRect(box, style.corner_radius, style.corner_radius)
            else:
                p.drawRect(box)
        if has_shadow:
            # the shadow is the text's own silhouette (emoji included), tinted
            sil = QImage(fg)
            sp = QPainter(sil)
            sp.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
            sp.fillRect(sil.rect(), shadow)
            sp.end()
            p.drawImage(QPointF(*plan.shadow), sil)
        p.drawImage(QPointF(0, 0), fg)
    finally:
        p.end()
    return out


def qimage_to_bgra(img: QImage) -> np.ndarray:
    """A premultiplied-ARGB32 QImage as an owned HxWx4 BGRA array (one copy)."""
    if img.format() != QImage.Format.Format_ARGB32_Premultiplied:
        img = img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    view = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)[:, : w * 4]
    arr = view.reshape(h, w, 4)
    if sys.byteorder != "little":  # ARGB32 is a native-endian 32-bit word: A,R,G,B in memory there
        arr = arr[:, :, ::-1]
    return np.array(arr, copy=True, order="C")


# ---- cache and public API ----


class _ByteLRU:
    """An LRU of rendered frames bounded by total pixel bytes (thread-safe)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[TextStyle, str, int | None], VideoFrame] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[TextStyle, str, int | None]) -> VideoFrame | None:
        with self._lock:
            frame = self._items.get(key)
            if frame is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return frame

    def put(self, key: tuple[TextStyle, str, int | None], frame: VideoFrame) -> None:
        size = frame.pixels.nbytes
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.pixels.nbytes
            if size > self.max_bytes:
                return
            self._items[key] = frame
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.pixels.nbytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


CACHE = _ByteLRU(64 * 1024 * 1024)


def render_text(style: TextStyle, text: str, max_width: int | None = None) -> VideoFrame:
    """Rasterise ``text`` (premultiplied BGRA). ``max_width`` wraps lines to that many pixels,
    overriding ``style.wrap_width``. The frame and its read-only pixels are shared through the cache."""
    if not isinstance(text, str):
        raise ValueError(f"render_text: text must be a string, got {type(text).__name__}")
    key = (style, text, max_width)
    hit = CACHE.get(key)
    if hit is not None:
        return hit
    plan = _plan(style, text, max_width)
    pixels = qimage_to_bgra(_compose(style, plan, _paint_text(style, plan)))
    pixels.setflags(write=False)
    frame = VideoFrame(pixels, opaque=_qcolor(style.background).alpha() == 255 and style.corner_radius == 0)
    CACHE.put(key, frame)
    return frame


def measure_text(style: TextStyle, text: str, max_width: int | None = None) -> tuple[int, int]:
    """The (width, height) ``render_text`` would produce, without painting."""
    plan = _plan(style, text, max_width)
    return plan.width, plan.height


def line_count(style: TextStyle, text: str, max_width: int | None = None) -> int:
    """How many lines the text takes (after wrapping and ``max_lines``)."""
    return sum(lay.lineCount() for lay in _plan(style, text, max_width).layouts)


def blit_over(dst: np.ndarray, src: np.ndarray, x: int, y: int) -> None:
    """Draw premultiplied BGRA ``src`` over ``dst`` in place at (x, y), clipped to ``dst``."""
    h, w = dst.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + src.shape[1]), min(h, y + src.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    s = src[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.uint16)
    d = dst[y0:y1, x0:x1]
    inv = 255 - s[:, :, 3:4]
    d[:] = (s + (d.astype(np.uint16) * inv + 127) // 255).clip(0, 255).astype(np.uint8)
