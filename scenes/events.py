"""A tiny thread-safe signal: models own their events, listeners subscribe.

Qt signals would tie the engine to Qt; this is the engine's equivalent. Listeners run on the
thread that emits; the UI re-emits through ``widgets/bridge.py`` to reach its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Signal(Generic[T]):
    """Holds listeners of one event type. ``emit`` never raises because of a listener."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []
        self._lock = threading.Lock()

    def connect(self, listener: Callable[[T], None]) -> Callable[[], None]:
        """Subscribe; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def disconnect() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return disconnect

    def emit(self, event: T) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not take the engine down
                log.exception("event listener %r failed", listener)

    def __len__(self) -> int:
        with self._lock:
            return len(self._listeners)
