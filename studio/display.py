"""Is there a screen to open a window on? Decided before Qt is asked, so Qt never aborts."""

from __future__ import annotations

import os
import sys


def display_available() -> tuple[bool, str]:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform in ("offscreen", "minimal"):
        return False, f"QT_QPA_PLATFORM={platform} asks for no window"
    if sys.platform in ("win32", "darwin"):
        return True, "desktop session"
    if os.environ.get("WAYLAND_DISPLAY"):
        return True, f"Wayland display {os.environ['WAYLAND_DISPLAY']}"
    if os.environ.get("DISPLAY"):
        return True, f"X display {os.environ['DISPLAY']}"
    return False, "no DISPLAY or WAYLAND_DISPLAY is set"


def use_offscreen_qt() -> None:
    """Headless runs still rasterise text with QtGui: point Qt at its offscreen platform."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
