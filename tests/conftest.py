"""Suite-wide fixtures: every test must leave no threads, sockets or unexpected logged
exceptions behind, and run headless."""

from __future__ import annotations

import gc
import logging
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from requirements_check import missing_tool
from tests_keyring import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Loggers whose caught-and-logged exceptions fail a test: Signal.emit (scenes.events), the video
# clock, source ticks, commands, outputs, the UI... everything of ours. Third-party loggers (aiortc,
# asyncio) are left out: their shutdown noise is not our bug to mark in every network test.
_OUR_LOGGERS = ("scenes", "studio", "encoders", "widgets")
EXPECT_LOGGED_ERRORS = "expect_logged_errors"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{EXPECT_LOGGED_ERRORS}(*patterns): the test provokes exceptions that our code catches and "
        "logs; with patterns, only logged errors whose message matches one of them (re.search) are allowed",
    )


@pytest.fixture(scope="session", autouse=True)
def _one_qt_application() -> Iterator[None]:
    """One QApplication for the whole run, created before anything asks for a QGuiApplication.

    The engine rasterises text with QtGui and would create a QGuiApplication on demand; pytest-qt's
    widgets need a QApplication, and a process can only ever have one of the two.
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    yield
    del app


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    # give threads that were told to stop a moment to finish joining (event-driven join, bounded)
    deadline = time.monotonic() + 5.0
    leaked: list[threading.Thread] = []
    for t in set(threading.enumerate()) - before:
        if not t.is_alive() or t.daemon and t.name.startswith(("asyncio_", "ThreadPoolExecutor", "Dummy", "filter-band")):
            continue
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive():
            leaked.append(t)
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"


def _open_sockets() -> set[str]:
    """Socket file descriptors of this process (Linux); empty elsewhere."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return set()
    found = set()
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(f"{fd}:{target}")
    return found


@pytest.fixture(autouse=True)
def _no_leaked_sockets() -> Iterator[None]:
    before = _open_sockets()
    yield
    leaked = _open_sockets() - before
    if leaked:
        gc.collect()  # sockets of objects that are already unreachable close on collection
        leaked = _open_sockets() - before
    assert not leaked, f"test left {len(leaked)} socket(s) open"


class _LoggedExceptions(logging.Handler):
    """Collects ERROR records that carry a traceback, from any thread, logged by our packages."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.name.split(".")[0] in _OUR_LOGGERS:
            with self._lock_records:
                self.records.append(record)

    def unexpected(self, patterns: tuple[str, ...] | None) -> list[logging.LogRecord]:
        with self._lock_records:
            records = list(self.records)
        if patterns is None:
            return []
        return [r for r in records if not any(re.search(p, r.getMessage()) for p in patterns)]


def _describe(record: logging.LogRecord) -> str:
    exc = record.exc_info[1] if record.exc_info else None
    return f"{record.name} [{record.threadName}]: {record.getMessage()} ({type(exc).__name__}: {exc})"


@pytest.fixture(autouse=True)
def _no_logged_exceptions(request: pytest.FixtureRequest) -> Iterator[_LoggedExceptions]:
    """A caught-and-logged exception (a listener that raised in ``Signal.emit``, a failed clock tick,
    source tick or command) fails the test unless it is marked ``expect_logged_errors``: such
    failures are swallowed on purpose in the product, so only the tests can make them visible.

    Set up before (so torn down after) the test's own fixtures: errors logged while they tear down
    count too."""
    handler = _LoggedExceptions()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
    marker = request.node.get_closest_marker(EXPECT_LOGGED_ERRORS)
    patterns: tuple[str, ...] | None = () if marker is None else (tuple(marker.args) or None)
    unexpected = handler.unexpected(patterns)
    if unexpected:
        lines = "\n  ".join(_describe(r) for r in unexpected[:10])
        pytest.fail(f"{len(unexpected)} exception(s) were caught and logged during the test "
                    f"(mark it @pytest.mark.{EXPECT_LOGGED_ERRORS} if it provokes them on purpose):\n  {lines}",
                    pytrace=False)


@pytest.fixture
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated data folder (demo assets, settings, collections) for one test."""
    home = tmp_path / "studio-home"
    monkeypatch.setenv("DRAMA_STUDIO_HOME", str(home))
    return home


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The keyring library pointed at an in-memory backend for one test."""
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB filesystem (tmpfs) that fills up after a few seconds of recording: writes
    fail with ENOSPC as on a full disk. Needs root (CI runs as root) or a user namespace; skips
    elsewhere, fails under CI=true."""
    mount = tmp_path / "tiny-fs"
    mount.mkdir()
    attempt = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0777", "tmpfs", str(mount)],
                             capture_output=True, text=True, check=False)
    if attempt.returncode != 0:
        missing_tool(f"cannot mount a small tmpfs to fill up (needs root): {attempt.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)
