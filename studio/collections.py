"""Scene collections on disk: load with clear errors, atomic save, a last known-good backup
(refreshed when a file is opened and loads), autosave."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from scenes.model import SceneCollection
from scenes.serialize import collection_from_dict, collection_to_dict
from studio.storage import (
    DamagedFileError,
    backup_path,
    keep_known_good,
    read_json_bytes,
    restore_backup,
    valid_backup,
    write_json_atomic,
)

log = logging.getLogger(__name__)


def load_collection(path: Path) -> SceneCollection:
    """Load a collection or raise DamagedFileError naming the file, the problem and any backup."""
    return _load(Path(path))[0]


def _load(path: Path) -> tuple[SceneCollection, bytes]:
    data, raw = read_json_bytes(path)
    try:
        return collection_from_dict(data), raw
    except ValueError as exc:
        raise DamagedFileError(path, str(exc), _usable_backup(path)) from None


def open_collection_file(path: Path) -> SceneCollection:
    """``load_collection`` for the file the studio is about to work on: it becomes its own ``.bak``."""
    path = Path(path)
    collection, raw = _load(path)
    keep_known_good(path, raw)
    return collection


def _usable_backup(path: Path) -> Path | None:
    bak = valid_backup(path)
    if bak is None:
        return None
    try:
        _load(bak)
    except DamagedFileError:
        return None  # offering a backup that cannot load either would only fail a second time
    return bak


def load_backup(path: Path) -> SceneCollection:
    """Load the ``.bak`` copy of ``path`` (offered to the user when the main file is damaged)."""
    return _load(backup_path(Path(path)))[0]


def open_backup(path: Path) -> tuple[SceneCollection, Path]:
    """Work on the backup of a damaged ``path``: the damaged file is set aside under a dated name
    (returned; never overwritten), the backup is copied back to ``path`` and loaded."""
    path = Path(path)
    load_backup(path)  # raises DamagedFileError before anything is moved
    aside = restore_backup(path)
    return open_collection_file(path), aside


def save_collection(collection: SceneCollection, path: Path) -> None:
    # the backup is refreshed (at most every few minutes) only from a file that still loads
    write_json_atomic(Path(path), collection_to_dict(collection), validate=collection_from_dict)


class Autosaver:
    """Saves the collection a moment after it changes, on its own thread (never the UI's)."""

    def __init__(self, collection: SceneCollection, path: Path, delay_s: float = 2.0) -> None:
        self.collection = collection
        self.path = Path(path)
        self.delay_s = delay_s
        self.saves = 0
        self.last_error: str | None = None
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._saved = threading.Condition()
        self._disconnect = collection.changed.connect(lambda _event: self._dirty.set())
        self._thread = threading.Thread(target=self._run, name="autosave", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._dirty.wait(timeout=0.5):
                continue
            # let a burst of edits settle before writing
            if self._stop.wait(self.delay_s):
                break
            self._save_now()
        if self._dirty.is_set():
            self._save_now()

    def _save_now(self) -> None:
        self._dirty.clear()
        try:
            save_collection(self.collection, self.path)
            self.last_error = None
        except OSError as exc:
            self.last_error = f"autosave to {self.path} failed: {exc}"
            log.error(self.last_error)
        with self._saved:
            self.saves += 1
            self._saved.notify_all()

    def wait_saved(self, count: int, timeout: float) -> bool:
        with self._saved:
            return self._saved.wait_for(lambda: self.saves >= count, timeout)

    def close(self) -> None:
        """Stop, writing any pending change first."""
        self._disconnect()
        self._stop.set()
        self._thread.join(timeout=10)


__all__ = ["Autosaver", "DamagedFileError", "load_backup", "load_collection", "open_backup", "open_collection_file",
           "save_collection"]
