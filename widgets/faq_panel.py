"""The product-question panel under the danmaku list: the assistant's suggested answer next to each
product question, one click announces it to every viewer (``InteractionService.announce``, the
host's announcement path), an optional auto-reply (off by default, rate-limited:
studio.catalogue.autoreply) and the questions it could not answer, for the host.

Matching runs off the UI thread: each network read's danmaku go from the service's thread straight
to a ``studio.catalogue.question_queue.QuestionQueue`` (its ``faq-match`` thread; questions first,
sampled when behind) and only suggestions reach the UI thread. jieba's dictionary loads on a worker
thread too (``FaqAssistant.start_loading``). Everything shown is plain text: table items never
interpret markup, tooltips go through ``widgets.plain_text``.
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
from studio.catalogue.question_queue import Asked, QuestionQueue, Suggested
from studio.interaction.moderation import DanmakuEvent
from studio.interaction.service import InteractionService
from widgets.i18n import bind, on_change, tr
from widgets.plain_text import tooltip

MAX_SUGGESTIONS = 50
COLUMNS = ("Question", "Suggested answer", "")


def offer_batch(questions: QuestionQueue, events: tuple[DanmakuEvent, ...]) -> None:
    """One read's danmaku to the matcher, on the service's thread (flagged ones are never answered)."""
    questions.offer([Asked(e.message.text, e.message.display_name) for e in events if not e.flags])


class FaqBridge(QObject):
    """The service's danmaku to the question queue; the matcher's and assistant's events as Qt
    signals (queued to the UI thread)."""

    suggested = Signal(object)  # Suggested
    unanswered = Signal(object)  # tuple[Unanswered, ...]
    ready = Signal(bool)
    catalogue = Signal(object)  # CatalogueChanged

    def __init__(self, service: InteractionService, assistant: FaqAssistant, questions: QuestionQueue,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.questions = questions
        batch = getattr(service, "danmaku_batch", None)
        self._disconnects: list[Callable[[], None]] = [
            batch.connect(lambda events: offer_batch(questions, events)) if batch is not None
            else service.danmaku.connect(lambda event: offer_batch(questions, (event,))),
            questions.suggested.connect(self.suggested.emit),
            assistant.unanswered_changed.connect(self.unanswered.emit),
            assistant.ready_changed.connect(self.ready.emit),
            assistant.catalogue.changed.connect(self.catalogue.emit),
        ]

    def close(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()
        self.questions.close()


class FaqPanel(QWidget):
    def __init__(self, service: InteractionService, assistant: FaqAssistant, parent: QWidget | None = None,
                 *, auto_reply: AutoReply | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("faqPanel")
        self.service = service
        self.assistant = assistant
        self.auto_reply = auto_reply or AutoReply(self._announce_text)
        self.suggestions: list[Suggestion] = []  # row order of the table
        self.questions = QuestionQueue(assistant)

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

        self.bridge = FaqBridge(service, assistant, self.questions, self)
        self.bridge.suggested.connect(self._on_suggested)
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

    @property
    def skipped(self) -> int:
        """Messages of bursts not matched (sampled out by the question queue)."""
        return self.questions.skipped

    def _on_suggested(self, suggested: Suggested) -> None:
        s = suggested.suggestion
        self._add(s, suggested.who)
        if self.auto_reply.offer(s):
            self.status.setText(tr("Auto-replied: {answer}").format(answer=s.answer))

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
