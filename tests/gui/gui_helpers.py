"""Helpers shared by the GUI tests: a small 1280x720 collection of colour sources and frame access."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication

from scenes.model import Scene, SceneCollection, SceneItem, VideoFormat
from studio.engine import Studio
from widgets.main_window import MainWindow

W, H = 1280, 720
RED, GREEN, BLUE = "#FFFF0000", "#FF00FF00", "#FF0000FF"


def make_collection() -> SceneCollection:
    col = SceneCollection("GUI test", VideoFormat(W, H, 30))
    col.add_source("red", "color", {"color": RED, "width": W, "height": H})
    col.add_source("green", "color", {"color": GREEN, "width": W, "height": H})
    col.add_source("box", "color", {"color": BLUE, "width": 200, "height": 100})
    col.add_source("small", "color", {"color": "#FFFFFF00", "width": 100, "height": 100})
    col.add_scene(Scene("Scene A", [SceneItem("red", "bg-a"), SceneItem("box", "box-a", x=100, y=100)]))
    col.add_scene(Scene("Scene B", [SceneItem("green", "bg-b"), SceneItem("small", "small-b", x=600, y=300)]))
    col.add_scene(Scene("Scene C", [SceneItem("red", "bg-c")]))
    return col


def pixel(studio: Studio, x: int, y: int, preview: bool = False) -> tuple[int, int, int]:
    """(r, g, b) of the newest program (or preview) frame at canvas (x, y)."""
    frame, _ = (studio.preview if preview else studio.program).latest()
    assert frame is not None
    b, g, r, _a = (int(v) for v in np.asarray(frame.pixels[y, x]))
    return r, g, b



def render(window: MainWindow, index: int = 1) -> None:
    """Apply queued commands and composite a frame, then let the views take it."""
    window.studio.render_offline(index)
    QApplication.processEvents()
    window.refresh_views()
