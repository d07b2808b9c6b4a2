"""Settings page "Destinations": the places the show goes live, with platform presets.

Each destination: type (from the URL's scheme), server URL, key or token (into the keyring, or the
user-only file / this session when there is no keyring -- never into the JSON), enabled, and SRT's
latency and streamid. Presets fill the RTMP ingest URL of Bilibili, Douyin, Kuaishou, Taobao Live,
YouTube, Twitch (the user pastes the key) or the URL shape of a WHIP server. Changes are saved at
once (``destination_store``); running destinations pick them up on their next start.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.outputs import destination_store
from studio.outputs.destinations import PRESETS, Destination, DestinationKind, SrtOptions, preset
from studio.secrets import keyring_available, redact
from widgets.i18n import bind, tr


class DestinationsPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        self.list = QListWidget(self)
        column.addWidget(self.list, 1)
        form = QFormLayout()
        self.preset = QComboBox(self)
        self.preset.addItem("—", "")
        for p in PRESETS:
            self.preset.addItem(f"{p.name} ({p.kind.value.upper()})", p.name)
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("rtmp://… / srt://host:port / https://…/whip")
        self.key = QLineEdit(self)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.enabled = QCheckBox(self)
        self.enabled.setChecked(True)
        bind(self.enabled, "setText", "Enabled")
        self.latency = QSpinBox(self)
        self.latency.setRange(20, 8000)
        self.latency.setValue(120)
        self.latency.setSuffix(" ms")
        self.streamid = QLineEdit(self)
        self.storage = QComboBox(self)
        for data, text in (("keyring", "System keyring"), ("file", "User-only file"), ("session", "This session only")):
            self.storage.addItem(tr(text), data)
        if not keyring_available():
            self.storage.setCurrentIndex(1)
        for text, widget in (("Preset", self.preset), ("Server URL", self.url), ("Key or token", self.key),
                             ("SRT latency", self.latency), ("SRT streamid", self.streamid),
                             ("Keep the key in", self.storage)):
            label = QLabel(self)
            bind(label, "setText", text)
            form.addRow(label, widget)
        form.addRow("", self.enabled)
        column.addLayout(form)
        buttons = QHBoxLayout()
        self.add = QPushButton(self)
        bind(self.add, "setText", "Add destination")
        self.add.clicked.connect(lambda _=False: self.add_from_fields())
        self.remove = QPushButton(self)
        bind(self.remove, "setText", "Remove")
        self.remove.clicked.connect(lambda _=False: self.remove_selected())
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        column.addLayout(buttons)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        self.list.itemChanged.connect(self._enabled_changed)
        try:
            self.destinations = destination_store.load()
        except (ValueError, OSError) as exc:
            self.destinations = []
            self.status.setText(redact(str(exc)))
        self._refill()

    def _refill(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for d in self.destinations:
            item = QListWidgetItem(f"{(d.kind or DestinationKind.WHIP).value.upper()}  {d.name}  {d.display_url}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if d.enabled else Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, d.id)
            self.list.addItem(item)
        self.list.blockSignals(False)

    def _preset_chosen(self) -> None:
        name = self.preset.currentData()
        if name:
            self.url.setText(preset(name).url)

    def add_from_fields(self) -> Destination | None:
        url = self.url.text().strip()
        name = self.preset.currentData() or ""
        key = self.key.text()
        segments = [p for p in urlsplit(url).path.split("/") if p]
        if urlsplit(url).scheme.lower() in ("rtmp", "rtmps") and len(segments) >= 2 and not key:
            # a key pasted into the URL goes to the keyring, not into destinations.json
            key = segments[-1]
            url = url.rstrip("/").rsplit("/", 1)[0] + "/"
        try:
            dest = Destination(url, name=name, enabled=self.enabled.isChecked(),
                               srt=SrtOptions(self.latency.value(), self.streamid.text().strip()))
        except ValueError as exc:
            self.status.setText(redact(str(exc)))
            return None
        self.key.clear()
        where = ""
        if key:
            try:
                where = destination_store.store_key(dest, key, self.storage.currentData())
            except (ValueError, OSError) as exc:
                self.status.setText(redact(str(exc)))
                return None
        self.destinations.append(dest)
        self._save()
        self.status.setText(tr("Destination added.") + (" " + tr("Key kept in: {where}").format(where=tr(where))
                                                         if where else ""))
        return dest

    def remove_selected(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        dest_id = item.data(Qt.ItemDataRole.UserRole)
        for d in [d for d in self.destinations if d.id == dest_id]:
            destination_store.forget_key(d)
        self.destinations = [d for d in self.destinations if d.id != dest_id]
        self._save()

    def _enabled_changed(self, item: QListWidgetItem) -> None:
        dest_id = item.data(Qt.ItemDataRole.UserRole)
        on = item.checkState() == Qt.CheckState.Checked
        self.destinations = [Destination(d.url, d.kind, d.name, on, d.srt, d.id) if d.id == dest_id else d
                             for d in self.destinations]
        self._save()

    def _save(self) -> None:
        try:
            destination_store.save(self.destinations)
        except OSError as exc:
            self.status.setText(redact(str(exc)))
        self._refill()
