"""Crash-safe JSON files: temp file, fsync, rename, with a .bak of the last known-good copy.

Used for scene collections, rundowns and settings. A damaged file is reported with its path and
the problem; the backup is offered, never silently swapped in.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class DamagedFileError(ValueError):
    """A file could not be read or understood; ``backup`` names a good copy when there is one."""

    def __init__(self, path: Path, problem: str, backup: Path | None) -> None:
        self.path = path
        self.problem = problem
        self.backup = backup
        hint = f" A backup is available: {backup}" if backup else ""
        super().__init__(f"{path}: {problem}.{hint}")


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


# The ``.bak`` is a last-known-good copy, not the previous save: autosave writes every few seconds,
# so "the previous save" is usually the same damage (a bug's bad data, a session's bad edit) two
# seconds earlier. It is refreshed only from a file that this studio proved it can use: at open,
# from the file that just loaded in full (``keep_known_good``), and while a file is being saved,
# at most every BACKUP_REFRESH_S from the file on disk if it still loads (``validate``). Falling
# back to it costs at most about ten minutes of edits, and damage has ten minutes to be noticed
# (a failed load) before it could ever be copied, which a file that fails to load never is.
BACKUP_REFRESH_S = 600.0

Validator = Callable[[Any], object]


def write_json_atomic(path: Path, data: Any, validate: Validator | None = None) -> None:
    """Write ``data`` so that a crash at any point leaves the old or the new file whole: the new
    text goes to a temp file (fsync), is renamed over the old one (never unlink first), and the
    directory is fsynced so the rename itself survives a power cut.

    The ``.bak`` is first made from the current file when there is none or it is older than
    ``BACKUP_REFRESH_S`` and the current file loads (JSON, then ``validate`` when given)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    _refresh_backup_if_due(path, validate)
    _write_bytes_atomic(path, text.encode("utf-8"))


def keep_known_good(path: Path, raw: bytes) -> None:
    """Make ``raw`` (the bytes of ``path`` that just loaded in full) its ``.bak``. A failure to
    write the copy is logged, not raised: opening the file must not fail because of its backup."""
    try:
        _write_bytes_atomic(backup_path(Path(path)), raw)
    except OSError as exc:
        log.warning("could not refresh the backup of %s: %s", path, exc)


def _refresh_backup_if_due(path: Path, validate: Validator | None) -> None:
    bak = backup_path(path)
    try:
        if bak.exists() and time.time() - bak.stat().st_mtime < BACKUP_REFRESH_S:
            return
        raw = path.read_bytes()
    except OSError:
        return  # no current file (first save) or it cannot be read: nothing known-good to keep
    try:
        data = json.loads(raw.decode("utf-8"))
        if validate is not None:
            validate(data)
    except ValueError:
        return  # never let a damaged file replace the last good copy
    keep_known_good(path, raw)


def _write_bytes_atomic(path: Path, raw: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never none
        _fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def set_aside(path: Path, reason: str = "damaged") -> Path:
    """Rename a file the user chose not to use (damaged, newer) to a dated name beside it, so
    opening its backup never overwrites it; returns the new name."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{reason}-{stamp}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.name}.{reason}-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    _fsync_dir(path.parent)
    return target


def restore_backup(path: Path) -> Path:
    """Put the ``.bak`` back as ``path``: the current file is set aside first (returned), the
    backup itself stays as it is (it is still the last known-good copy)."""
    path = Path(path)
    raw = backup_path(path).read_bytes()
    aside = set_aside(path) if path.exists() else path
    _write_bytes_atomic(path, raw)
    return aside


def _is_valid_json(path: Path) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-8"))
        return True
    except (OSError, ValueError):
        return False


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    """Read JSON or raise DamagedFileError naming the file, the problem and any backup."""
    return read_json_bytes(path)[0]


def read_json_bytes(path: Path) -> tuple[Any, bytes]:
    """``read_json`` that also returns the bytes read (for ``keep_known_good`` once they load)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DamagedFileError(path, "file not found", valid_backup(path)) from None
    except OSError as exc:
        raise DamagedFileError(path, f"cannot be read ({exc.strerror})", valid_backup(path)) from None
    try:
        return json.loads(raw.decode("utf-8")), raw
    except UnicodeDecodeError:
        raise DamagedFileError(path, "is not UTF-8 text", valid_backup(path)) from None
    except json.JSONDecodeError as exc:
        raise DamagedFileError(path, f"is not valid JSON (line {exc.lineno}, column {exc.colno})",
                               valid_backup(path)) from None


def valid_backup(path: Path) -> Path | None:
    """The ``.bak`` of ``path`` when it is there and parses."""
    bak = backup_path(Path(path))
    return bak if bak.exists() and _is_valid_json(bak) else None


def path_for_file(path: str, base: Path | None) -> str:
    """``path`` as a saved file keeps it: relative to the file's folder ``base`` when it lies
    inside it (the folder can move with its media), else as given."""
    if base is None or not path:
        return path
    try:
        p = Path(path)
        if p.is_absolute() and p.resolve().is_relative_to(base.resolve()):
            return p.resolve().relative_to(base.resolve()).as_posix()
    except (OSError, ValueError):
        pass
    return path


def path_from_file(path: Any, base: Path | None) -> Any:
    """A path read from a file saved in ``base``: relative ones resolved against it (anything else,
    a non-string included, is handed back for the caller's validation)."""
    if base is None or not isinstance(path, str) or not path or Path(path).is_absolute():
        return path
    return os.path.normpath(str(base / path))

