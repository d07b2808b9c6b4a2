"""What the director is editing: the scene shown in the editable view and the selected item.

Item edits go to the engine as ``UpdateItem`` commands, applied at the next tick. Until the model
catches up, the edits just sent are kept as *pending* and laid over the model's values, so drags
and nudges build on what the user already did rather than on a frame-old state.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from scenes.compositor import ItemSnapshot, Placement, placement
from scenes.model import SceneItem
from studio import commands as cmd
from studio.engine import Studio

PENDING_TTL_S = 1.0  # a pending edit the model never confirmed (failed command) is dropped after this


class EditorState(QObject):
    scene_changed = Signal(str)  # edited scene ("" = none)
    selection_changed = Signal(str)  # selected item id ("" = none)

    def __init__(self, studio: Studio, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self._scene: str | None = None
        self._selected: str | None = None
        self._pending: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    # ---- edited scene and selection --------------------------------------------------------------
    @property
    def scene(self) -> str | None:
        return self._scene

    @property
    def selected(self) -> str | None:
        return self._selected

    def set_scene(self, name: str | None) -> None:
        if name == self._scene:
            return
        self._scene = name
        self._selected = None
        self.scene_changed.emit(name or "")
        self.selection_changed.emit("")

    def select(self, item_id: str | None) -> None:
        if item_id == self._selected:
            return
        self._selected = item_id
        self.selection_changed.emit(item_id or "")

    def selected_item(self) -> SceneItem | None:
        col = self.studio.collection
        if self._scene is None or self._selected is None:
            return None
        with col.lock:
            if not col.has_scene(self._scene):
                return None
            for it in col.scene(self._scene).items:
                if it.id == self._selected:
                    return it
        return None

    # ---- edits -------------------------------------------------------------------------------------
    def update_item(self, item_id: str, gesture: str | None = None, **fields: Any) -> None:
        """Queue an item edit for the next tick and remember it until the model shows it.
        Edits sent with one ``gesture`` (a drag) are one undo step."""
        self.update_items({item_id: fields}, gesture)

    def update_items(self, changes: dict[str, dict[str, Any]], gesture: str | None = None,
                     label: str = "") -> None:
        """Several items at once (a group moved together): one command, one undo step."""
        if self._scene is None or not changes:
            return
        edits = []
        for item_id, fields in changes.items():
            key = (self._scene, item_id)
            old = self._fresh_pending(key)
            self._pending[key] = (time.monotonic(), {**old, **fields})
            edits.append(cmd.UpdateItem(self._scene, item_id, dict(fields)))
        if gesture is None and len(edits) == 1 and not label:
            self.studio.submit(edits[0])
        else:
            self.studio.submit(cmd.EditBatch(tuple(edits), gesture, label))

    def forget_pending(self) -> None:
        """Undo/redo replace what was just sent: show the model as it comes back, not old edits."""
        self._pending.clear()

    def _fresh_pending(self, key: tuple[str, str]) -> dict[str, Any]:
        entry = self._pending.get(key)
        if entry is None:
            return {}
        at, fields = entry
        if time.monotonic() - at > PENDING_TTL_S:
            del self._pending[key]
            return {}
        return fields

    def state(self, item: SceneItem) -> dict[str, Any]:
        """The item's fields as the user last set them (model values + unconfirmed edits)."""
        values = item.state()
        key = (self._scene or "", item.id)
        pending = self._fresh_pending(key)
        if pending:
            if all(values.get(k) == _normal(v) for k, v in pending.items()):
                self._pending.pop(key, None)  # the model caught up
            else:
                values.update(pending)
        return values

    def snapshot(self, item: SceneItem) -> ItemSnapshot:
        s = self.state(item)
        return ItemSnapshot(item.id, item.source, s["x"], s["y"], s["scale_x"], s["scale_y"],
                            s["rotation"], tuple(s["crop"]), s["opacity"])  # type: ignore[arg-type]

    def source_size(self, name: str) -> tuple[int, int]:
        """Native size of a source: the live instance's, else its settings', else the canvas."""
        source = self.studio.sources.get(name)
        if source is not None:
            try:
                w, h = source.size
                if w > 0 and h > 0:
                    return int(w), int(h)
            except Exception:  # a source mid-update may not know yet; fall back below
                pass
        cfg = self.studio.collection.sources.get(name)
        if cfg is not None:
            sw, sh = cfg.settings.get("width"), cfg.settings.get("height")
            if isinstance(sw, int) and isinstance(sh, int) and sw > 0 and sh > 0:
                return sw, sh
        return self.studio.width, self.studio.height

    def placements(self) -> list[tuple[SceneItem, ItemSnapshot, Placement]]:
        """Visible items of the edited scene, bottom first, with their boxes on the canvas."""
        col = self.studio.collection
        if self._scene is None:
            return []
        with col.lock:
            if not col.has_scene(self._scene):
                return []
            items = [it for it in col.scene(self._scene).items if it.visible]
        out = []
        for it in items:
            snap = self.snapshot(it)
            out.append((it, snap, placement(snap, self.source_size(it.source))))
        return out


def _normal(value: Any) -> Any:
    # the model stores floats, tuples and rotation mod 360: compare like with like
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
