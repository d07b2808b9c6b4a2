"""Show log: JSONL records written by the showlog thread, flushed on demand, closed cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.interaction.showlog import ShowLog


def test_append_flush_close(tmp_path: Path) -> None:
    log = ShowLog(tmp_path / "shows" / "s.jsonl")
    log.append("poll_closed", poll="p1", counts=(3, 1), winner=0)
    log.append("gift", user="u", name="火箭", value=500.0)
    log.flush()
    lines = [json.loads(line) for line in log.path.read_text("utf-8").splitlines()]
    assert [r["kind"] for r in lines] == ["poll_closed", "gift"]
    assert lines[0]["counts"] == [3, 1] and lines[1]["name"] == "火箭" and lines[0]["t"] > 0
    log.close()
    with pytest.raises(ValueError, match="closed"):
        log.append("late")
    log.close()  # idempotent


def test_for_new_show_uses_data_dir(studio_home: Path) -> None:
    with ShowLog.for_new_show() as first, ShowLog.for_new_show() as second:
        assert first.path != second.path
        assert first.path.parent == studio_home / "shows"
