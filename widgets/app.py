"""Starting the GUI: QApplication, theme, UI settings, the show for the collection, the window.

The window runs on a ``studio.show.Show`` (engine, mixer, outputs, local relay and hub, interaction,
autosave), the same composition headless runs use. The show starts on the output worker as the
window opens, so a slow start never freezes the window; at exit the show is stopped (a recording
in progress is finalised) before the process ends.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from scenes.model import VideoFormat
from studio.secrets import SecretStoreError, install_log_redaction
from studio.show import Show
from widgets.chat_settings import chat_adapters_for
from widgets.damaged_file import open_collection_or_ask
from widgets.i18n import translator
from widgets.main_window import MainWindow
from widgets.settings_store import SettingsStore, control_config
from widgets.theme import apply_theme


def _close_on_signals(window: MainWindow) -> None:
    """Ctrl-C in the terminal and SIGTERM close the window the way its close button does (asking
    first when on air, finalising a recording). Python runs signal handlers only when it gets
    control, so a light timer hands it control while Qt's event loop waits."""
    def close(*_: object) -> None:
        QTimer.singleShot(0, window.close)

    signal.signal(signal.SIGINT, close)
    signal.signal(signal.SIGTERM, close)
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(250)


def run_gui(collection_path: Path | None) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Drama Live Studio")
    install_log_redaction()  # stream tokens never reach a log line
    apply_theme(app)
    store = SettingsStore()
    try:
        translator().set_language(store.settings.language)
    except ValueError as exc:
        store.problem = str(exc)
    # a damaged collection: open its backup, another file, or quit (nothing is overwritten)
    opened = open_collection_or_ask(collection_path)
    if opened is None:
        store.close()
        return 2
    collection, path = opened.collection, opened.path
    if opened.note:
        store.problem = f"{store.problem}; {opened.note}" if store.problem else opened.note  # shown once
    if store.settings.video:
        # the canvas chosen in Settings applies now, at start-up (the engine sizes its canvases once)
        collection.video = VideoFormat(**store.settings.video)
    try:  # the remote control (obs-websocket 5): its password comes from the keyring
        control = control_config(store.settings)
    except SecretStoreError as exc:
        control = None
        store.problem = f"{store.problem}; remote control is off: {exc}" if store.problem else \
            f"remote control is off: {exc}"
    chat, chat_problem = chat_adapters_for(store.settings)  # platform chat from Settings > Platform chat
    if chat_problem:
        store.problem = f"{store.problem}; {chat_problem}" if store.problem else chat_problem
    show = Show(collection, path, studio_mode=store.settings.studio_mode, control=control, chat=chat)
    window = MainWindow(show.studio, store, show=show)
    window.start_show()  # on the output worker; the window shows "Starting the show…" meanwhile
    window.show()
    _close_on_signals(window)
    try:
        return app.exec()
    finally:
        binding = window.binding
        if binding is not None:
            # normally the window stopped the show before it closed; make sure (e.g. app.quit())
            binding.outputs.stop_show()
            binding.close()
        store.close()
