"""The dark theme (resources/style/dark.qss), icons (resources/icons/*.svg) and the UI font."""

from __future__ import annotations

import logging
from functools import cache

from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QWidget

from scenes.fonts import ensure_fonts
from studio.paths import resources_dir

log = logging.getLogger(__name__)


def icon(name: str) -> QIcon:
    """``resources/icons/<name>.svg`` (an empty icon, logged, when it is missing)."""
    return _icon(name)


@cache
def _icon(name: str) -> QIcon:
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.exists():
        log.warning("icon %s is missing", path)
        return QIcon()
    return QIcon(str(path))


def stylesheet() -> str:
    path = resources_dir() / "style" / "dark.qss"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("theme %s not loaded: %s", path, exc)
        return ""
    # QSS resolves url() against the working folder: point it at the bundled icons instead
    return text.replace("@ICONS@", (resources_dir() / "icons").as_posix())


def apply_theme(app: QApplication) -> None:
    """Dark QSS and a UI font whose fallback covers Chinese (so zh_CN never shows boxes)."""
    app.setStyle("Fusion")
    info = ensure_fonts()
    font = QFont(app.font())
    families = [font.family(), *info.fallback_families]
    font.setFamilies([f for f in dict.fromkeys(families) if f])
    font.setPointSizeF(max(font.pointSizeF(), 9.5))
    app.setFont(font)
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(icon("app"))


def repolish(widget: QWidget) -> None:
    """Re-apply QSS after a dynamic property (``level``, ``invalid``, ``live``) changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
