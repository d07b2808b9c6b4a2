"""The product-question panel under the danmaku list: the assistant's suggested answer next to each
product question, one click announces it to every viewer (``InteractionService.announce``, the
host's announcement path), an optional auto-reply (off by default, rate-limited:
studio.catalogue.autoreply) and the questions it could not answer, for the host.

The assistant runs on the UI thread (a fraction of a millisecond a message); only jieba's
dictionary load happens on a worker thread (``FaqAssistant.start_loading``). Everything shown is
plain text: table items never interpret markup, tooltips go through ``widgets.plain_text``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.catalogue.assistant import FaqAssistant, Suggestion, Unanswered
from studio.catalogue.autoreply import AutoReply
from studio.catalogue.model import CatalogueChanged
from studio.interaction.moderation import DanmakuEvent
from studio.interaction.service import InteractionService
from widgets.i18n import bind, on_change, tr
from widgets.plain_text import tooltip

MAX_SUGGESTIONS = 50
MAX_PER_BATCH = 100  # messages of one network read matched (about 0.05 ms each)
COLUMNS = ("Question", "Suggested answer", "")


class FaqBridge(QObject):
    """The service's and assistant's events as Qt signals (queued to the UI thread)."""

    danmaku = Signal(object)  # tuple[DanmakuEvent, ...]
    unanswered = Signal(object)  # tuple[Unanswered, ...]
    ready = Signal(bool)
    catalogue = Signal(object)  # CatalogueChanged

    def __init__(self, service: InteractionService, assistant: FaqAssistant, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # one queued Qt event per network read when the service batches danmaku (busy rooms)
        batch = getattr(service, "danmaku_batch", None)
        self._disconnects: list[Callable[[], None]] = [
            batch.connect(self.danmaku.emit) if batch is not None
            else service.danmaku.connect(lambda event: self.danmaku.emit((event,))),
            assistant.unanswered_changed.connect(self.unanswered.emit),
            assistant.ready_changed.connect(self.ready.emit),
            assistant.catalogue.changed.connect(self.catalogue.emit),
        ]

    def close(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()


class FaqPanel(QWidget):
    def __init__(self, service: InteractionService, assistant: FaqAssistant, parent: QWidget | None = None,
                 *, auto_reply: AutoReply | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("faqPanel")
        self.service = service
        self.assistant = assistant
        self.auto_reply = auto_reply or AutoReply(self._announce_text)
        self.suggestions: list[Suggestion] = []  # row order of the table
        self.skipped = 0  # messages of bursts not matched

        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        bind(self.title, "setText", "Product questions (assistant loading…)")
        self.on_screen = QComboBox(self)  # which product questions naming none are about
        self.on_screen.setObjectName("faqOnScreen")
        self.on_screen.currentIndexChanged.connect(self._on_screen_changed)
        self.table = QTableWidget(0, len(COLUMNS), self)
        on_change(self, lambda: self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS]))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.auto = QCheckBox(self)
        self.auto.setObjectName("faqAutoReply")
        bind(self.auto, "setText", "Auto-reply")
        self.auto.setChecked(False)
        self.auto.toggled.connect(self._on_auto)
        self.rate = QSpinBox(self)
        self.rate.setRange(1, 30)
        self.rate.setValue(max(1, round(self.auto_reply.per_minute)))
        bind(self.rate, "setSuffix", " / min")
        self.rate.valueChanged.connect(self._on_rate)
        self.unanswered = QListWidget(self)
        self.unanswered.setObjectName("faqUnanswered")
        self.unanswered.setMaximumHeight(90)
        self.clear_button = QPushButton(self)
        bind(self.clear_button, "setText", "Clear")
        self.clear_button.clicked.connect(lambda _=False: self.assistant.clear_unanswered())
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        unanswered_label = QLabel(self)
        unanswered_label.setTextFormat(Qt.TextFormat.PlainText)
        bind(unanswered_label, "setText", "Questions without an answer")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.on_screen)
        top.addWidget(self.auto)
        top.addWidget(self.rate)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(unanswered_label, 1)
        row.addWidget(self.clear_button)
        layout.addLayout(row)
        layout.addWidget(self.unanswered)
        layout.addWidget(self.status)

        self.bridge = FaqBridge(service, assistant, self)
        self.bridge.danmaku.connect(self.on_batch)
        self.bridge.unanswered.connect(self._show_unanswered)
        self.bridge.ready.connect(self._on_ready)
        self.bridge.catalogue.connect(lambda _c: self._fill_products())
        self._fill_products()
        if assistant.ready:
            self._on_ready(True)
        else:
            assistant.start_loading()

    def close_bridge(self) -> None:
        self.bridge.close()

    # ---- products on screen ----

    def _fill_products(self, _change: CatalogueChanged | None = None) -> None:
        current = self.assistant.on_screen
        self.on_screen.blockSignals(True)
        self.on_screen.clear()
        self.on_screen.addItem(tr("Any product"), "")
        for p in self.assistant.catalogue.products:
            self.on_screen.addItem(p.name, p.id)
        index = self.on_screen.findData(current or "")
        self.on_screen.setCurrentIndex(max(0, index))
        self.on_screen.blockSignals(False)
        self._on_screen_changed()

    def _on_screen_changed(self, _index: int = 0) -> None:
        pid = self.on_screen.currentData()
        self.assistant.on_screen = pid if pid and self.assistant.catalogue.get(pid) else None

    # ---- suggestions ----

    def _on_ready(self, _ok: bool) -> None:
        bind(self.title, "setText", "Product questions")

    def on_batch(self, events: tuple[DanmakuEvent, ...]) -> None:
        # a platform burst (thousands a second) must not hold the UI thread: the first
        # MAX_PER_BATCH of a read are matched, the rest counted (the dock samples them too)
        for event in events[:MAX_PER_BATCH]:
            self.on_danmaku(event)
        self.skipped += max(0, len(events) - MAX_PER_BATCH)

    def on_danmaku(self, event: DanmakuEvent) -> Suggestion | None:
        """Suggest an answer for one message (flagged messages are not answered)."""
        if event.flags:
            return None
        suggestion = self.assistant.suggest(event.message.text)
        if suggestion is None:
            return None
        self._add(suggestion, event.message.display_name)
        if self.auto_reply.offer(suggestion):
            self.status.setText(tr("Auto-replied: {answer}").format(answer=suggestion.answer))
        return suggestion

    def _add(self, s: Suggestion, who: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        question = QTableWidgetItem(f"{who}: {s.message}")
        question.setToolTip(tooltip(f"{who}: {s.message}"))
        answer = QTableWidgetItem(s.answer)
        answer.setToolTip(tooltip(f"{s.product_name} · {s.question}\n{s.answer}\n(score {s.score:g})"))
        self.table.setItem(row, 0, question)
        self.table.setItem(row, 1, answer)
        button = QPushButton(tr("Announce"), self.table)
        button.clicked.connect(lambda _=False, s=s: self.announce(s))
        self.table.setCellWidget(row, 2, button)
        self.suggestions.append(s)
        overflow = self.table.rowCount() - MAX_SUGGESTIONS
        if overflow > 0:
            for _ in range(overflow):
                self.table.removeRow(0)
            del self.suggestions[:overflow]
        self.table.scrollToBottom()

    def announce_button(self, row: int) -> QPushButton:
        widget = self.table.cellWidget(row, 2)
        assert isinstance(widget, QPushButton)
        return widget

    def announce(self, suggestion: Suggestion) -> None:
        self._announce_text(suggestion.answer)

    def _announce_text(self, text: str) -> None:
        try:
            self.service.announce(text)
        except ValueError as exc:  # too long for viewers: say so, never crash
            self.status.setText(str(exc))
            return
        self.status.setText(tr("Announced: {answer}").format(answer=text))

    # ---- auto-reply and unanswered questions ----

    def _on_auto(self, on: bool) -> None:
        self.auto_reply.enabled = on

    def _on_rate(self, per_minute: int) -> None:
        self.auto_reply.per_minute = per_minute

    def _show_unanswered(self, items: tuple[Unanswered, ...]) -> None:
        self.unanswered.clear()
        for u in reversed(items):  # newest first
            self.unanswered.addItem(f"{u.text}  ×{u.count}" if u.count > 1 else u.text)
