"""Binds the user's destinations (``destination_store``) to the running show and to the rows in the
controls and stats docks: Start/Stop each, Start all/Stop all. Starting and stopping run off the UI
thread (stopping joins a writer thread and may wait on a server's goodbye)."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

from studio.outputs.destination_store import load, stored_key
from studio.outputs.destinations import Destination, DestinationKind, DestinationStats
from studio.outputs.whip_events import OutputStatus
from studio.secrets import redact
from studio.show import Show
from widgets.destination_rows import DestinationRows

log = logging.getLogger(__name__)


class DestinationBinding(QObject):
    problem = Signal(str)  # a destination that could not start, in words (status bar)

    def __init__(self, show: Show, controls: DestinationRows, stats: DestinationRows,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.show = show
        self.controls = controls
        self.stats = stats
        self._workers: list[threading.Thread] = []
        events = show.pipeline.destinations.events
        controls.bind_events(events)
        stats.bind_events(events)
        controls.start_requested.connect(self.start)
        controls.stop_requested.connect(self.stop)
        controls.start_all_requested.connect(self.start_all)
        controls.stop_all_requested.connect(self.stop_all)
        self.reload()

    def reload(self) -> None:
        """Show a row for each configured destination (stopped until started)."""
        try:
            self.destinations = {d.id: d for d in load()}
        except (ValueError, OSError) as exc:
            self.destinations = {}
            self.problem.emit(redact(f"destinations: {exc}"))
        for d in self.destinations.values():
            if d.id not in self.show.pipeline.destinations.ids:
                self.controls.show_stats(DestinationStats(d.id, d.name, d.kind or DestinationKind.WHIP,
                                                          OutputStatus.STOPPED))

    def _run(self, name: str, work: object) -> None:
        thread = threading.Thread(target=work, name=name, daemon=True)  # type: ignore[arg-type]
        self._workers = [t for t in self._workers if t.is_alive()] + [thread]
        thread.start()

    def start(self, dest_id: str) -> None:
        dest = self.destinations.get(dest_id)
        if dest is not None:
            self._run("dest-start", lambda: self._start(dest))

    def _start(self, dest: Destination) -> None:
        key = stored_key(dest)
        try:
            self.show.pipeline.destinations.start(dest, key, key if dest.kind == DestinationKind.SRT else None)
        except (ValueError, RuntimeError, OSError) as exc:
            self.problem.emit(redact(f"{dest.name}: {exc}"))

    def stop(self, dest_id: str) -> None:
        self._run("dest-stop", lambda: self.show.pipeline.destinations.stop(dest_id))

    def start_all(self) -> None:
        for dest in self.destinations.values():
            if dest.enabled and dest.id not in self.show.pipeline.destinations.ids:
                self.start(dest.id)

    def stop_all(self) -> None:
        self._run("dest-stop-all", self.show.pipeline.destinations.stop_all)

    def close(self) -> None:
        self.controls.unbind()
        self.stats.unbind()
        for thread in self._workers:
            thread.join(20)
