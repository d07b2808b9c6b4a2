"""Crash-safe JSON files: temp file, fsync, rename, with a .bak of the last good copy.

Used for scene collections, rundowns and settings. A damaged file is reported with its path and
the problem; the backup is offered, never silently swapped in.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


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


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` so that a crash at any point leaves either the old or the new file whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists() and _is_valid_json(path):
            # keep the last good copy; a hard link would be changed by nothing, but rename is atomic
            os.replace(path, backup_path(path))
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
    path = Path(path)
    bak = backup_path(path)
    backup = bak if bak.exists() and _is_valid_json(bak) else None
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DamagedFileError(path, "file not found", backup) from None
    except OSError as exc:
        raise DamagedFileError(path, f"cannot be read ({exc.strerror})", backup) from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DamagedFileError(path, "is not UTF-8 text", backup) from None
    except json.JSONDecodeError as exc:
        raise DamagedFileError(path, f"is not valid JSON (line {exc.lineno}, column {exc.colno})", backup) from None
