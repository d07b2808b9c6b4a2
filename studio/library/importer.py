"""Importing a folder of clips: find the video files (recursively), probe each, add it to the library.

``import_files`` does the work on the calling thread (the CLI, tests); ``ImportJob`` runs it on a
``library-import`` thread for the UI, reporting progress through callbacks and stopping between
two files when cancelled. A bad file is recorded as broken with its reason, never raised.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.library.clip import new_clip_id
from studio.library.library import Library
from studio.library.probe import is_video_name

log = logging.getLogger(__name__)
MAX_FILES = 20_000  # one import; a folder this big is probably the wrong folder


@dataclass(frozen=True)
class ImportProgress:
    done: int
    total: int
    name: str  # the file just probed


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)  # clip ids
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # ids of those added or updated that are not usable
    cancelled: bool = False
    error: str = ""  # the folder itself could not be read


def scan_folder(folder: str | Path, cancelled: Callable[[], bool] = lambda: False) -> list[Path]:
    """The video files under ``folder`` (by extension), sorted; symlinked folders are not followed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"not a folder: {folder}")
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        if cancelled():
            break
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / f for f in files if is_video_name(f) and not f.startswith("."))
        if len(found) > MAX_FILES:
            raise ValueError(f"{folder} holds more than {MAX_FILES} video files; import a smaller folder")
    return sorted(found)


def import_files(library: Library, paths: list[Path], progress: Callable[[ImportProgress], None] | None = None,
                 cancelled: Callable[[], bool] = lambda: False) -> ImportResult:
    result = ImportResult()
    for i, path in enumerate(paths):
        if cancelled():
            result.cancelled = True
            break
        known = library.by_path(path)
        if known is not None and not library.needs_probe(path):
            result.unchanged.append(known.id)
        else:
            clip_id = known.id if known is not None else None
            probe_id = clip_id or new_clip_id()
            clip = library.add_probed(path, library.probe(path, probe_id), probe_id)
            (result.updated if known is not None else result.added).append(clip.id)
            if not clip.usable:
                result.broken.append(clip.id)
                log.info("library: %s is not usable: %s", path.name, clip.reason)
        if progress is not None:
            progress(ImportProgress(i + 1, len(paths), path.name))
    return result


def import_folder(library: Library, folder: str | Path, progress: Callable[[ImportProgress], None] | None = None,
                  cancelled: Callable[[], bool] = lambda: False) -> ImportResult:
    try:
        paths = scan_folder(folder, cancelled)
    except (OSError, ValueError) as exc:
        return ImportResult(error=str(exc))
    if progress is not None:
        progress(ImportProgress(0, len(paths), ""))
    result = import_files(library, paths, progress, cancelled)
    result.cancelled = result.cancelled or cancelled()
    return result


class ImportJob:
    """One folder import on its own thread; ``on_progress``/``on_done`` are called on that thread."""

    def __init__(self, library: Library, folder: str | Path, on_progress: Callable[[ImportProgress], None],
                 on_done: Callable[[ImportResult], None], *, save: bool = True) -> None:
        self.library = library
        self.folder = Path(folder)
        self._on_progress = on_progress
        self._on_done = on_done
        self._save = save
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="library-import", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Stop after the file being probed (a probe is bounded: it never hangs)."""
        self._cancel.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = import_folder(self.library, self.folder, self._on_progress, self._cancel.is_set)
            if self._save and (result.added or result.updated):
                self.library.save()
        except Exception as exc:  # the library file could not be written: say so, keep the UI alive
            log.exception("library import of %s failed", self.folder)
            result = ImportResult(error=str(exc))
        self._on_done(result)
