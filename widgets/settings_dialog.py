"""The Settings dialog: General (language), Video, Hotkeys, and pages Stream/Recording fill later.

It edits copies; ``applied`` carries the new values to the window, which switches the language
live, rebinds hotkeys and saves. Canvas and frame rate take effect the next time the studio starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QListWidget,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scenes.model import CANVAS_SIZES, FRAME_RATES, VideoFormat
from widgets.hotkeys import ACTIONS, conflicts, default_bindings, normalize
from widgets.i18n import LANGUAGES, bind, on_change, tr

KEYS_SHOWN = 2  # key + alternate key per action
RESTART_NOTE = "Changing the canvas or frame rate restarts the engine: the new format applies the next time the studio starts."
STREAM_NOTE = "Stream settings (WHIP endpoint, bearer token, bitrate) arrive with the WHIP output."
RECORDING_NOTE = "Recording settings (folder, format, quality) arrive with the recorder output."


@dataclass(frozen=True)
class SettingsValues:
    language: str
    video: VideoFormat
    hotkeys: dict[str, list[str]]


def _hint(parent: QWidget, text: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("hint")
    label.setWordWrap(True)
    bind(label, "setText", text)
    return label


class SettingsDialog(QDialog):
    applied = Signal(object)  # SettingsValues

    def __init__(self, language: str, video: VideoFormat, running_video: VideoFormat,
                 hotkeys: dict[str, list[str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.resize(760, 520)
        self._running_video = running_video
        bind(self, "setWindowTitle", "Settings")
        outer = QVBoxLayout(self)
        body = QHBoxLayout()
        self.pages_list = QListWidget(self)
        self.pages_list.setFixedWidth(160)
        self.pages = QStackedWidget(self)
        body.addWidget(self.pages_list)
        body.addWidget(self.pages, 1)
        outer.addLayout(body, 1)
        self._page_titles: list[str] = []
        self._add_page("General", self._general_page(language))
        self._add_page("Video", self._video_page(video))
        self._add_page("Hotkeys", self._hotkeys_page(hotkeys))
        self._add_page("Stream", self._placeholder_page(STREAM_NOTE))
        self._add_page("Recording", self._placeholder_page(RECORDING_NOTE))
        self.pages_list.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.pages_list.setCurrentRow(0)
        on_change(self, self._retranslate_pages)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply, self)
        for which, text in ((QDialogButtonBox.StandardButton.Ok, "OK"),
                            (QDialogButtonBox.StandardButton.Cancel, "Cancel"),
                            (QDialogButtonBox.StandardButton.Apply, "Apply")):
            bind(self.buttons.button(which), "setText", text)
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        outer.addWidget(self.buttons)

    # ---- pages ------------------------------------------------------------------------------------
    def _add_page(self, title: str, page: QWidget) -> None:
        self._page_titles.append(title)
        self.pages_list.addItem(title)
        self.pages.addWidget(page)

    def _retranslate_pages(self) -> None:
        for i, title in enumerate(self._page_titles):
            self.pages_list.item(i).setText(tr(title))

    def _general_page(self, language: str) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.language = QComboBox(page)
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(list(LANGUAGES).index(language))
        label = QLabel(page)
        bind(label, "setText", "Language")
        form.addRow(label, self.language)
        form.addRow(_hint(page, "The language changes at once, without a restart."))
        return page

    def _video_page(self, video: VideoFormat) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.canvas = QComboBox(page)
        for w, h in CANVAS_SIZES:
            self.canvas.addItem(f"{w} × {h}", f"{w}x{h}")
        self.canvas.setCurrentIndex(CANVAS_SIZES.index((video.width, video.height)))
        self.fps = QComboBox(page)
        for fps in FRAME_RATES:
            self.fps.addItem(str(fps), fps)
        self.fps.setCurrentIndex(FRAME_RATES.index(video.fps))
        canvas_label, fps_label = QLabel(page), QLabel(page)
        bind(canvas_label, "setText", "Canvas resolution")
        bind(fps_label, "setText", "Frame rate (fps)")
        form.addRow(canvas_label, self.canvas)
        form.addRow(fps_label, self.fps)
        self.video_note = QLabel(page)
        self.video_note.setObjectName("hint")
        self.video_note.setWordWrap(True)
        form.addRow(self.video_note)
        self.canvas.currentIndexChanged.connect(lambda _i: self._video_note())
        self.fps.currentIndexChanged.connect(lambda _i: self._video_note())
        on_change(self.video_note, self._video_note)
        return page

    def _video_note(self) -> None:
        if self.canvas.currentIndex() < 0 or self.fps.currentIndex() < 0:
            return  # the combo boxes are being torn down
        running = self._running_video
        text = tr("The engine runs at {w} × {h}, {fps} fps.").format(w=running.width, h=running.height,
                                                                     fps=running.fps)
        if self.video_format() != running:
            text += " " + tr(RESTART_NOTE)
        self.video_note.setText(text)

    def _hotkeys_page(self, hotkeys: dict[str, list[str]]) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        self.hotkey_table = QTableWidget(len(ACTIONS), 1 + KEYS_SHOWN, page)
        self.hotkey_table.verticalHeader().setVisible(False)
        self.hotkey_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.key_edits: dict[str, list[QKeySequenceEdit]] = {}
        for row, action in enumerate(ACTIONS):
            name = QTableWidgetItem()
            name.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.hotkey_table.setItem(row, 0, name)
            edits = []
            for col in range(KEYS_SHOWN):
                edit = QKeySequenceEdit(page)
                edit.setMaximumSequenceLength(1)
                edit.setClearButtonEnabled(True)
                edit.keySequenceChanged.connect(lambda _s: self._check_conflicts())
                self.hotkey_table.setCellWidget(row, 1 + col, edit)
                edits.append(edit)
            self.key_edits[action.id] = edits
        self.hotkey_warning = QLabel(page)
        self.hotkey_warning.setObjectName("fieldError")
        self.hotkey_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.set_hotkeys(hotkeys)
        layout.addWidget(self.hotkey_table, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.hotkey_warning, 1)
        defaults = QPushButton(page)
        bind(defaults, "setText", "Restore Defaults")
        defaults.clicked.connect(lambda _=False: self.set_hotkeys(default_bindings()))
        footer.addWidget(defaults)
        layout.addLayout(footer)
        layout.addWidget(_hint(page, "Hotkeys work anywhere in the window except while typing in a text field."))
        on_change(self.hotkey_table, self._retranslate_hotkeys)
        return page

    def _retranslate_hotkeys(self) -> None:
        self.hotkey_table.setHorizontalHeaderLabels([tr("Action"), tr("Key"), tr("Alternate key")])
        for row, action in enumerate(ACTIONS):
            cell = self.hotkey_table.item(row, 0)
            if cell is not None:
                cell.setText(tr(action.label).format(n=action.number))
        self._check_conflicts()

    def _placeholder_page(self, text: str) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        label = _hint(page, text)
        layout.addWidget(label)
        layout.addStretch(1)
        return page

    # ---- values -------------------------------------------------------------------------------------
    def set_hotkeys(self, hotkeys: dict[str, list[str]]) -> None:
        bindings = normalize(hotkeys)
        for action_id, edits in self.key_edits.items():
            keys = bindings.get(action_id, [])
            for i, edit in enumerate(edits):
                edit.setKeySequence(QKeySequence(keys[i]) if i < len(keys) else QKeySequence())

    def hotkeys(self) -> dict[str, list[str]]:
        out = {}
        for action_id, edits in self.key_edits.items():
            out[action_id] = [e.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
                              for e in edits if not e.keySequence().isEmpty()]
        return out

    def _check_conflicts(self) -> bool:
        clash = conflicts(self.hotkeys())
        labels = {a.id: tr(a.label).format(n=a.number) for a in ACTIONS}
        text = "; ".join(
            tr("{key} is used by: {actions}").format(key=k, actions=", ".join(labels[a] for a in v))
            for k, v in clash.items())
        self.hotkey_warning.setText(text)
        return not clash

    def video_format(self) -> VideoFormat:
        w, h = (int(v) for v in str(self.canvas.currentData()).split("x"))
        return VideoFormat(w, h, int(self.fps.currentData()))

    def values(self) -> SettingsValues:
        return SettingsValues(str(self.language.currentData()), self.video_format(), self.hotkeys())

    def apply(self) -> bool:
        if not self._check_conflicts():
            self.pages_list.setCurrentRow(self._page_titles.index("Hotkeys"))
            return False
        self.applied.emit(self.values())
        return True

    def _ok(self) -> None:
        if self.apply():
            self.accept()
