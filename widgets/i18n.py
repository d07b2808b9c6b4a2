"""Live-switchable UI language: English source strings in code, a JSON catalog per other language.

``tr("Scenes")`` returns the text in the current language. Widgets register how to re-apply their
text with ``bind(widget, "setText", "Scenes")`` or ``on_change(owner, callback)``; switching the
language re-runs every binding whose owner still exists, so visible text changes without a restart.
Catalogs live in ``resources/i18n/<language>.json`` as ``{"English text": "translation"}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QObject, QTranslator, Signal

from studio.paths import resources_dir

log = logging.getLogger(__name__)

LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
SOURCE_LANGUAGE = "en"


def catalog_dir() -> Path:
    return resources_dir() / "i18n"


def load_catalog(language: str) -> dict[str, str]:
    """The catalog for ``language`` ({} for English); ValueError naming the file when it is broken."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not available (use {', '.join(LANGUAGES)})")
    if language == SOURCE_LANGUAGE:
        return {}
    path = catalog_dir() / f"{language}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the translation catalog ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{path}: expected an object of text -> translation strings")
    return data


class Translator(QObject):
    """Holds the current language and re-applies registered texts when it changes (UI thread)."""

    language_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._language = SOURCE_LANGUAGE
        self._catalog: dict[str, str] = {}
        self._bindings: dict[int, list[Callable[[], None]]] = {}
        self._qt_translator: QTranslator | None = None

    @property
    def language(self) -> str:
        return self._language

    def set_language(self, language: str) -> None:
        catalog = load_catalog(language)  # raises before anything changes
        if language == self._language:
            return
        self._language, self._catalog = language, catalog
        self._install_qt_translation(language)
        for key, callbacks in list(self._bindings.items()):
            for callback in list(callbacks):
                try:
                    callback()
                except RuntimeError:  # the C++ object is gone; its destroyed signal is on its way
                    self._bindings.pop(key, None)
                    break
        self.language_changed.emit(language)

    def _install_qt_translation(self, language: str) -> None:
        """Qt's own texts (file and colour dialogs, key sequence fields) follow the language too."""
        app = QCoreApplication.instance()
        if app is None:
            return
        if self._qt_translator is not None:
            app.removeTranslator(self._qt_translator)
            self._qt_translator = None
        if language == SOURCE_LANGUAGE:
            return
        qt = QTranslator(self)
        if qt.load(f"qt_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt)
            self._qt_translator = qt
        else:
            log.info("no Qt translation for %s; Qt's own dialogs stay in English", language)

    def translate(self, text: str) -> str:
        return self._catalog.get(text, text)

    def on_change(self, owner: QObject, callback: Callable[[], None]) -> None:
        """Run ``callback`` now and after every language switch while ``owner`` exists."""
        key = id(owner)
        if key not in self._bindings:
            self._bindings[key] = []
            owner.destroyed.connect(lambda *_: self._bindings.pop(key, None))
        self._bindings[key].append(callback)
        callback()

    def bind(self, owner: QObject, setter: str, text: str) -> None:
        """``owner.<setter>(tr(text))`` now and after every language switch."""
        method = getattr(owner, setter)
        self.on_change(owner, lambda: method(self.translate(text)))


_translator: Translator | None = None


def translator() -> Translator:
    """The application's translator (created on first use, on the UI thread)."""
    global _translator
    if _translator is None:
        _translator = Translator()
    return _translator


def tr(text: str) -> str:
    return translator().translate(text)


def bind(owner: QObject, setter: str, text: str) -> None:
    translator().bind(owner, setter, text)


def on_change(owner: QObject, callback: Callable[[], None]) -> None:
    translator().on_change(owner, callback)
