"""The session database (schema, writer, crash safety) and the report computed from it."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from studio.interaction.adapters import Adapter
from studio.interaction.messages import (
    Announcement,
    Danmaku,
    Enter,
    Gift,
    Leave,
    Like,
    Message,
    ProductClick,
    SuperChat,
    Vote,
    platform_user,
)
from studio.report.across import compare, sessions_table
from studio.report.export import csv_tables, render_html, write_csv
from studio.report.figures import load_figures
from studio.report.language import translator_for
from studio.sessiondata import SCHEMA_VERSION, SessionWriter, open_database
from studio.sessiondata.recorder import RecordingAdapter, message_event
from studio.sessiondata.writer import Event

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000.0


def _session(path: Path, *, leavers: int = 3, branch: str = "ending-a", nick: str = "v") -> Path:
    """Ten viewers watch an episode; ``leavers`` of them leave 10 s into the live part."""
    with SessionWriter(path) as w:
        w.set_meta("started", str(T0))
        w.add("segment", t=T0, ref="episode", nick="第一集", text="drama")
        for i in range(10):
            w.add("enter", t=T0 + 1 + i, platform="hub", user=f"u{i}", nick=f"{nick}{i}")
        w.add("enter", t=T0 + 12, platform="hub", user="u0")  # a second tab: still one viewer
        for k, counts in enumerate(([1, 0], [3, 2], [6, 4])):
            w.add("poll", t=T0 + 20 + k, ref="p1", nick="她应该买吗?",
                  text=json.dumps({"options": ["买", "不买"], "counts": counts, "state": "open"}))
        for i in range(10):
            w.add("vote", t=T0 + 20, platform="hub", user=f"u{i}", ref="p1", value=int(i >= 6))
        w.add("branch", t=T0 + 30, ref="branch-ending", nick="买",
              text=json.dumps({"target": branch, "counts": [6, 4], "decided_by": "votes"}))
        w.add("segment", t=T0 + 30, ref=branch, nick="结局", text="drama")
        w.add("segment", t=T0 + 60, ref="live", nick="直播", text="live")
        w.add("product_shown", t=T0 + 61, ref="card-live", text="lipstick")
        for i in range(4):
            w.add("product_click", t=T0 + 62 + i, platform="hub", user=f"u{i}", ref="lipstick")
        w.add("product_click", t=T0 + 63, platform="hub", user="u0", ref="lipstick")  # twice: one clicker
        w.add("product_hidden", t=T0 + 76, ref="card-live", text="lipstick")
        for i in range(leavers):
            w.add("leave", t=T0 + 70, platform="hub", user=f"u{9 - i}")
        for i in range(5):
            w.add("danmaku", t=T0 + 65 + 30 * i, platform="hub", user="u1", nick=f"{nick}1", text="好看")
        w.add("like", t=T0 + 66, platform="hub", user="u2", value=7)
        w.add("gift", t=T0 + 80, platform="bilibili", user="bilibili:5", ref="小心心", value=2.0, text="2")
        w.health(2_500_000, 0, 10, t=T0 + 2)
        w.set_meta("ended", str(T0 + 200))
    return path


def test_schema_is_versioned_and_migrates_once(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    open_database(path).close()
    db = open_database(path)  # a second open applies nothing again
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    db.close()
    with pytest.raises(ValueError, match="schema version"):
        open_database(path)
    with pytest.raises(ValueError, match="schema version"):
        open_database(path, readonly=True)


def test_every_event_is_written_or_counted_as_dropped(tmp_path: Path) -> None:
    writer = SessionWriter(tmp_path / "s.sqlite", queue_max=10)
    for i in range(2000):
        writer.add("like", user=f"u{i}", value=1)
    writer.flush()
    writer.close()
    assert writer.written + writer.dropped == 2000 and writer.errors == 0
    db = open_database(tmp_path / "s.sqlite", readonly=True)
    assert db.execute("SELECT COUNT(*) FROM events").fetchone() == (writer.written,)
    db.close()


def test_batches_are_written_or_counted_as_dropped_row_by_row(tmp_path: Path) -> None:
    writer = SessionWriter(tmp_path / "s.sqlite", queue_max=3)
    for b in range(200):
        writer.add_events([Event(T0 + b, "danmaku", "bilibili", f"u{b}-{i}", value=i) for i in range(50)])
    writer.add_events([])  # nothing to queue
    writer.flush()
    writer.close()
    assert writer.written + writer.dropped == 200 * 50 and writer.errors == 0
    assert writer.written % 50 == 0 and writer.dropped % 50 == 0  # a read's rows go (or are dropped) together
    db = open_database(tmp_path / "s.sqlite", readonly=True)
    assert db.execute("SELECT COUNT(*) FROM events").fetchone() == (writer.written,)
    db.close()


class _Reads(Adapter):
    """A source whose messages arrive in reads: the loop turns only between reads."""

    def __init__(self, reads: list[list[Message]]) -> None:
        self.reads = reads

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        for read in self.reads:
            await asyncio.sleep(0)
            for message in read:
                yield message

    async def close(self) -> None:
        return None


class _CountingWriter(SessionWriter):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.handed: list[int] = []

    def add_events(self, events: Sequence[Event]) -> None:
        self.handed.append(len(events))
        super().add_events(events)


def test_recording_adapter_queues_one_batch_per_read(tmp_path: Path) -> None:
    reads: list[list[Message]] = [
        [Danmaku(user=f"a{i}", platform="bilibili", text="hi") for i in range(3)] + [Gift(user="g", name="花")],
        [Like(user="l", count=2), Announcement(text="公告")],  # not a viewer message: passed on, not recorded
        [Danmaku(user="z", text="last")],
    ]
    writer = _CountingWriter(tmp_path / "s.sqlite")
    adapter = RecordingAdapter(_Reads(reads), writer)

    async def consume() -> list[Message]:
        return [m async for m in adapter]

    passed = asyncio.run(consume())
    assert passed == [m for read in reads for m in read]
    writer.flush()
    writer.close()
    assert [n for n in writer.handed if n] == [4, 1, 1]
    db = open_database(tmp_path / "s.sqlite", readonly=True)
    assert [k for (k,) in db.execute("SELECT kind FROM events ORDER BY id")] == ["danmaku"] * 3 + [
        "gift", "like", "danmaku"]
    db.close()


def test_viewer_messages_become_rows_with_platform_and_user() -> None:
    bili = platform_user("bilibili", 42)
    rows = [message_event(m) for m in (
        Enter(user="p1", nick="小明"), Leave(user="p1"), Danmaku(user=bili, platform="bilibili", text="hi"),
        Like(user="p1", count=3), Gift(user="p1", name="花", count=2, value=1.5), Vote(user="p1", poll="x", option=1),
        ProductClick(user="p1", product="lipstick"), SuperChat(user=bili, platform="bilibili", text="sc", value=30))]
    assert [(r.kind, r.platform, r.user, r.ref, r.value) for r in rows if r] == [
        ("enter", "hub", "p1", "", 0.0), ("leave", "hub", "p1", "", 0.0), ("danmaku", "bilibili", bili, "", 1),
        ("like", "hub", "p1", "", 3), ("gift", "hub", "p1", "花", 3.0), ("vote", "hub", "p1", "x", 1),
        ("product_click", "hub", "p1", "lipstick", 0.0), ("gift", "bilibili", bili, "SC", 30)]


_CHILD = """
import sys, time
from studio.sessiondata.writer import SessionWriter
w = SessionWriter(sys.argv[1])
n = 0
while True:
    w.add("danmaku", user="u", value=n, text="x" * 40)
    n += 1
    if n % 200 == 0:
        print(w.written, flush=True)  # rows committed so far
        time.sleep(0.01)
"""


def test_a_killed_writer_leaves_a_readable_database_with_every_committed_row(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None
        committed = 0
        for line in child.stdout:
            committed = int(line)
            if committed >= 3000:  # several commits in, with more queued behind them
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
        if child.stdout is not None:
            child.stdout.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    values = [int(v) for (v,) in db.execute("SELECT value FROM events ORDER BY id")]
    db.close()
    assert len(values) >= committed, "a committed batch was lost"
    assert values == list(range(len(values))), "rows are not the first ones added, in order"
    assert load_figures(path).danmaku_total == len(values)  # the report reads a session that never closed


def test_figures_count_viewers_retention_clicks_and_the_funnel(tmp_path: Path) -> None:
    f = load_figures(_session(tmp_path / "session-a.sqlite"))
    assert (f.unique_viewers, f.peak_viewers, f.platforms) == (10, 10, {"hub": 10})
    assert [(s.id, s.kind) for s in f.segments] == [("episode", "drama"), ("ending-a", "drama"), ("live", "live")]
    (switch,) = f.switches
    assert (switch.from_segment, switch.present, switch.stayed, switch.window_s) == ("ending-a", 10, 7, 60.0)
    assert [(p.final, p.votes_received, len(p.times)) for p in f.polls] == [((6, 4), 10, 3)]
    assert [(m.marker, m.clicks, m.clickers) for m in f.moments] == [("card-live", 5, 4)]
    assert (f.funnel.watched, f.funnel.stayed, f.funnel.clicked) == (10, 10, 4)
    assert (f.danmaku_total, f.likes_total, f.gifts_by_name) == (5, 7, {"小心心": (2, 2.0)})
    assert f.danmaku_per_min[:4] == [0, 2, 2, 1] and sum(f.danmaku_per_min) == 5
    assert f.key_figures()["retention_first_switch"] == 0.7
    assert f.segments[-1].present_start == 10 and f.segments[-1].retained == 7


def test_viewer_text_is_escaped_in_the_html_and_csv_cells_cannot_be_formulas(tmp_path: Path) -> None:
    hostile = "<script>alert('x')</script>"
    f = load_figures(_session(tmp_path / "session-h.sqlite", nick=hostile))
    page = render_html(f, translator_for("en"))
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;1" in page
    assert page.count("data:image/png;base64,") == 7
    f.top_chatters = [("hub", "=HYPERLINK(\"http://x\")", 1)]
    written = write_csv(f, tmp_path / "csv")
    assert {p.name for p in written} == {f"session-h-{n}.csv" for n in csv_tables(f)}
    assert "'=HYPERLINK" not in (tmp_path / "csv" / "session-h-summary.csv").read_text(encoding="utf-8-sig")


def test_two_sessions_compared_and_the_sessions_table(tmp_path: Path) -> None:
    a = _session(tmp_path / "session-a.sqlite", leavers=5, branch="ending-a")
    b = _session(tmp_path / "session-b.sqlite", leavers=1, branch="ending-b")
    broken = tmp_path / "session-c.sqlite"
    broken.write_bytes(b"not a database")
    comparison = compare(a, b)
    assert comparison.verdict(lambda s: s) == "session-b kept more viewers into live (90.0 % vs 50.0 %), branches: ending-b"
    assert ("live", "50.0 % (5/10)", "90.0 % (9/10)") in comparison.segment_rows()
    rows = sessions_table([a, b, broken])
    assert [r["session"] for r in rows] == ["session-a", "session-b", "session-c"] and "error" in rows[2]
    zh = comparison.verdict(translator_for("zh_CN"))
    assert "session-b" in zh and "kept more viewers" not in zh


def test_report_command_writes_the_latest_session_and_compares(tmp_path: Path, studio_home: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from studio.cli import main
    from studio.sessiondata.store import sessions_dir

    _session(sessions_dir() / "session-20260101-200000.sqlite", leavers=4)
    _session(sessions_dir() / "session-20260102-200000.sqlite", leavers=2)
    out = tmp_path / "r.html"
    assert main(["report", "--last", "-o", str(out), "--csv", str(tmp_path / "csv"), "--lang", "zh_CN"]) == 0
    captured = capsys.readouterr()
    assert "100%" in captured.err and "session-20260102-200000" in out.read_text(encoding="utf-8")
    assert main(["report", "--compare", "session-20260101-200000", "session-20260102-200000"]) == 0
    assert "session-20260102-200000 kept more viewers" in capsys.readouterr().out
    assert main(["report", "--list"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["report", "nope"]) == 2


def test_bench_report_runs_and_reports_its_figures(tmp_path: Path) -> None:
    from studio.bench import benchmarks

    result = benchmarks()["report"].run(argparse.Namespace(minutes=0.05, rate=500, keep=tmp_path / "b.sqlite"))
    assert result["rows_written"] > 0 and result["dropped"] == 0
    assert {"cores", "target_cores", "ok"} <= result["writer"].keys()
    assert {"render_s", "target_s", "ok"} <= result["report"].keys()


def test_every_report_string_has_a_chinese_translation() -> None:
    catalog = json.loads((ROOT / "resources" / "i18n" / "zh_CN.json").read_text(encoding="utf-8"))
    files = [*(ROOT / "studio" / "report").glob("*.py"), ROOT / "widgets" / "report_window.py"]
    used = {m.group(1) for p in files if p.exists()
            for m in re.finditer(r'\btr\(\s*"((?:[^"\\]|\\.)*)"', p.read_text(encoding="utf-8"))}
    assert len(used) > 30
    assert not sorted(used - catalog.keys())


def test_product_card_frames_are_host_only_and_round_trip() -> None:
    from studio.interaction.messages import ProductCard
    from studio.interaction.protocol import (
        ProtocolError,
        encode_message,
        parse_host_frame,
        parse_viewer_frame,
    )

    card = parse_host_frame(json.loads(encode_message(ProductCard(product="口红", moment="card-live", state="hide"))))
    assert isinstance(card, ProductCard) and (card.product, card.moment, card.state) == ("口红", "card-live", "hide")
    with pytest.raises(ProtocolError, match="may not send"):
        parse_viewer_frame({"type": "product_card", "product": "x"})
    with pytest.raises(ProtocolError, match="show or hide"):
        parse_host_frame({"type": "product_card", "product": "x", "state": "sold"})
