"""Scene collections on disk: load with clear errors, atomic save with backup, autosave."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from scenes.model import SceneCollection
from scenes.serialize import collection_from_dict, collection_to_dict
from studio.storage import DamagedFileError, backup_path, read_json, write_json_atomic

log = logging.getLogger(__name__)


def load_collection(path: Path) -> SceneCollection:
    """Load a collection or raise DamagedFileError naming the file, the problem and any backup."""
    path = Path(path)
    data = read_json(path)
    try:
        return collection_from_dict(data)
    except ValueError as exc:
        bak = backup_path(path)
        raise DamagedFileError(path, str(exc), bak if bak.exists() else None) from None


def load_backup(path: Path) -> SceneCollection:
    """Load the ``.bak`` copy of ``path`` (offered to the user when the main file is damaged)."""
    return load_collection(backup_path(Path(path)))


def save_collection(collection: SceneCollection, path: Path) -> None:
    write_json_atomic(Path(path), collection_to_dict(collection))


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


__all__ = ["Autosaver", "DamagedFileError", "load_backup", "load_collection", "save_collection"]
