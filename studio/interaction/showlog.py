"""The show log: one JSONL file per live show, one line per notable event (polls, gifts, announcements).

``append`` only queues the record; a ``showlog`` thread writes and flushes each line, so the UI
and the network loop never wait on the disk. A killed process loses at most the queued lines.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from studio.paths import data_dir

log = logging.getLogger(__name__)
_STOP = object()


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)


class ShowLog:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.written = 0
        self.errors = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="showlog", daemon=True)
        self._thread.start()

    @classmethod
    def for_new_show(cls, folder: Path | None = None) -> ShowLog:
        """A fresh file named after the local start time, in ``<data>/shows`` by default."""
        folder = folder or data_dir() / "shows"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"show-{stamp}.jsonl"
        n = 1
        while path.exists():
            n += 1
            path = folder / f"show-{stamp}-{n}.jsonl"
        return cls(path)

    def append(self, kind: str, **data: Any) -> None:
        """Queue one record ``{"t": unix time, "kind": kind, ...data}``; never blocks."""
        if self._closed:
            raise ValueError(f"show log {self.path} is closed")
        self._queue.put({"t": round(time.time(), 3), "kind": kind, **data})

    def _run(self) -> None:
        while True:
            record = self._queue.get()
            if record is _STOP:
                break
            if isinstance(record, _Flush):
                record.done.set()
                continue
            try:
                self._file.write(json.dumps(record, ensure_ascii=False, default=_jsonable) + "\n")
                self._file.flush()
                self.written += 1
            except (OSError, ValueError, TypeError):
                self.errors += 1
                log.exception("show log %s: could not write a record", self.path)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is on disk (for tests and the end of a show)."""
        done = threading.Event()
        self._queue.put(_Flush(done))
        if not done.wait(timeout):
            raise TimeoutError(f"show log {self.path} did not flush within {timeout} s")

    def close(self, timeout: float = 10.0) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._file.close()

    def __enter__(self) -> ShowLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Flush:
    def __init__(self, done: threading.Event) -> None:
        self.done = done
