"""Viewer tags from a session database written by the real SessionWriter (viewer messages turned
into rows by the recorder's ``message_event``): exact tags per viewer, rules in JSON, tags across
sessions, the CRM CSV (BOM, formula-safe) and the ``studio tags`` command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.interaction.messages import Danmaku, Enter, Gift, Leave, ProductClick, Vote, platform_user
from studio.report.tag_rules import default_rules, load_rules, rules_from_dict, save_rules
from studio.report.viewer_tags import segments, tag_viewers, tags_csv, viewer_facts, write_tags_csv
from studio.sessiondata import SessionWriter
from studio.sessiondata.recorder import message_event

T0 = 1_700_000_000.0
BILI = platform_user("bilibili", 7)


def _rundown_rows(w: SessionWriter, t0: float) -> None:
    """What the RundownRecorder and record_poll write for the demo show: episode (0-30 s) with the
    poll 买/不买, the branch to ending A (30-60 s), live (60 s to the end)."""
    w.add("segment", t=t0, ref="episode", nick="第1集 · 相遇", text="drama")
    for k, counts in enumerate(([1, 0], [1, 1])):
        w.add("poll", t=t0 + 20 + k, ref="poll-1", nick="她应该买吗?",
              text=json.dumps({"options": ["买", "不买"], "counts": counts, "state": "open"}, ensure_ascii=False))
    w.add("poll", t=t0 + 29.5, ref="poll-1", nick="她应该买吗?",
          text=json.dumps({"options": ["买", "不买"], "counts": [1, 1], "state": "closed"}, ensure_ascii=False))
    w.add("branch", t=t0 + 30, ref="branch-ending", nick="买", value=0,
          text=json.dumps({"segment": "episode", "target": "ending-a", "decided_by": "default", "counts": [1, 1]}))
    w.add("segment", t=t0 + 30, ref="ending-a", nick="结局A · 买下了", text="drama")
    w.add("segment", t=t0 + 60, ref="live", nick="主播带货", text="live")
    w.add("product_shown", t=t0 + 61, ref="card-live", text="lipstick", nick="live")


def _send(w: SessionWriter, t: float, message: object) -> None:
    event = message_event(message)  # type: ignore[arg-type]
    assert event is not None
    w.add_event(event._replace(t=t))


def session_one(path: Path) -> Path:
    with SessionWriter(path) as w:
        w.set_meta("started", str(T0))
        _rundown_rows(w, T0)
        # 小红 watches from the start, votes 买, clicks the lipstick in the live part, stays
        _send(w, T0 + 1, Enter(user="u1", nick="小红"))
        _send(w, T0 + 20, Vote(user="u1", nick="小红", poll="poll-1", option=0))
        _send(w, T0 + 62, ProductClick(user="u1", nick="小红", product="lipstick"))
        # a viewer whose nick is a spreadsheet formula votes 不买 and leaves during ending A
        _send(w, T0 + 2, Enter(user="u2", nick="=HYPERLINK(\"http://x\")"))
        _send(w, T0 + 21, Vote(user="u2", nick="=HYPERLINK(\"http://x\")", poll="poll-1", option=1))
        _send(w, T0 + 40, Leave(user="u2"))
        # a bilibili viewer (platform chat sends no enter): ten danmaku in the episode, gifts in the live
        for i in range(10):
            _send(w, T0 + 5 + i, Danmaku(user=BILI, platform="bilibili", nick="阿B", text=f"好看{i}"))
        _send(w, T0 + 70, Gift(user=BILI, platform="bilibili", nick="阿B", name="小电视", count=3, value=50.0))
        # u3 comes for the live part only and clicks two products, one named like a formula
        _send(w, T0 + 65, Enter(user="u3", nick="路人"))
        _send(w, T0 + 66, ProductClick(user="u3", nick="路人", product="Lip Stick 口红"))
        _send(w, T0 + 67, ProductClick(user="u3", nick="路人", product="Lip Stick 口红"))
        _send(w, T0 + 68, ProductClick(user="u3", nick="路人", product="@SUM(A1)"))
        w.set_meta("ended", str(T0 + 200))
    return path


def session_two(path: Path) -> Path:
    """A week later 小红 comes back and watches the episode only."""
    t0 = T0 + 7 * 86400
    with SessionWriter(path) as w:
        w.set_meta("started", str(t0))
        _rundown_rows(w, t0)
        _send(w, t0 + 1, Enter(user="u1", nick="小红"))
        _send(w, t0 + 25, Leave(user="u1"))
        w.set_meta("ended", str(t0 + 100))
    return path


@pytest.fixture
def sessions(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "sessions"
    folder.mkdir()
    return [session_one(folder / "session-20231114-221320.sqlite"),
            session_two(folder / "session-20231121-221320.sqlite")]


def tags_by_viewer(paths: list[Path]) -> dict[str, list[str]]:
    return {f"{v.facts.platform}/{v.facts.user}": list(v.tags)
            for v in tag_viewers(viewer_facts(paths), default_rules())}


def test_tags_from_one_session_are_exact(sessions: list[Path]) -> None:
    assert tags_by_viewer(sessions[:1]) == {
        "bilibili/bilibili:7": ["watched-drama", "stayed-into-live", "gifter", "big-gifter", "chatty"],
        "hub/u1": ["voted-buy", "voted-买", "voted-with-the-winner", "clicked-lipstick", "watched-drama",
                   "stayed-into-live"],
        "hub/u2": ["voted-skip", "voted-不买", "watched-drama", "left-before-live"],
        "hub/u3": ["clicked-@sum(a1)", "clicked-lip-stick-口红"],
    }


def test_facts_from_one_session(sessions: list[Path]) -> None:
    facts = {f.user: f for f in viewer_facts(sessions[:1])}
    u1, u2, bili, u3 = facts["u1"], facts["u2"], facts[BILI], facts["u3"]
    assert (u1.nick, sorted(u1.watched), u1.stayed_into_live) == ("小红", ["ending-a", "episode"], True)
    assert [(v.question, v.option_text, v.won) for v in u1.votes] == [("她应该买吗?", "买", True)]
    assert [(v.option_text, v.won) for v in u2.votes] == [("不买", False)]
    assert (sorted(u2.watched), u2.stayed_into_live) == (["ending-a", "episode"], False)
    assert (bili.danmaku, bili.gifts, bili.gift_value, sorted(bili.watched)) == (10, 3, 150.0, ["episode"])
    assert dict(u3.clicks) == {"Lip Stick 口红": 2, "@SUM(A1)": 1} and not u3.watched


def test_tags_across_sessions(sessions: list[Path]) -> None:
    tags = tags_by_viewer(sessions)
    assert tags["hub/u1"] == ["voted-buy", "voted-买", "voted-with-the-winner", "clicked-lipstick",
                              "watched-drama", "stayed-into-live", "returning-viewer"]
    assert "returning-viewer" not in tags["hub/u2"]
    facts = {f.user: f for f in viewer_facts(sessions)}
    assert len(facts["u1"].sessions) == 2 and facts["u1"].stayed_into_live  # in the first session


def test_rules_are_editable_json(sessions: list[Path], tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.json"
    save_rules(rules_from_dict([
        {"tag": "lipstick-fan", "when": {"clicked": ["lip*", "*口红*"]}},
        {"tag": "buyer-who-stayed", "when": {"voted": {"option": "买"}, "stayed_into_live": True}},
        {"tag": "saw-{poll}", "when": {"voted": {"poll": "*买*"}}},
        {"tag": "saw-ending-a", "when": {"watched": {"segment": "结局A*"}}},
        {"tag": "quiet", "when": {"danmaku": {"max": 0}, "likes": {"max": 0}}},
    ]), rules_file)
    rules = load_rules(rules_file)
    tagged = {v.facts.user: list(v.tags) for v in tag_viewers(viewer_facts(sessions[:1]), rules)}
    assert tagged == {
        BILI: [],
        "u1": ["lipstick-fan", "buyer-who-stayed", "saw-她应该买吗?", "saw-ending-a", "quiet"],
        "u2": ["saw-她应该买吗?", "saw-ending-a", "quiet"],
        "u3": ["lipstick-fan", "quiet"],
    }
    for bad, message in (
        ([{"tag": "x", "when": {"bought": True}}], "unknown condition"),
        ([{"tag": "x-{nick}", "when": {"clicked": "*"}}], "unknown placeholder"),
        ([{"tag": "x-{product}", "when": {"danmaku": {"min": 1}}}], "needs a 'clicked'"),
        ([{"tag": "", "when": {"clicked": "*"}}], "empty tag"),
        ([{"tag": "x", "when": {"gifts": {"min_value": "ten"}}}], "expected a number"),
        ({"schema_version": 9, "rules": []}, "newer"),
    ):
        with pytest.raises(ValueError, match=message):
            rules_from_dict(bad)


def test_csv_for_the_crm_is_utf8_bom_and_formula_safe(sessions: list[Path], tmp_path: Path) -> None:
    tagged = tag_viewers(viewer_facts(sessions[:1]), default_rules())
    path = write_tags_csv(tagged, tmp_path / "out" / "tags.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    by_user = {r["user_id"]: r for r in rows}
    assert by_user["u2"]["nick"] == "'=HYPERLINK(\"http://x\")"  # text, never a formula
    assert by_user["u3"]["products_clicked"] == "'@SUM(A1) x1; Lip Stick 口红 x2"
    assert tuple(by_user["u1"]["tags"].split()) == tagged[1].tags and by_user["u1"]["nick"] == "小红"
    assert by_user[BILI]["gift_value"] == "150.0" and by_user[BILI]["stayed_into_live"] == "yes"
    assert by_user["u1"]["votes"] == "她应该买吗?: 买"
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for c in r.values())
    # one CRM segment: only the viewers with that tag
    segment_rows = list(csv.DictReader(io.StringIO(tags_csv(tagged, "stayed-into-live"))))
    assert sorted(r["user_id"] for r in segment_rows) == [BILI, "u1"]
    sizes = {tag: len(v) for tag, v in segments(tagged).items()}
    assert sizes["watched-drama"] == 3 and sizes["stayed-into-live"] == 2
    assert list(sizes)[0] == "watched-drama"  # the largest segment first


def test_studio_tags_command(sessions: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = sessions[0].parent
    out = tmp_path / "tags.csv"
    assert main(["tags", "--last", "--folder", str(folder), "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["user_id"] for r in rows] == ["u1"]  # the latest session: 小红's return visit
    assert main(["tags", "--all", "--folder", str(folder), "-o", str(out), "--tag", "returning-viewer"]) == 0
    assert [r["user_id"] for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))] == ["u1"]
    assert main(["tags", sessions[0].stem, "--folder", str(folder), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 viewers from 1 session(s)" in printed and "watched-drama: 3" in printed
    assert main(["tags", "--default-rules"]) == 0
    assert rules_from_dict(json.loads(capsys.readouterr().out))
    assert main(["tags", "--folder", str(folder)]) == 2  # no session named: a clear message
    assert "--last" in capsys.readouterr().err
