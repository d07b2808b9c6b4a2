"""Where the studio keeps its files: one data folder, overridable for tests and portable installs."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    """``$DRAMA_STUDIO_HOME``, else the platform's per-user data folder."""
    override = os.environ.get("DRAMA_STUDIO_HOME")
    if override:
        base = Path(override)
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home())) / "DramaLiveStudio"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "DramaLiveStudio"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "drama-live-studio"
    base.mkdir(parents=True, exist_ok=True)
    return base


def demo_dir() -> Path:
    return data_dir() / "demo"


def recordings_dir() -> Path:
    path = data_dir() / "recordings"
    path.mkdir(parents=True, exist_ok=True)
    return path


def resources_dir() -> Path:
    """The bundled resources folder, also inside a PyInstaller build."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
