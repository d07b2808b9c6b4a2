"""The session reports window: the sessions table, one report's charts, two sessions compared,
export, in English and Chinese; the work runs on its worker thread."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QApplication

from widgets.i18n import translator

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_sessiondata import _session  # noqa: E402 - the same synthetic sessions as the unit tests

HOSTILE = "<b>bold</b>"


def _select(window, rows: list[int]) -> None:  # type: ignore[no-untyped-def]
    model = window.sessions.selectionModel()
    model.clearSelection()
    for row in rows:
        model.select(window.sessions.model().index(row, 0),
                     QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)


def test_report_window_lists_opens_compares_and_exports(make_window, qtbot, studio_home: Path,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path) -> None:
    from studio.sessiondata.store import sessions_dir

    _session(sessions_dir() / "session-20260101-200000.sqlite", leavers=4, nick=HOSTILE)
    _session(sessions_dir() / "session-20260102-200000.sqlite", leavers=1, branch="ending-b")
    main = make_window()
    window = main.open_reports()
    with qtbot.waitSignal(window.loaded, timeout=60000) as blocker:
        pass
    assert blocker.args == ["sessions"] and window.sessions.rowCount() == 2
    assert window.sessions.item(1, 10).text() == "ending-b"

    _select(window, [0])
    assert window.open_button.isEnabled() and not window.compare_button.isEnabled()
    with qtbot.waitSignal(window.loaded, timeout=120000) as blocker:
        window.open_selected()
    assert blocker.args == ["report"] and len(window.chart_labels) == 7
    assert all(not label.pixmap().isNull() for label in window.chart_labels)
    page = window.export_html(tmp_path / "r.html")
    assert page is not None and HOSTILE not in page.read_text(encoding="utf-8")
    assert len(window.export_csv(tmp_path / "csv")) == 8

    translator().set_language("zh_CN")
    try:
        assert window.windowTitle() == "场次报告" and window.compare_button.text() == "对比两场"
        _select(window, [0, 1])
        with qtbot.waitSignal(window.loaded, timeout=60000) as blocker:
            window.compare_selected()
        assert blocker.args == ["compare"]
        assert window.verdict.text().startswith("session-20260102-200000 进入直播时留住了更多观众")
    finally:
        translator().set_language("en")
    window.close()
    QApplication.processEvents()
