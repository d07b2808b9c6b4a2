"""The Danmaku dock: the live list of bullet comments with moderation.

Everything is plain text: the list is a ``QTableView`` over a ``QStandardItemModel`` (items never
interpret markup), labels are set to ``Qt.PlainText`` and tooltips go through
``widgets.plain_text.tooltip`` (Qt renders a tooltip as HTML when it looks like HTML), so a viewer's
``<b>x</b>`` shows exactly those characters. Flagged messages (banned words, blocked users, slow
mode) are listed, highlighted, and never reach the overlay. A block covers the viewer's identity
and address; blocked viewers are listed under the messages, with Unblock.

Engine events arrive on the interaction thread; ``DanmakuBridge`` re-emits them as Qt signals,
which Qt queues to the UI thread: danmaku as one batch per network read (a busy platform room sends
thousands a second; one queued event each would keep the UI thread busy). Rows are added per
batch, and in a burst a sample per ``FLUSH_MS`` (super chats and flagged messages always), with one
scroll and one summary update each. Moderation goes through the service's ``Moderator``.
"""

from __future__ import annotations

import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.interaction.messages import SuperChat
from studio.interaction.moderation import (
    BLOCKED_USER,
    BlockedViewer,
    DanmakuEvent,
    DanmakuPinned,
    DanmakuRemoved,
    ModerationChanged,
    Moderator,
)
from studio.interaction.service import InteractionService
from widgets.i18n import bind, on_change, tr
from widgets.plain_text import tooltip

if TYPE_CHECKING:
    from studio.catalogue.assistant import FaqAssistant
    from widgets.faq_panel import FaqPanel

ID_ROLE = Qt.ItemDataRole.UserRole + 1
USER_ROLE = Qt.ItemDataRole.UserRole + 2
FLAGS_ROLE = Qt.ItemDataRole.UserRole + 3
REMOVED_ROLE = Qt.ItemDataRole.UserRole + 4
ADDRESS_ROLE = Qt.ItemDataRole.UserRole + 5
PLATFORM_ROLE = Qt.ItemDataRole.UserRole + 6
COLUMNS = ("Time", "User", "Message", "Source")
SOURCE_COLUMN = 3
FILTERS = (("all", "All messages"), ("flagged", "Flagged only"), ("shown", "Shown on overlay"))
# where a message came from: the tag in the Source column and the choices of the source filter
PLATFORM_TAGS = {"hub": "Viewer page", "bilibili": "Bilibili", "douyin": "Douyin"}
SUPER_CHAT_BACKGROUND = QColor(150, 110, 20, 170)
# bursts (thousands of platform messages a second): beyond this many rows per flush, the dock lists
# a sample; super chats and flagged messages are always listed. Votes and gifts never depend on it.
SAMPLE_PER_FLUSH = 40
FLUSH_MS = 100
FLAG_NAMES = {"banned_word": "banned word", "blocked_user": "blocked user", "slow_mode": "slow mode"}
FLAGGED_BACKGROUND = QColor(120, 40, 40, 160)
PINNED_BACKGROUND = QColor(40, 90, 140, 160)


# one brush per hue, made once: a burst lists hundreds of rows a second
_HUES = [QBrush(QColor.fromHsv(hue, 150, 235)) for hue in range(360)]


def _user_brush(user: str) -> QBrush:
    """A stable, readable colour per user id (the same user always gets the same colour)."""
    return _HUES[zlib.crc32(user.encode("utf-8")) % 360]


def user_colour(user: str) -> QColor:
    return _user_brush(user).color()


def _row(*widgets: QWidget, stretch: bool = False) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget)
    if stretch:
        row.addStretch(1)
    return row


class DanmakuBridge(QObject):
    """Re-emits the service's and moderator's events as Qt signals (queued to the UI thread)."""

    danmaku = Signal(object)  # tuple[DanmakuEvent, ...]: one network read's
    removed = Signal(object)  # DanmakuRemoved
    pinned = Signal(object)  # DanmakuPinned
    moderation = Signal(object)  # ModerationChanged

    def __init__(self, service: InteractionService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        moderator = service.moderator
        self._disconnects: list[Callable[[], None]] = [
            service.danmaku_batch.connect(self.danmaku.emit),
            moderator.removed.connect(self.removed.emit),
            moderator.pinned_changed.connect(self.pinned.emit),
            moderator.changed.connect(self.moderation.emit),
        ]

    def close(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()


class DanmakuFilter(QSortFilterProxyModel):
    """Filters rows by kind (all / flagged / shown) and a case-insensitive search in user and text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._kind = "all"
        self._search = ""
        self._platform = ""  # "": every source

    def set_kind(self, kind: str) -> None:
        if kind not in dict(FILTERS):
            raise ValueError(f"danmaku filter {kind!r} is not one of {', '.join(dict(FILTERS))}")
        self.beginFilterChange()
        self._kind = kind
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_platform(self, platform: str) -> None:
        """Only messages from one platform ("hub", "bilibili", "douyin"...); "" for all."""
        self.beginFilterChange()
        self._platform = platform
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._search = text.casefold().strip()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def refilter(self) -> None:
        """Rows changed in a way the filter looks at (e.g. removed from the overlay)."""
        self.beginFilterChange()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        first = model.index(row, 0, parent)
        flags = first.data(FLAGS_ROLE) or ()
        if self._kind == "flagged" and not flags:
            return False
        if self._kind == "shown" and (flags or first.data(REMOVED_ROLE)):
            return False
        if self._platform and first.data(PLATFORM_ROLE) != self._platform:
            return False
        if self._search:
            user = str(model.index(row, 1, parent).data() or "")
            text = str(model.index(row, 2, parent).data() or "")
            return self._search in user.casefold() or self._search in text.casefold()
        return True


class BannedWordsDialog(QDialog):
    """Edit the banned-word list, one word per line; invalid words are reported, not saved."""

    def __init__(self, moderator: Moderator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._moderator = moderator
        bind(self, "setWindowTitle", "Banned words")
        layout = QVBoxLayout(self)
        hint = QLabel(self)
        hint.setTextFormat(Qt.TextFormat.PlainText)
        bind(hint, "setText", "One word or phrase per line. Matching ignores case, width and spacing tricks.")
        hint.setWordWrap(True)
        self.editor = QPlainTextEdit(self)
        self.editor.setPlainText("\n".join(moderator.banned_words))
        self.error = QLabel(self)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for widget in (hint, self.editor, self.error, buttons):
            layout.addWidget(widget)

    def words(self) -> list[str]:
        return [line.strip() for line in self.editor.toPlainText().splitlines() if line.strip()]

    def accept(self) -> None:
        try:
            self._moderator.set_banned_words(self.words())
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        super().accept()


class DanmakuDock(QWidget):
    def __init__(self, service: InteractionService, parent: QWidget | None = None, *, max_rows: int = 2000) -> None:
        super().__init__(parent)
        if max_rows < 10:
            raise ValueError(f"danmaku dock max_rows must be >= 10, got {max_rows}")
        self.service = service
        self.moderator = service.moderator
        self.max_rows = max_rows
        self._held: deque[DanmakuEvent] = deque(maxlen=max_rows)  # arrivals while paused
        self._pinned_id: str | None = None
        self._burst: list[DanmakuEvent] = []  # arrivals waiting for the next flush in a burst
        self._recent_appends = 0  # rows appended since the last flush tick
        self.sampled_out = 0  # messages not listed because of a burst (still counted and moderated)
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush_burst)

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        on_change(self, lambda: self.model.setHorizontalHeaderLabels([tr(c) for c in COLUMNS]))
        self.proxy = DanmakuFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        # fixed widths from the font, not ResizeToContents: that measures every row on each append
        for column, mode in ((0, QHeaderView.ResizeMode.Fixed), (1, QHeaderView.ResizeMode.Interactive),
                             (2, QHeaderView.ResizeMode.Stretch), (SOURCE_COLUMN, QHeaderView.ResizeMode.Fixed)):
            header.setSectionResizeMode(column, mode)
        header.setStretchLastSection(False)
        on_change(self, self._size_columns)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())

        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        bind(self.search, "setPlaceholderText", "Search user or message")
        self.search.textChanged.connect(self.proxy.set_search)
        self.kind = QComboBox(self)
        for key, label in FILTERS:
            self.kind.addItem(tr(label), key)
        self.kind.currentIndexChanged.connect(lambda _i: self.proxy.set_kind(self.kind.currentData()))
        self.platform = QComboBox(self)  # filter by where messages come from
        self.platform.setObjectName("platformFilter")
        self.platform.addItem(tr("All sources"), "")
        for key, label in PLATFORM_TAGS.items():
            self.platform.addItem(tr(label), key)
        self.platform.currentIndexChanged.connect(lambda _i: self.proxy.set_platform(self.platform.currentData()))
        self.pause = QPushButton(self)
        self.pause.setCheckable(True)
        bind(self.pause, "setText", "Pause")
        self.pause.toggled.connect(self._on_pause)
        self.auto_scroll = QCheckBox(self)
        bind(self.auto_scroll, "setText", "Auto-scroll")
        self.auto_scroll.setChecked(True)

        self.remove_button = self._button("Remove from overlay", self.remove_selected)
        self.block_button = self._button("Block user", self.block_selected)
        self.pin_button = self._button("Pin", self.pin_selected)
        self.unpin_button = self._button("Unpin", self.moderator.unpin)
        self.words_button = self._button("Banned words…", self.edit_banned_words)
        self.blocked_list = QListWidget(self)  # who is blocked (identity and address)
        self.blocked_list.setObjectName("blockedViewers")
        self.blocked_list.setMaximumHeight(72)
        self.blocked_list.itemSelectionChanged.connect(self._update_actions)
        self.unblock_button = self._button("Unblock", self.unblock_selected)
        self.slow = QCheckBox(self)
        bind(self.slow, "setText", "Slow mode")
        self.slow_seconds = QSpinBox(self)
        self.slow_seconds.setRange(1, 600)
        self.slow_seconds.setSuffix(" s")
        self.slow_seconds.setValue(int(self.moderator.slow_mode_s) or 5)
        self.slow.setChecked(self.moderator.slow_mode_s > 0)
        self.slow.toggled.connect(lambda _on: self._apply_slow_mode())
        self.slow_seconds.valueChanged.connect(lambda _v: self._apply_slow_mode())
        self.status = QLabel(self)  # the last action's outcome or error
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.summary = QLabel(self)  # counts
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setObjectName("hint")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        top, actions, moderation = _row(self.search, self.kind, self.platform, self.pause, self.auto_scroll), _row(
            self.remove_button, self.block_button, self.pin_button, self.unpin_button, stretch=True
        ), _row(self.slow, self.slow_seconds, self.words_button, stretch=True)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addLayout(actions)
        layout.addLayout(moderation)
        layout.addWidget(self.blocked_list)
        layout.addLayout(_row(self.unblock_button, stretch=True))
        layout.addWidget(self.status)
        layout.addWidget(self.summary)
        self._retitle()

        self.bridge = DanmakuBridge(service, self)
        self.bridge.danmaku.connect(self.add_events)
        self.bridge.removed.connect(self._on_removed)
        self.bridge.pinned.connect(self._on_pinned)
        self.bridge.moderation.connect(self._on_moderation)
        self._show_blocked(self.moderator.blocked)
        self._update_actions()

    def _size_columns(self) -> None:
        """The time and source columns as wide as their widest possible text (in this language)."""
        metrics, pad = self.view.fontMetrics(), 16
        self.view.setColumnWidth(0, metrics.horizontalAdvance("00:00:00") + pad)
        widest = max(metrics.horizontalAdvance(tr(label)) for label in PLATFORM_TAGS.values())
        self.view.setColumnWidth(SOURCE_COLUMN, widest + pad)

    def _button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(self)
        bind(button, "setText", text)
        button.clicked.connect(lambda _=False: self._guard(slot))
        return button

    def _guard(self, action: Callable[[], object]) -> None:
        try:
            action()
        except ValueError as exc:  # e.g. the message is too old to pin: say so, do not crash
            self.status.setText(str(exc))

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self.bridge.close()
        super().closeEvent(event)

    def close_bridge(self) -> None:
        """Stop listening to the service (the owner calls this when the dock goes away)."""
        self.bridge.close()
        self._flush_timer.stop()
        if self.faq_panel is not None:
            self.faq_panel.close_bridge()

    # ---- rows ----

    def add_event(self, event: DanmakuEvent) -> None:
        self.add_events((event,))

    def add_events(self, events: Sequence[DanmakuEvent]) -> None:
        """Append a batch (UI thread); held back while paused; sampled in a burst."""
        if not events:
            return
        if self.pause.isChecked():
            self._held.extend(events)
            self._retitle()
            return
        if not self._burst and self._recent_appends + len(events) <= SAMPLE_PER_FLUSH:
            self._recent_appends += len(events)
            self._append_rows(events)
        else:
            self._burst.extend(events)  # a burst: list a sample on the next flush
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush_burst(self) -> None:
        """Every FLUSH_MS: list what a burst held back (a sample of it, super chats and flagged
        messages always), and open the gate for direct appends again."""
        burst, self._burst = self._burst, []
        self._recent_appends = 0
        if not burst:
            self._flush_timer.stop()
            return
        keep = [e for e in burst if e.flags or isinstance(e.message, SuperChat)]
        plain = [e for e in burst if not (e.flags or isinstance(e.message, SuperChat))]
        room = max(0, SAMPLE_PER_FLUSH - len(keep))
        if len(plain) > room:
            self.sampled_out += len(plain) - room
            step = len(plain) / room if room else 0.0
            plain = [plain[int(i * step)] for i in range(room)] if room else []
        chosen = {id(e) for e in keep + plain}
        self._append_rows([event for event in burst if id(event) in chosen])
        self._recent_appends = SAMPLE_PER_FLUSH  # this tick's budget is used

    def _append_rows(self, events: Sequence[DanmakuEvent]) -> None:
        """Rows for these messages; then trim, scroll and retitle once."""
        for event in events:
            self._append(event)
        overflow = self.model.rowCount() - self.max_rows
        if overflow > 0:
            self.model.removeRows(0, overflow)
        if self.auto_scroll.isChecked():
            self.view.scrollToBottom()
        self._retitle()

    def _append(self, event: DanmakuEvent) -> None:
        m = event.message
        stamp = QStandardItem(time.strftime("%H:%M:%S", time.localtime(m.received_at)))
        stamp.setData(m.id, ID_ROLE)
        stamp.setData(m.user, USER_ROLE)
        stamp.setData(tuple(sorted(event.flags)), FLAGS_ROLE)
        stamp.setData(False, REMOVED_ROLE)
        stamp.setData(m.address, ADDRESS_ROLE)
        stamp.setData(m.platform, PLATFORM_ROLE)
        user = QStandardItem(m.display_name)
        user.setForeground(_user_brush(m.user))
        user.setToolTip(tooltip(m.user))
        paid = isinstance(m, SuperChat)
        text = QStandardItem(f"[SC ¥{m.value:g}] {m.text}" if isinstance(m, SuperChat) else m.text)
        text.setToolTip(tooltip(m.text))
        source = QStandardItem(tr(PLATFORM_TAGS.get(m.platform, m.platform)))
        source.setToolTip(tooltip(m.platform))
        row = [stamp, user, text, source]  # not editable: the view has no edit triggers
        if event.flags:
            why = ", ".join(tr(FLAG_NAMES.get(f, f)) for f in sorted(event.flags))
            if event.matched:
                why += ": " + ", ".join(event.matched)
            for item in row:
                item.setBackground(QBrush(FLAGGED_BACKGROUND))
            text.setToolTip(tooltip(f"{tr('Not shown')} ({why})\n{m.text}"))
        elif paid:
            for item in row:
                item.setBackground(QBrush(SUPER_CHAT_BACKGROUND))
        self.model.appendRow(row)

    def _on_pause(self, paused: bool) -> None:
        bind(self.pause, "setText", "Resume" if paused else "Pause")
        if not paused:
            held = list(self._held)
            self._held.clear()
            self._append_rows(held)
        self._retitle()

    def row_of(self, message_id: str) -> int | None:
        """The model row of a message (None once scrolled out of the list)."""
        for row in range(self.model.rowCount() - 1, -1, -1):
            if self.model.item(row, 0).data(ID_ROLE) == message_id:
                return row
        return None

    def selected_row(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return self.proxy.mapToSource(rows[0]).row() if rows else None

    def select_row(self, row: int) -> None:
        self.view.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())

    def _selected(self) -> tuple[str, str]:
        row = self.selected_row()
        if row is None:
            raise ValueError(tr("Select a message first"))
        item = self.model.item(row, 0)
        return str(item.data(ID_ROLE)), str(item.data(USER_ROLE))

    def _selected_row_data(self) -> tuple[str, str, str]:
        """(user, address, display name) of the selected message."""
        row = self.selected_row()
        if row is None:
            raise ValueError(tr("Select a message first"))
        first = self.model.item(row, 0)
        return str(first.data(USER_ROLE)), str(first.data(ADDRESS_ROLE) or ""), self.model.item(row, 1).text()

    # ---- moderation actions ----

    def remove_selected(self) -> None:
        message_id, _ = self._selected()
        self.moderator.remove(message_id)

    def block_selected(self) -> None:
        user, address, name = self._selected_row_data()
        self.moderator.block(user, address, name)
        self.status.setText(f"{tr('Blocked')} {name}" + (f" ({user})" if name != user else ""))

    def unblock_selected(self) -> None:
        item = self.blocked_list.currentItem()
        if item is None:
            raise ValueError(tr("Select a blocked viewer first"))
        self.moderator.unblock(str(item.data(USER_ROLE)))

    def pin_selected(self) -> None:
        message_id, _ = self._selected()
        self.moderator.pin(message_id)

    def edit_banned_words(self) -> BannedWordsDialog:
        dialog = BannedWordsDialog(self.moderator, self)
        dialog.open()
        return dialog

    def _apply_slow_mode(self) -> None:
        seconds = float(self.slow_seconds.value()) if self.slow.isChecked() else 0.0
        if seconds != self.moderator.slow_mode_s:
            self._guard(lambda: self.moderator.set_slow_mode(seconds))

    # ---- engine events (UI thread) ----

    def _on_removed(self, event: DanmakuRemoved) -> None:
        row = self.row_of(event.id)
        if row is None:
            return
        self.model.item(row, 0).setData(True, REMOVED_ROLE)
        for col in range(len(COLUMNS)):
            item = self.model.item(row, col)
            font = QFont(item.font())
            font.setStrikeOut(True)
            item.setFont(font)
        self.model.item(row, 2).setToolTip(tr("Removed from the overlay"))
        self.proxy.refilter()

    def _on_pinned(self, event: DanmakuPinned) -> None:
        for message_id, pinned in ((self._pinned_id, False), (event.message.id if event.message else None, True)):
            row = self.row_of(message_id) if message_id else None
            if row is None:
                continue
            flagged = bool(self.model.item(row, 0).data(FLAGS_ROLE))
            for col in range(len(COLUMNS)):
                item = self.model.item(row, col)
                font = QFont(item.font())
                font.setBold(pinned)
                item.setFont(font)
                if pinned:
                    item.setBackground(QBrush(PINNED_BACKGROUND))
                else:
                    item.setBackground(QBrush(FLAGGED_BACKGROUND) if flagged else QBrush())
        self._pinned_id = event.message.id if event.message else None
        self._update_actions()

    def _on_moderation(self, change: ModerationChanged) -> None:
        # keep the controls in step when another window (or the API) changes moderation
        for widget in (self.slow, self.slow_seconds):
            widget.blockSignals(True)
        self.slow.setChecked(change.slow_mode_s > 0)
        if change.slow_mode_s > 0:
            self.slow_seconds.setValue(int(change.slow_mode_s))
        for widget in (self.slow, self.slow_seconds):
            widget.blockSignals(False)
        self._show_blocked(change.blocked)
        self._retitle()

    def _show_blocked(self, blocked: tuple[BlockedViewer, ...]) -> None:
        """The blocked list, and the blocked flag on listed messages from those viewers."""
        self.blocked_list.clear()
        for entry in blocked:
            name = entry.label or entry.user
            where = f" · {tr('address')} {entry.address}" if entry.address else ""
            item = QListWidgetItem(f"{name} ({entry.user}){where}")
            item.setData(USER_ROLE, entry.user)
            item.setToolTip(tooltip(f"{name}\n{entry.user}{where}"))
            self.blocked_list.addItem(item)
        for row in range(self.model.rowCount()):
            first = self.model.item(row, 0)
            flags = set(first.data(FLAGS_ROLE) or ())
            is_blocked = self.moderator.blocked_by(str(first.data(USER_ROLE)), str(first.data(ADDRESS_ROLE) or ""))
            if bool(is_blocked) == (BLOCKED_USER in flags):
                continue
            flags ^= {BLOCKED_USER}
            first.setData(tuple(sorted(flags)), FLAGS_ROLE)
            for col in range(len(COLUMNS)):
                self.model.item(row, col).setBackground(QBrush(FLAGGED_BACKGROUND) if flags else QBrush())
        self.proxy.refilter()
        self._update_actions()

    def _update_actions(self) -> None:
        has = self.selected_row() is not None
        for button in (self.remove_button, self.block_button, self.pin_button):
            button.setEnabled(has)
        self.unpin_button.setEnabled(self._pinned_id is not None or self.moderator.pinned is not None)
        self.unblock_button.setEnabled(self.blocked_list.currentItem() is not None)

    def _retitle(self) -> None:
        held = f" · {len(self._held)} {tr('held')}" if self._held else ""
        if self.sampled_out:
            held += f" · +{self.sampled_out} {tr('not listed (burst)')}"
        words = len(self.moderator.banned_words)
        blocked = len(self.moderator.blocked_users)
        self.summary.setText(
            f"{self.model.rowCount()} {tr('messages')}{held} · {words} {tr('banned words')} · "
            f"{blocked} {tr('blocked')}"
        )

    # ---- the product-question assistant (widgets/faq_panel.py) ----

    faq_panel: FaqPanel | None = None

    def add_faq_panel(self, assistant: FaqAssistant) -> FaqPanel:
        """Show the assistant's suggested answers under the messages (once)."""
        if self.faq_panel is None:
            from widgets.faq_panel import FaqPanel

            self.faq_panel = FaqPanel(self.service, assistant, self)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(2, self.faq_panel, 1)  # under the message list
        return self.faq_panel
