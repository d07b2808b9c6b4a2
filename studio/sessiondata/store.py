"""Where session databases live: ``<data>/sessions/session-YYYYmmdd-HHMMSS.sqlite``."""

from __future__ import annotations

import time
from pathlib import Path

from studio.paths import data_dir

SUFFIX = ".sqlite"


def sessions_dir() -> Path:
    path = data_dir() / "sessions"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_session_path(folder: Path | None = None) -> Path:
    folder = folder or sessions_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"session-{stamp}{SUFFIX}"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"session-{stamp}-{n}{SUFFIX}"
    return path


def list_sessions(folder: Path | None = None) -> list[Path]:
    """Oldest first (names sort by start time)."""
    folder = folder or sessions_dir()
    return sorted(p for p in folder.glob(f"session-*{SUFFIX}") if p.is_file())


def latest_session(folder: Path | None = None) -> Path:
    found = list_sessions(folder)
    if not found:
        raise FileNotFoundError(f"no sessions in {folder or sessions_dir()}")
    return found[-1]


def resolve_session(name: str, folder: Path | None = None) -> Path:
    """A path, or a session's name (with or without ``.sqlite``) in the sessions folder."""
    path = Path(name)
    if path.exists():
        return path
    folder = folder or sessions_dir()
    for candidate in (folder / name, folder / f"{name}{SUFFIX}"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no session {name!r} (see {folder})")
