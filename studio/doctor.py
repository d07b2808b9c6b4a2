"""`studio doctor`: what this machine offers the studio, each item with a plain verdict."""

from __future__ import annotations

import importlib
import platform
import sys
from importlib import metadata
from typing import Any

from studio.display import display_available

# distribution -> module, for frozen builds where package metadata may be missing
_MODULES = {"PySide6-Essentials": "PySide6", "opencv-python-headless": "cv2", "drama-live-studio": "studio"}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        pass
    try:
        module = importlib.import_module(_MODULES.get(dist, dist))
    except ImportError:
        return "not installed"
    return str(getattr(module, "__version__", "installed (version unknown)"))


def _section(module: str, func: str, *args: Any) -> Any:
    """Call an optional probe; a missing or failing module becomes a readable verdict."""
    try:
        return getattr(importlib.import_module(module), func)(*args)
    except Exception as exc:  # doctor reports, it never crashes
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def report() -> dict[str, Any]:
    import av

    has_display, display_reason = display_available()
    return {
        "studio": _version("drama-live-studio"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {d: _version(d) for d in (
            "PySide6-Essentials", "av", "aiortc", "aiohttp", "numpy", "opencv-python-headless",
            "sounddevice", "websockets", "keyring")},
        "ffmpeg": {k: ".".join(map(str, v)) if isinstance(v, tuple) else str(v)
                   for k, v in av.library_versions.items()},
        "encoders": _section("encoders.probe", "doctor_report"),
        "audio": _section("studio.audio.devices", "doctor_report"),
        "fonts": _section("scenes.fonts", "cjk_font_report"),
        "display": {"available": has_display, "reason": display_reason},
    }


def format_text(data: dict[str, Any], indent: int = 0) -> str:
    lines: list[str] = []
    pad = "  " * indent
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(format_text(value, indent + 1))
        elif isinstance(value, list):
            lines.append(f"{pad}{key}: " + (", ".join(map(str, value)) if value else "(none)"))
        else:
            lines.append(f"{pad}{key}: {value}")
    return "\n".join(lines)
