"""Configurable hotkeys: application-wide QShortcuts that never steal typing from text fields.

Defaults: 1-9 put scene N in preview (switch to it outside studio mode), Space / Enter run the
transition, C is a quick cut and F a quick fade. Bindings are saved in the UI settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QKeySequenceEdit,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)


@dataclass(frozen=True)
class HotkeyAction:
    id: str
    label: str  # English; shown through tr()
    defaults: tuple[str, ...]
    number: int = 0  # for scene actions: which scene (1-based)


ACTIONS: tuple[HotkeyAction, ...] = (
    *(HotkeyAction(f"scene.{n}", "Scene {n} to preview", (str(n),), n) for n in range(1, 10)),
    HotkeyAction("transition", "Transition", ("Space", "Return")),
    HotkeyAction("quick_cut", "Quick cut", ("C",)),
    HotkeyAction("quick_fade", "Quick fade", ("F",)),
)
ACTION_IDS = {a.id for a in ACTIONS}
_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox, QKeySequenceEdit)
# looked up once: the application-wide filter sees every event (paints, timers) and PySide's enum
# attribute lookups cost more than the comparison
_SHORTCUT_OVERRIDE = QEvent.Type.ShortcutOverride


def default_bindings() -> dict[str, list[str]]:
    return {a.id: list(a.defaults) for a in ACTIONS}


def normalize(bindings: dict[str, list[str]]) -> dict[str, list[str]]:
    """Defaults overlaid with ``bindings``; sequences in Qt's portable text; unknown actions dropped."""
    out = default_bindings()
    for action, keys in bindings.items():
        if action in ACTION_IDS:
            out[action] = [QKeySequence(k).toString(QKeySequence.SequenceFormat.PortableText)
                           for k in keys if k and not QKeySequence(k).isEmpty()]
    return out


def conflicts(bindings: dict[str, list[str]]) -> dict[str, list[str]]:
    """Keys bound to more than one action: key -> actions."""
    seen: dict[str, list[str]] = {}
    for action, keys in bindings.items():
        for key in keys:
            seen.setdefault(key, []).append(action)
    return {k: v for k, v in seen.items() if len(v) > 1}


def is_text_input(widget: QWidget | None) -> bool:
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return isinstance(widget, _TEXT_INPUTS)


class HotkeyManager(QObject):
    """Owns the shortcuts; ``triggered(action_id)`` fires on the UI thread."""

    triggered = Signal(str)

    def __init__(self, window: QWidget, bindings: dict[str, list[str]]) -> None:
        super().__init__(window)
        self._window = window
        self._shortcuts: list[QShortcut] = []
        self._bindings: dict[str, list[str]] = {}
        self._enabled = True
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.set_bindings(bindings)

    def bindings(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._bindings.items()}

    def set_bindings(self, bindings: dict[str, list[str]]) -> None:
        for shortcut in self._shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._shortcuts.clear()
        self._bindings = normalize(bindings)
        for action, keys in self._bindings.items():
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self._window)
                shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
                shortcut.setAutoRepeat(False)  # holding a key must not fire repeated transitions
                shortcut.setEnabled(self._enabled)
                shortcut.activated.connect(lambda a=action: self.triggered.emit(a))
                self._shortcuts.append(shortcut)

    def set_enabled(self, enabled: bool) -> None:
        """Off while a dialog edits hotkeys, so pressing a key records it instead of acting."""
        self._enabled = enabled
        for shortcut in self._shortcuts:
            shortcut.setEnabled(enabled)

    def close(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        # A text field that has focus claims plain keys before any shortcut sees them.
        if event.type() == _SHORTCUT_OVERRIDE and isinstance(event, QKeyEvent) \
                and isinstance(obj, QWidget) and is_text_input(obj):
            mods = event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                                        | Qt.KeyboardModifier.MetaModifier)
            if mods == Qt.KeyboardModifier.NoModifier:
                event.accept()
                return True
        return False
