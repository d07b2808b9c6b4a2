"""The Settings dialog: General (language), Video, Hotkeys, Stream, Recording and Remote Control.

It edits copies; ``applied`` carries the new values to the window, which switches the language
live, rebinds hotkeys and saves. Canvas and frame rate take effect the next time the studio starts.

Stream: the local relay (the viewer page) or a WHIP endpoint, its bearer token and the bitrate range
the receiver may steer within. The token goes straight to the OS keyring (``studio.stream_token``),
never into ``SettingsValues``' persisted fields, the settings file or logs. Without a keyring the
dialog says so (once, on the Stream page) and offers what a user would expect: keep the token for
this session only (``session_token``, the default), or keep it in a file readable only by the user
(``studio.secrets.set_file_token``, mode 0600), with a warning that any program the user runs, and
their backups, can read that file.

Remote Control: the obs-websocket v5 server (``studio.control``): port, LAN opt-in, password on/off,
and the password itself (generated on first use, kept in the keyring) with a Copy button. Changes
apply at once: connected tools reconnect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scenes.model import CANVAS_SIZES, FRAME_RATES, VideoFormat
from studio.control.password import load_password
from studio.outputs.output_scaling import STREAM_HEIGHT_CHOICES
from studio.paths import recordings_dir
from studio.secrets import (
    Secret,
    SecretStoreError,
    delete_file_token,
    delete_token,
    keyring_available,
    set_file_token,
    token_file,
)
from studio.stream_token import keyring_key, store_token
from widgets.chat_settings import ChatSettingsPage, ChatValues
from widgets.destinations_page import DestinationsPage
from widgets.hotkeys import ACTIONS, conflicts, default_bindings, normalize
from widgets.i18n import LANGUAGES, bind, on_change, tr
from widgets.settings_store import (
    CONTAINERS,
    CONTROL_PORT_RANGE,
    DEFAULT_MAX_KBPS,
    DEFAULT_MIN_KBPS,
    KBPS_RANGE,
    check_bitrates,
    check_whip_url,
)

KEYS_SHOWN = 2  # key + alternate key per action
RESTART_NOTE = "Changing the canvas or frame rate restarts the engine: the new format applies the next time the studio starts."
CONTAINER_NAMES = {"mkv": "MKV (Matroska)", "mp4": "MP4 (fragmented)"}
STREAM_RESOLUTION_HINT = ("Above this height the stream gets its own scaled encode; the recording keeps the "
                          "canvas. Takes effect the next time the stream starts.")
TOKEN_FILE_WARNING = ("Less safe than a keyring: {path} is readable only by your user account, but any program "
                      "you run, and your backups, can read it.")


@dataclass(frozen=True)
class StreamValues:
    local_relay: bool = True
    url: str = ""
    min_kbps: int = DEFAULT_MIN_KBPS
    max_kbps: int = DEFAULT_MAX_KBPS
    max_height: int | None = None  # the stream's largest height (None: 1080p above 1080p, 0: the canvas)


@dataclass(frozen=True)
class RecordingValues:
    folder: str = ""  # "": the default recordings folder
    container: str = "mkv"


@dataclass(frozen=True)
class ControlValues:
    """The obs-websocket remote control; its password lives in the keyring (``studio.control.password``)."""

    enabled: bool = True
    port: int = 4455
    lan: bool = False
    auth: bool = True


@dataclass(frozen=True)
class SettingsValues:
    language: str
    video: VideoFormat
    hotkeys: dict[str, list[str]]
    stream: StreamValues = field(default_factory=StreamValues)
    recording: RecordingValues = field(default_factory=RecordingValues)
    control: ControlValues = field(default_factory=ControlValues)
    # (url, token) the keyring could not store: used for this session only, never saved
    session_token: tuple[str, Secret] | None = None
    chat: ChatValues = field(default_factory=ChatValues)  # platform chat (widgets.chat_settings)


def _hint(parent: QWidget, text: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("hint")
    label.setWordWrap(True)
    bind(label, "setText", text)
    return label


class SettingsDialog(QDialog):
    applied = Signal(object)  # SettingsValues

    def __init__(self, language: str, video: VideoFormat, running_video: VideoFormat,
                 hotkeys: dict[str, list[str]], parent: QWidget | None = None, *,
                 stream: StreamValues | None = None, recording: RecordingValues | None = None,
                 session_token: tuple[str, Secret] | None = None, control: ControlValues | None = None,
                 chat: ChatValues | None = None) -> None:
        super().__init__(parent)
        self._session_token = session_token
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
        self._add_page("Stream", self._stream_page(stream or StreamValues()))
        self._add_page("Recording", self._recording_page(recording or RecordingValues()))
        self._add_page("Remote Control", self._control_page(control or ControlValues()))
        self.chat_page = ChatSettingsPage(chat or ChatValues(), self)
        self._add_page("Platform chat", self.chat_page)
        self.destinations_page = DestinationsPage(self)  # RTMP/SRT/WHIP destinations, saved at once
        self._add_page("Destinations", self.destinations_page)
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

    def _label(self, parent: QWidget, text: str) -> QLabel:
        label = QLabel(parent)
        bind(label, "setText", text)
        return label

    def _stream_page(self, stream: StreamValues) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.local_relay = QCheckBox(page)
        bind(self.local_relay, "setText", "Use the local relay (the viewer page on this computer)")
        self.local_relay.setChecked(stream.local_relay)
        self.stream_url = QLineEdit(stream.url, page)
        self.stream_url.setPlaceholderText("https://example.com/whip/endpoint")
        self.stream_token = QLineEdit(page)
        self.stream_token.setEchoMode(QLineEdit.EchoMode.Password)
        bind(self.stream_token, "setPlaceholderText", "Leave empty to keep the stored token")
        self.forget_token = QPushButton(page)
        bind(self.forget_token, "setText", "Forget Stored Token")
        self.forget_token.clicked.connect(lambda _=False: self.forget_stored_token())
        token_row = QHBoxLayout()
        token_row.addWidget(self.stream_token, 1)
        token_row.addWidget(self.forget_token)
        low, high = KBPS_RANGE
        self.min_kbps, self.max_kbps = QSpinBox(page), QSpinBox(page)
        for box, value in ((self.min_kbps, stream.min_kbps), (self.max_kbps, stream.max_kbps)):
            box.setRange(low, high)
            box.setSingleStep(100)
            box.setSuffix(" kb/s")
            box.setValue(value)
            box.valueChanged.connect(lambda _v: self._check_stream())
        form.addRow(self.local_relay)
        form.addRow(self._label(page, "WHIP URL"), self.stream_url)
        form.addRow(self._label(page, "Bearer token"), token_row)
        form.addRow(self._label(page, "Minimum bitrate"), self.min_kbps)
        form.addRow(self._label(page, "Maximum bitrate"), self.max_kbps)
        self.stream_resolution = self._stream_resolution_box(page, stream.max_height)
        form.addRow(self._label(page, "Stream resolution"), self.stream_resolution)
        form.addRow(_hint(page, STREAM_RESOLUTION_HINT))
        form.addRow(_hint(page, "The token is kept in the system keyring, never in the settings file."))
        # no keyring: say so once, here, and let the user choose where the token lives
        self.keyring_missing = not keyring_available()
        self.token_storage = QComboBox(page)
        self.token_storage.addItem("", "session")
        self.token_storage.addItem("", "file")
        self.token_file_warning = QLabel(page)
        self.token_file_warning.setObjectName("fieldError")
        self.token_file_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.token_file_warning.setWordWrap(True)
        if self.keyring_missing:
            form.addRow(_hint(page, "No system keyring was found: choose where to keep the token."))
            form.addRow(self._label(page, "Keep the token"), self.token_storage)
            form.addRow(self.token_file_warning)
        else:
            for widget in (self.token_storage, self.token_file_warning):
                widget.hide()
        self.token_storage.currentIndexChanged.connect(lambda _i: self._retranslate_token_storage())
        on_change(self.token_storage, self._retranslate_token_storage)
        self.stream_error = QLabel(page)
        self.stream_error.setObjectName("fieldError")
        self.stream_error.setTextFormat(Qt.TextFormat.PlainText)
        self.stream_error.setWordWrap(True)
        self.token_status = QLabel(page)
        self.token_status.setObjectName("hint")
        self.token_status.setTextFormat(Qt.TextFormat.PlainText)
        self.token_status.setWordWrap(True)
        form.addRow(self.stream_error)
        form.addRow(self.token_status)
        self.local_relay.toggled.connect(lambda _on: self._check_stream())
        self.stream_url.textChanged.connect(lambda _t: self._check_stream())
        self._check_stream()
        return page

    def _stream_resolution_box(self, page: QWidget, max_height: int | None) -> QComboBox:
        """Automatic (1080p above 1080p), the canvas, or a height; a height set elsewhere (headless,
        the settings file) is kept as its own entry."""
        box = QComboBox(page)
        box.addItem("", "auto")
        box.addItem("", 0)
        heights = sorted({*STREAM_HEIGHT_CHOICES, *([max_height] if max_height else [])}, reverse=True)
        for height in heights:
            box.addItem(f"{height}p", height)
        box.setCurrentIndex(box.findData("auto" if max_height is None else max_height))

        def retranslate() -> None:
            box.setItemText(0, tr("Automatic (1080p when the canvas is larger)"))
            box.setItemText(1, tr("Canvas (no scaling)"))

        on_change(box, retranslate)
        return box

    def _retranslate_token_storage(self) -> None:
        self.token_storage.setItemText(0, tr("For this session only"))
        self.token_storage.setItemText(1, tr("In a file only you can read"))
        warning = ""
        if self.token_storage.currentData() == "file":
            warning = tr(TOKEN_FILE_WARNING).format(path=token_file())
        self.token_file_warning.setText(warning)
        self.token_file_warning.setVisible(self.keyring_missing and bool(warning))

    def _recording_page(self, recording: RecordingValues) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.recording_folder = QLineEdit(recording.folder, page)
        self.recording_folder.setPlaceholderText(str(recordings_dir()))
        browse = QPushButton(page)
        bind(browse, "setText", "Browse…")
        browse.clicked.connect(lambda _=False: self._browse_folder())
        row = QHBoxLayout()
        row.addWidget(self.recording_folder, 1)
        row.addWidget(browse)
        self.container = QComboBox(page)
        for code in CONTAINERS:
            self.container.addItem(CONTAINER_NAMES[code], code)
        self.container.setCurrentIndex(list(CONTAINERS).index(recording.container))
        form.addRow(self._label(page, "Recording folder"), row)
        form.addRow(self._label(page, "Format"), self.container)
        form.addRow(_hint(page, "Both formats survive a crash: a killed studio leaves a playable file."))
        return page

    def _control_page(self, control: ControlValues) -> QWidget:
        """Stream Deck (Companion), Touch Portal, obsws-python and obs-websocket-js panels connect
        here as they connect to OBS: the address, and the password to paste into them."""
        page = QWidget(self)
        form = QFormLayout(page)
        self.control_enabled = QCheckBox(page)
        bind(self.control_enabled, "setText", "Allow remote control (obs-websocket 5)")
        self.control_enabled.setChecked(control.enabled)
        self.control_port = QSpinBox(page)
        self.control_port.setRange(*CONTROL_PORT_RANGE)
        self.control_port.setValue(control.port)
        self.control_lan = QCheckBox(page)
        bind(self.control_lan, "setText", "Allow other computers on the network")
        self.control_lan.setChecked(control.lan)
        self.control_auth = QCheckBox(page)
        bind(self.control_auth, "setText", "Require a password")
        self.control_auth.setChecked(control.auth)
        self.control_password = QLineEdit(page)
        self.control_password.setObjectName("controlPassword")
        self.control_password.setReadOnly(True)
        self.control_password_error = ""
        try:  # made when the remote control first starts with a password (the window's start)
            stored = load_password()
        except SecretStoreError as exc:
            stored = None
            self.control_password_error = str(exc)
        self.control_password.setText(stored.reveal() if stored is not None else "")
        bind(self.control_password, "setPlaceholderText", "Made when the remote control starts with a password")
        self.copy_password = QPushButton(page)
        bind(self.copy_password, "setText", "Copy")
        self.copy_password.clicked.connect(lambda _=False: self.copy_control_password())
        password_row = QHBoxLayout()
        password_row.addWidget(self.control_password, 1)
        password_row.addWidget(self.copy_password)
        self.control_address = QLabel(page)
        self.control_address.setTextFormat(Qt.TextFormat.PlainText)
        self.control_address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.control_note = QLabel(page)
        self.control_note.setObjectName("fieldError")
        self.control_note.setTextFormat(Qt.TextFormat.PlainText)
        self.control_note.setWordWrap(True)
        form.addRow(self.control_enabled)
        form.addRow(self._label(page, "Port"), self.control_port)
        form.addRow(self.control_lan)
        form.addRow(self.control_auth)
        form.addRow(self._label(page, "Password"), password_row)
        form.addRow(self._label(page, "Address"), self.control_address)
        form.addRow(_hint(page, "The password is kept in the system keyring, never in the settings file."))
        form.addRow(self.control_note)
        for box in (self.control_enabled, self.control_lan, self.control_auth):
            box.toggled.connect(lambda _on: self._retranslate_control())
        self.control_port.valueChanged.connect(lambda _v: self._retranslate_control())
        on_change(self.control_note, self._retranslate_control)
        return page

    def _retranslate_control(self) -> None:
        enabled = self.control_enabled.isChecked()
        for widget in (self.control_port, self.control_lan, self.control_auth):
            widget.setEnabled(enabled)
        auth = enabled and self.control_auth.isChecked()
        self.control_password.setEnabled(auth)
        self.copy_password.setEnabled(auth and bool(self.control_password.text()))
        self.control_password.setEchoMode(QLineEdit.EchoMode.Normal if auth else QLineEdit.EchoMode.Password)
        host = tr("<this computer's address>") if self.control_lan.isChecked() else "127.0.0.1"
        self.control_address.setText(f"ws://{host}:{self.control_port.value()}" if enabled else tr("Off"))
        notes = []
        if enabled and self.control_lan.isChecked() and not self.control_auth.isChecked():
            notes.append(tr("Anyone on the network could switch scenes and start or stop the stream: keep a password."))
        if self.control_password_error:
            notes.append(self.control_password_error)
        self.control_note.setText("\n".join(notes))

    def copy_control_password(self) -> None:
        QApplication.clipboard().setText(self.control_password.text())
        self.copy_password.setText(tr("Copied"))

    def control_values(self) -> ControlValues:
        return ControlValues(self.control_enabled.isChecked(), self.control_port.value(),
                             self.control_lan.isChecked(), self.control_auth.isChecked())

    def _browse_folder(self) -> None:
        start = self.recording_folder.text() or str(recordings_dir())
        folder = QFileDialog.getExistingDirectory(self, tr("Recording folder"), start)
        if folder:
            self.recording_folder.setText(folder)

    def _stream_problem(self) -> str:
        local = self.local_relay.isChecked()
        for widget in (self.stream_url, self.stream_token, self.forget_token):
            widget.setEnabled(not local)
        try:
            if not local:
                if not self.stream_url.text().strip():
                    return tr("Enter the WHIP URL, or use the local relay.")
                check_whip_url(self.stream_url.text())
            check_bitrates(self.min_kbps.value(), self.max_kbps.value())
        except ValueError as exc:
            if "stream_min_kbps" in str(exc) and "above" in str(exc):
                return tr("The minimum bitrate must not exceed the maximum.")
            if "stream_url" in str(exc):
                return tr("The WHIP URL must start with http:// or https://.")
            return str(exc)
        return ""

    def _check_stream(self) -> bool:
        problem = self._stream_problem()
        self.stream_error.setText(problem)
        return not problem

    def stream_values(self) -> StreamValues:
        height = self.stream_resolution.currentData()
        return StreamValues(self.local_relay.isChecked(), self.stream_url.text().strip(),
                            self.min_kbps.value(), self.max_kbps.value(),
                            None if height == "auto" else int(height))

    def recording_values(self) -> RecordingValues:
        return RecordingValues(self.recording_folder.text().strip(), str(self.container.currentData()))

    def _store_token(self) -> bool:
        """Put a newly typed token in the keyring; without one, keep it for this session only."""
        token, url = self.stream_token.text().strip(), self.stream_url.text().strip()
        if not token or self.local_relay.isChecked():
            return True
        self.stream_token.clear()
        if self.keyring_missing and self.token_storage.currentData() == "file":
            return self._store_token_in_file(url, token)
        try:
            store_token(url, token)
        except SecretStoreError as exc:
            self._session_token = (url, Secret(token))
            self.token_status.setText(str(exc) + " " + tr("The token is used for this session only."))
            return False
        except ValueError as exc:
            self.token_status.setText(str(exc))
            return False
        if self._session_token is not None and keyring_key(self._session_token[0]) == keyring_key(url):
            self._session_token = None
        self.token_status.setText(tr("Token saved in the system keyring."))
        return True

    def _store_token_in_file(self, url: str, token: str) -> bool:
        """The user chose the user-only file (no keyring here)."""
        try:
            path = set_file_token(keyring_key(url), token)
        except (SecretStoreError, ValueError) as exc:
            self._session_token = (url, Secret(token))
            self.token_status.setText(str(exc) + " " + tr("The token is used for this session only."))
            return False
        if self._session_token is not None and keyring_key(self._session_token[0]) == keyring_key(url):
            self._session_token = None
        self.token_status.setText(tr("Token saved in {path}, readable only by you.").format(path=path))
        return True

    def forget_stored_token(self) -> None:
        url = self.stream_url.text().strip()
        self._session_token = None
        if not url:
            return
        removed, problem = False, ""
        for delete in (delete_token, delete_file_token):  # wherever it was kept
            try:
                removed = delete(keyring_key(url)) or removed
            except SecretStoreError as exc:
                problem = str(exc)
        if problem and not removed and not self.keyring_missing:
            self.token_status.setText(problem)
            return
        self.token_status.setText(tr("The stored token was removed.") if removed
                                  else tr("No token was stored for this URL."))

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
        return SettingsValues(str(self.language.currentData()), self.video_format(), self.hotkeys(),
                              self.stream_values(), self.recording_values(), self.control_values(),
                              self._session_token, self.chat_page.values())

    def apply(self) -> bool:
        if not self._check_conflicts():
            self.pages_list.setCurrentRow(self._page_titles.index("Hotkeys"))
            return False
        if not self._check_stream():
            self.pages_list.setCurrentRow(self._page_titles.index("Stream"))
            return False
        if not self.chat_page.store_secrets():
            self.pages_list.setCurrentRow(self._page_titles.index("Platform chat"))
            return False
        self._store_token()  # a keyring failure is shown; the token still serves this session
        self.applied.emit(self.values())
        return True

    def _ok(self) -> None:
        if self.apply():
            self.accept()
