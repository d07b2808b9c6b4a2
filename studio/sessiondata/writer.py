"""The session database's writer: callers queue events (never block), one thread writes them.

``add`` puts a row on a bounded queue and returns at once; a full queue drops the row and counts
it (``dropped``) rather than stall the clock or the net loop. ``add_events`` queues a network read's
rows as one item (a busy room: one queue operation per read, not per message). The ``session-writer`` thread takes
what is queued in batches and commits each batch in one transaction at least every
``commit_s`` (0.25 s): with WAL, a committed batch survives a kill -9, so a crash loses well
under the last second.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from studio.sessiondata.schema import open_database

log = logging.getLogger(__name__)
COMMIT_S = 0.25
QUEUE_MAX = 100_000  # items (a row, or one read's rows): only a stuck disk fills it
BATCH_MAX = 5_000  # rows a commit gathers before writing


class Event(NamedTuple):
    t: float
    kind: str
    platform: str = ""
    user: str = ""
    nick: str = ""
    ref: str = ""
    value: float = 0.0
    text: str = ""


class _Health(NamedTuple):
    t: float
    bitrate_bps: int
    lagged: int
    viewers: int


class _Meta(NamedTuple):
    key: str
    value: str


class _Flush(NamedTuple):
    done: threading.Event


class _Events(NamedTuple):
    rows: tuple[Event, ...]


_STOP = object()
_Item = Event | _Events | _Health | _Meta | _Flush | object


def _rows(item: _Item) -> int:
    return len(item.rows) if isinstance(item, _Events) else 1


class SessionWriter:
    def __init__(self, path: Path | str, *, commit_s: float = COMMIT_S, queue_max: int = QUEUE_MAX) -> None:
        if not 0 < commit_s <= 1:
            raise ValueError(f"commit interval must be 0-1 s, got {commit_s}")
        self.path = Path(path)
        self._db = open_database(self.path)
        self._commit_s = commit_s
        self._queue: queue.Queue[_Item] = queue.Queue(queue_max)
        self.written = 0
        self.dropped = 0  # the queue was full
        self.errors = 0
        self.cpu_s = 0.0  # the writer thread's own CPU time (time.thread_time)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="session-writer", daemon=True)
        self._thread.start()

    # ---- any thread ----

    def add(self, kind: str, *, t: float | None = None, platform: str = "", user: str = "", nick: str = "",
            ref: str = "", value: float = 0.0, text: str = "") -> None:
        self._put(Event(time.time() if t is None else t, kind, platform, user, nick, ref, float(value), text))

    def add_event(self, event: Event) -> None:
        self._put(event)

    def add_events(self, events: Sequence[Event]) -> None:
        """Queue several rows as one item (dropped together, and counted, when the queue is full)."""
        if events:
            self._put(_Events(tuple(events)))

    def health(self, bitrate_bps: int, lagged: int, viewers: int, *, t: float | None = None) -> None:
        self._put(_Health(time.time() if t is None else t, int(bitrate_bps), int(lagged), int(viewers)))

    def set_meta(self, key: str, value: str) -> None:
        self._put(_Meta(key, value))

    def _put(self, item: _Item) -> None:
        if self._closed:
            return  # late listeners after the show ended: nothing to record
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += _rows(item)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is committed."""
        done = threading.Event()
        self._queue.put(_Flush(done), timeout=timeout)
        if not done.wait(timeout):
            raise TimeoutError(f"session database {self.path} did not flush within {timeout} s")

    def close(self, timeout: float = 10.0) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP, timeout=timeout)
        self._thread.join(timeout)
        self._db.close()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the writer thread ----

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[_Item] = []
            try:
                batch.append(self._queue.get(timeout=1.0))
            except queue.Empty:
                continue
            rows = _rows(batch[0])
            deadline = time.monotonic() + self._commit_s
            # gather for one commit interval (or until a flush/stop asks for it now)
            while rows < BATCH_MAX and not isinstance(batch[-1], _Flush) and batch[-1] is not _STOP:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
                rows += _rows(batch[-1])
            stop = batch[-1] is _STOP
            self._write(batch)
            self.cpu_s = time.thread_time()

    def _write(self, batch: list[_Item]) -> None:
        events: list[Event] = []
        for b in batch:
            if isinstance(b, Event):
                events.append(b)
            elif isinstance(b, _Events):
                events.extend(b.rows)
        health = [b for b in batch if isinstance(b, _Health)]
        metas = [b for b in batch if isinstance(b, _Meta)]
        try:
            self._db.execute("BEGIN")
            if events:
                self._db.executemany(
                    "INSERT INTO events (t, kind, platform, user, nick, ref, value, text) VALUES (?,?,?,?,?,?,?,?)",
                    events)
            if health:
                self._db.executemany("INSERT INTO health (t, bitrate_bps, lagged, viewers) VALUES (?,?,?,?)", health)
            if metas:
                self._db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)", metas)
            self._db.execute("COMMIT")
            self.written += len(events) + len(health)
        except sqlite3.Error:
            self.errors += 1
            log.exception("session database %s: could not write %d rows", self.path, len(batch))
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
        for item in batch:
            if isinstance(item, _Flush):
                item.done.set()
