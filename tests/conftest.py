"""Suite-wide fixtures: every test must leave no threads behind and run headless."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_keyring import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


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
        if not t.is_alive() or t.daemon and t.name.startswith(("asyncio_", "ThreadPoolExecutor", "Dummy")):
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
