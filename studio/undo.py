"""The edit history: undo and redo for scene edits, bounded, with gestures merged into one step.

Owned by the engine and used only on the clock thread, where every edit command is applied
(DESIGN.md, "State flow"): ``perform`` applies an edit and records what takes it back, ``undo`` and
``redo`` apply those. A step that can no longer be applied (the scene it names is gone because
something edited the collection outside the history) is dropped with a clear error.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from scenes.events import Signal
from scenes.model import SceneCollection
from studio import commands as cmd
from studio.scene_edits import Applied, apply_edit, coalesce

DEFAULT_DEPTH = 100  # steps kept; the oldest falls off (OBS keeps 5000 small steps; ours are whole gestures)


@dataclass(frozen=True)
class Step:
    forward: cmd.EditCommand
    inverse: cmd.EditCommand
    gesture: str | None
    label: str


@dataclass(frozen=True)
class HistoryState:
    """What the Edit menu shows: whether there is something to undo/redo and what it is."""

    can_undo: bool
    can_redo: bool
    undo_label: str
    redo_label: str


class EditHistory:
    def __init__(self, collection: SceneCollection, depth: int = DEFAULT_DEPTH) -> None:
        if depth < 1:
            raise ValueError("the edit history needs room for at least one step")
        self.collection = collection
        self._undo: deque[Step] = deque(maxlen=depth)
        self._redo: list[Step] = []
        self._open_gesture: str | None = None  # the gesture the top step may still grow with
        self.changed: Signal[HistoryState] = Signal()

    @property
    def depth(self) -> int:
        assert self._undo.maxlen is not None
        return self._undo.maxlen

    def state(self) -> HistoryState:
        return HistoryState(bool(self._undo), bool(self._redo),
                            self._undo[-1].label if self._undo else "",
                            self._redo[-1].label if self._redo else "")

    def perform(self, command: cmd.EditCommand) -> Applied | None:
        """Apply an edit and record its inverse; a no-op edit (or an unrecorded batch) records nothing."""
        applied = apply_edit(self.collection, command)
        if applied is None or (isinstance(command, cmd.EditBatch) and not command.record):
            return applied
        gesture = command.gesture if isinstance(command, cmd.EditBatch) else None
        label = label_of(command)
        top = self._undo[-1] if self._undo else None
        if gesture is not None and top is not None and top.gesture == gesture and self._open_gesture == gesture:
            # the same drag again: one step from where it started to where it is now
            merged = Step(cmd.EditBatch(coalesce([top.forward, applied.forward]), gesture, label),
                          cmd.EditBatch(coalesce([applied.inverse, top.inverse]), gesture, label),
                          gesture, top.label)
            self._undo[-1] = merged
        else:
            self._undo.append(Step(applied.forward, applied.inverse, gesture, label))
        self._open_gesture = gesture
        self._redo.clear()
        self.changed.emit(self.state())
        return applied

    def undo(self) -> bool:
        """Take back the last step; False when there is none."""
        if not self._undo:
            return False
        step = self._undo.pop()
        self._open_gesture = None
        try:
            apply_edit(self.collection, step.inverse)
        except ValueError as exc:
            self.changed.emit(self.state())
            raise ValueError(f"cannot undo {step.label or 'the last edit'}: {exc}") from None
        self._redo.append(step)
        self.changed.emit(self.state())
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        step = self._redo.pop()
        self._open_gesture = None
        try:
            apply_edit(self.collection, step.forward)
        except ValueError as exc:
            self.changed.emit(self.state())
            raise ValueError(f"cannot redo {step.label or 'the edit'}: {exc}") from None
        self._undo.append(step)
        self.changed.emit(self.state())
        return True

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._open_gesture = None
        self.changed.emit(self.state())


_LABELS: dict[type, str] = {
    cmd.UpdateItem: "Transform", cmd.UpdateSource: "Properties", cmd.SetSourceFilters: "Filters",
    cmd.AddScene: "Add Scene", cmd.RemoveScene: "Delete Scene", cmd.RenameScene: "Rename Scene",
    cmd.MoveScene: "Reorder Scenes", cmd.DuplicateScene: "Duplicate Scene", cmd.AddSource: "Add Source",
    cmd.RemoveSource: "Remove Source", cmd.AddItem: "Add Source", cmd.RemoveItem: "Remove Source",
    cmd.MoveItem: "Reorder Sources", cmd.EditBatch: "Edit",
}


def label_of(command: cmd.EditCommand) -> str:
    """A short English name for the step (the UI translates it)."""
    if isinstance(command, cmd.EditBatch):
        if command.label:
            return command.label
        if len(command.commands) == 1:
            return label_of(command.commands[0])
    if isinstance(command, cmd.UpdateItem) and set(command.fields) <= {"visible"}:
        return "Visibility"
    if isinstance(command, cmd.UpdateItem) and set(command.fields) <= {"locked"}:
        return "Lock"
    return _LABELS.get(type(command), "Edit")
