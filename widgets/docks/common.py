"""Small helpers shared by the docks: a tool button row and where a dropped row lands."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QToolButton, QWidget

from widgets.i18n import bind
from widgets.theme import icon


def tool_button(parent: QWidget, icon_name: str, tip: str, slot: Callable[[], object]) -> QToolButton:
    button = QToolButton(parent)
    button.setIcon(icon(icon_name))
    button.setAutoRaise(True)
    bind(button, "setToolTip", tip)
    button.clicked.connect(lambda _=False: slot())
    return button


def button_row(parent: QWidget, buttons: list[QToolButton]) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(2)
    for b in buttons:
        row.addWidget(b)
    row.addStretch(1)
    return row


def drop_row(view: QAbstractItemView, event: QDropEvent) -> int:
    """The row a drop lands in front of: the row under the pointer, or the next one when the pointer
    is on that row's lower half; the row count when it is below the last row."""
    pos = event.position().toPoint()
    index = view.indexAt(pos)
    rows = view.model().rowCount()
    if not index.isValid():
        return rows
    rect = view.visualRect(index)
    return index.row() + (1 if pos.y() >= rect.center().y() else 0)
