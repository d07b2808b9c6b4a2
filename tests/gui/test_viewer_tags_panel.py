"""The report window's Viewer Tags tab: tags the chosen session (then all sessions) on its worker,
lists each tag's segment, exports the chosen segment as CSV; nicknames stay plain text."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QApplication

from widgets.i18n import translator

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_viewer_tags import session_one, session_two  # noqa: E402 - the unit tests' sessions


def test_viewer_tags_tab(make_window, qtbot, studio_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.sessiondata.store import sessions_dir

    session_one(sessions_dir() / "session-20231114-221320.sqlite")
    session_two(sessions_dir() / "session-20231121-221320.sqlite")
    window = make_window().open_reports()
    with qtbot.waitSignal(window.loaded, timeout=60000):
        pass
    panel = window.viewer_tags
    assert not panel.run()  # nothing chosen yet
    assert panel.status.text() == "Choose one or more sessions first"
    window.sessions.selectionModel().select(
        window.sessions.model().index(0, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    with qtbot.waitSignal(panel.tagged_ready, timeout=60000) as blocker:
        assert panel.run()
    assert blocker.args == [4]
    names = [panel.segments.item(i).text() for i in range(panel.segments.count())]
    assert names[0] == "All viewers (4)" and "stayed-into-live (2)" in names and "voted-buy (1)" in names
    assert panel.table.rowCount() == 4
    nicks = {panel.table.item(r, 2).text() for r in range(4)}
    assert '=HYPERLINK("http://x")' in nicks  # shown as the text it is

    panel.segments.setCurrentRow(names.index("stayed-into-live (2)"))
    assert panel.table.rowCount() == 2
    out = panel.export_csv(tmp_path / "segment.csv")
    assert out is not None and out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert sorted(r["user_id"] for r in rows) == ["bilibili:7", "u1"]

    panel.all_box.setChecked(True)  # across both sessions: 小红 came back
    with qtbot.waitSignal(panel.tagged_ready, timeout=60000):
        panel.run()
    names = [panel.segments.item(i).text() for i in range(panel.segments.count())]
    assert "returning-viewer (1)" in names

    translator().set_language("zh_CN")
    try:
        assert window.tabs.tabText(1) == "观众标签" and panel.run_button.text() == "给观众打标签"
    finally:
        translator().set_language("en")
    window.close()
    QApplication.processEvents()
