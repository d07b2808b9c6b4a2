"""The Votes dock: create a poll, open and close it, watch live bars, break a tie.

A poll has a question, 2-5 options, 10-600 s, a tie rule (the default option, or the director's
pick) and an optional branch binding id (the rundown queues the winning branch). Poll events come
from the interaction service on its thread; ``PollBridge`` re-emits them as Qt signals (queued to
the UI thread). Every text is plain: labels use ``Qt.PlainText`` and bars a plain format string.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.interaction.polls import (
    MAX_BINDING,
    MAX_DURATION_S,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_DURATION_S,
    MIN_OPTIONS,
    PollClosed,
    PollUpdated,
)
from studio.interaction.service import InteractionService
from widgets.i18n import bind, tr

TIE_RULES = (("default", "Default option wins"), ("director", "Director picks"))
SOURCE_NAMES = {"hub": "Viewer page", "bilibili": "Bilibili", "douyin": "Douyin"}


def source_breakdown(update: PollUpdated) -> str:
    """One line per source: "Bilibili: 40 (买 10 · 不买 30)"; empty before the first vote."""
    lines = []
    for source, counts in update.by_source:
        per_option = " · ".join(f"{o} {c}" for o, c in zip(update.options, counts, strict=False))
        lines.append(f"{tr(SOURCE_NAMES.get(source, source))}: {sum(counts)} ({per_option})")
    return "\n".join(lines)
STATES = {"draft": "Draft", "open": "Open", "needs_pick": "Tie: pick the winner", "closed": "Closed"}


def _plain_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class PollBridge(QObject):
    updated = Signal(object)  # PollUpdated
    closed = Signal(object)  # PollClosed

    def __init__(self, service: InteractionService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._disconnects: list[Callable[[], None]] = [
            service.poll_updated.connect(self.updated.emit),
            service.poll_closed.connect(self.closed.emit),
        ]

    def close(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()


class VotesDock(QWidget):
    def __init__(self, service: InteractionService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service

        # ---- the form ----
        self.question = QLineEdit(self)
        self.question.setMaxLength(MAX_QUESTION)
        bind(self.question, "setPlaceholderText", "Question for the viewers")
        self.option_edits: list[QLineEdit] = []
        for i in range(MAX_OPTIONS):
            edit = QLineEdit(self)
            edit.setMaxLength(MAX_OPTION)
            bind(edit, "setPlaceholderText", "Option (required)" if i < MIN_OPTIONS else "Option (optional)")
            edit.textChanged.connect(lambda _t: self._refresh_default_choices())
            self.option_edits.append(edit)
        self.duration = QSpinBox(self)
        self.duration.setRange(int(MIN_DURATION_S), int(MAX_DURATION_S))
        self.duration.setValue(60)
        self.duration.setSuffix(" s")
        self.tie_rule = QComboBox(self)
        for key, rule in TIE_RULES:
            self.tie_rule.addItem(tr(rule), key)
        self.default_option = QComboBox(self)
        self.branch = QLineEdit(self)
        self.branch.setMaxLength(MAX_BINDING)
        bind(self.branch, "setPlaceholderText", "Branch point id (optional)")
        form = QFormLayout()
        form.addRow(tr("Question"), self.question)
        for i, edit in enumerate(self.option_edits):
            form.addRow(f"{tr('Option')} {i + 1}", edit)
        form.addRow(tr("Duration"), self.duration)
        form.addRow(tr("On a tie"), self.tie_rule)
        form.addRow(tr("Default option"), self.default_option)
        form.addRow(tr("Branch binding"), self.branch)

        self.open_button = QPushButton(self)
        bind(self.open_button, "setText", "Open poll")
        self.open_button.clicked.connect(lambda _=False: self.open_poll())
        self.close_button = QPushButton(self)
        bind(self.close_button, "setText", "Close now")
        self.close_button.clicked.connect(lambda _=False: self.close_poll())
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)

        # ---- live results ----
        self.state_label = _plain_label(self)
        self.question_label = _plain_label(self)
        self.question_label.setWordWrap(True)
        grid = QGridLayout()
        self.option_labels: list[QLabel] = []
        self.bars: list[QProgressBar] = []
        self.pick_buttons: list[QPushButton] = []
        for i in range(MAX_OPTIONS):
            label = _plain_label(self)
            bar = QProgressBar(self)
            bar.setRange(0, 1000)  # permille: smooth bars
            bar.setTextVisible(True)
            pick = QPushButton(self)
            bind(pick, "setText", "Pick")
            pick.clicked.connect(lambda _=False, option=i: self.pick(option))
            grid.addWidget(label, i, 0)
            grid.addWidget(bar, i, 1)
            grid.addWidget(pick, i, 2)
            self.option_labels.append(label)
            self.bars.append(bar)
            self.pick_buttons.append(pick)
        grid.setColumnStretch(1, 1)
        self.sources = _plain_label(self)  # the tally by source: viewer page, Bilibili, Douyin
        self.sources.setObjectName("voteSources")
        self.sources.setWordWrap(True)
        self.status = _plain_label(self)
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.state_label)
        layout.addWidget(self.question_label)
        layout.addLayout(grid)
        layout.addWidget(self.sources)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self._refresh_default_choices()
        self.bridge = PollBridge(service, self)
        self.bridge.updated.connect(self.show_update)
        self.bridge.closed.connect(self.show_result)
        self._last: PollUpdated | None = None
        poll = service.poll
        if poll is not None:
            self.show_update(poll.snapshot())
        else:
            self._show_idle()

    def close_bridge(self) -> None:
        """Stop listening to the service (the owner calls this when the dock goes away)."""
        self.bridge.close()

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self.bridge.close()
        super().closeEvent(event)

    # ---- form ----

    def options(self) -> list[str]:
        return [e.text().strip() for e in self.option_edits if e.text().strip()]

    def _refresh_default_choices(self) -> None:
        current = self.default_option.currentIndex()
        self.default_option.blockSignals(True)
        self.default_option.clear()
        for i, option in enumerate(self.options()):
            self.default_option.addItem(f"{i + 1}. {option}", i)
        self.default_option.setCurrentIndex(max(0, min(current, self.default_option.count() - 1)))
        self.default_option.blockSignals(False)

    def open_poll(self) -> bool:
        """Open a poll from the form; a problem is shown in the dock (False), never raised."""
        options = self.options()
        if len(options) < MIN_OPTIONS:
            self.status.setText(tr("A poll needs at least two options"))
            return False
        default = self.default_option.currentData()
        try:
            self.service.open_poll(
                self.question.text(),
                options,
                float(self.duration.value()),
                tie_rule=self.tie_rule.currentData(),
                default_option=int(default) if default is not None else 0,
                branch_binding=self.branch.text().strip() or None,
            )
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        self.status.setText("")
        return True

    def close_poll(self) -> None:
        try:
            self.service.close_poll()
        except ValueError as exc:
            self.status.setText(str(exc))

    def pick(self, option: int) -> None:
        try:
            self.service.pick(option)
        except ValueError as exc:
            self.status.setText(str(exc))

    # ---- results (UI thread) ----

    def _show_idle(self) -> None:
        self.state_label.setText(tr("No poll"))
        self.question_label.setText("")
        self.sources.setText("")
        for label, bar, pick in zip(self.option_labels, self.bars, self.pick_buttons, strict=True):
            label.hide()
            bar.hide()
            pick.hide()
        self.open_button.setEnabled(True)
        self.close_button.setEnabled(False)

    def show_update(self, update: PollUpdated) -> None:
        self._last = update
        poll = self.service.poll
        tied = poll.tied_options if poll is not None and poll.id == update.poll else ()
        remaining = f" · {int(update.remaining + 0.999)} s" if update.state == "open" else ""
        self.state_label.setText(f"{tr(STATES.get(update.state, update.state))}{remaining} · "
                                 f"{update.total} {tr('votes')}")
        self.question_label.setText(update.question)
        self.sources.setText(source_breakdown(update))
        for i, (label, bar, pick) in enumerate(zip(self.option_labels, self.bars, self.pick_buttons, strict=True)):
            if i >= len(update.options):
                label.hide()
                bar.hide()
                pick.hide()
                continue
            label.setText(update.options[i])
            if update.state != "closed":
                font = label.font()
                font.setBold(False)
                label.setFont(font)
            bar.setValue(round(update.percentages[i] * 10))
            bar.setFormat(f"{update.percentages[i]:.1f} % ({update.counts[i]})")
            label.show()
            bar.show()
            pick.setVisible(update.state == "needs_pick" and i in tied)
        live = update.state in ("open", "needs_pick")
        self.open_button.setEnabled(not live)
        self.close_button.setEnabled(update.state == "open")
        if update.state == "needs_pick":
            self.status.setText(tr("Tie: pick the winning option"))

    def show_result(self, result: PollClosed) -> None:
        for pick in self.pick_buttons:
            pick.hide()
        how = {"votes": "by votes", "default": "tie, default option", "director": "director's pick",
               "no_votes": "no votes, default option"}.get(result.decided_by, result.decided_by)
        branch = f" → {result.branch_binding}" if result.branch_binding else ""
        self.status.setText(f"{tr('Winner')}: {result.winner_option} ({tr(how)}){branch}")
        for i, label in enumerate(self.option_labels[: len(result.options)]):
            font = label.font()
            font.setBold(i == result.winner)
            label.setFont(font)
