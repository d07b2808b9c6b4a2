"""The status bar's show strip: where viewers watch (selectable, with a Copy button) and the hub's state.

It lives in the status bar rather than a dock so the address stays in sight whatever the layout.
Texts are kept as functions so a language switch re-renders them.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from widgets.i18n import bind, on_change
from widgets.theme import repolish

Status = Callable[[], tuple[str, str]]  # -> (text, level: ok | warn | bad)


class ViewerLink(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 8, 0)
        row.setSpacing(4)
        self.label = QLabel(self)
        self.label.setObjectName("hint")
        bind(self.label, "setText", "Viewer page")
        self.url = QLineEdit(self)
        self.url.setReadOnly(True)  # selectable, not editable
        self.url.setFixedWidth(260)
        self.copy_button = QPushButton(self)
        bind(self.copy_button, "setText", "Copy")
        bind(self.copy_button, "setToolTip", "Copy the viewer page address")
        self.copy_button.clicked.connect(lambda _=False: self.copy())
        self.hub = QLabel(self)
        self.hub.setTextFormat(Qt.TextFormat.PlainText)
        self.hub.setProperty("level", "ok")
        for widget in (self.label, self.url, self.copy_button, self.hub):
            row.addWidget(widget)
        self._hub_status: Status | None = None
        self.set_url(None)
        on_change(self, self._render_hub)

    def set_url(self, url: str | None) -> None:
        self.url.setText(url or "")
        self.url.setToolTip(url or "")
        self.url.setCursorPosition(0)
        for widget in (self.label, self.url, self.copy_button):
            widget.setVisible(bool(url))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.url.text())

    def set_hub(self, status: Status | None) -> None:
        self._hub_status = status
        self._render_hub()

    def hub_text(self) -> str:
        return self.hub.text() if not self.hub.isHidden() else ""

    def _render_hub(self) -> None:
        text, level = self._hub_status() if self._hub_status is not None else ("", "ok")
        self.hub.setText(text)
        self.hub.setVisible(bool(text))
        if self.hub.property("level") != level:
            self.hub.setProperty("level", level)
            repolish(self.hub)
