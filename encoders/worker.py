"""The life cycle the ``enc-video`` and ``enc-audio`` workers share: one named thread draining a
queue guarded by ``_cond``; ``stop()`` lets it finish what is queued (flushing its codec) and joins."""

from __future__ import annotations

import logging
import threading
from typing import Self

log = logging.getLogger(__name__)


class EncoderThread:
    def __init__(self, thread_name: str) -> None:
        self._thread_name = thread_name
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def _before_start(self) -> None:
        """Open what the thread needs (runs on the caller's thread, before the thread starts)."""

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._before_start()
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Encode what is queued, flush the codec, join the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("%s did not stop within %.1f s", self._thread_name, timeout)
            self._thread = None

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
