"""The one place engine events cross to the UI thread: typed engine events become Qt signals.

Engine Signals fire on engine threads; Qt queues a signal emitted from another thread to the
receiver's thread, so widgets always handle these on the UI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from scenes.model import ModelEvent
from studio.engine import Studio


class EngineBridge(QObject):
    program_changed = Signal(object)  # studio.events.ProgramChanged
    transition = Signal(object)  # studio.events.TransitionState
    stats = Signal(object)  # studio.events.ClockStats
    command_failed = Signal(object)  # studio.events.CommandFailed
    source_problem = Signal(object)  # studio.events.SourceProblem
    model_changed = Signal(object)  # scenes.model.ModelEvent

    def __init__(self, studio: Studio, parent: QObject | None = None) -> None:
        super().__init__(parent)
        ev = studio.events
        self._disconnects = [
            ev.program_changed.connect(self.program_changed.emit),
            ev.transition.connect(self.transition.emit),
            ev.stats.connect(self.stats.emit),
            ev.command_failed.connect(self.command_failed.emit),
            ev.source_problem.connect(self.source_problem.emit),
            studio.collection.changed.connect(self._model),
        ]

    def _model(self, event: ModelEvent) -> None:
        self.model_changed.emit(event)

    def close(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()
