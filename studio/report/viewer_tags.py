"""Viewer tags: what each viewer (platform + platform user id) did in one or more sessions, and the
tags the rules (``tag_rules``) give them, exported as CSV segments for the shop's CRM.

Facts per viewer: the drama segments watched (present during them: an enter..leave span, or any
action inside the segment, since platform chat often sends no enter), whether they stayed into a
live segment after watching drama, each vote (the option's text and whether the branch took it),
product cards clicked, gifts, danmaku and likes. Across sessions the facts add up per viewer.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.report.export import safe_cell
from studio.report.figures import _Presence, _rows
from studio.report.tag_rules import Rule, globs, matches, slug
from studio.sessiondata.schema import open_database

Progress = Callable[[float, str], None]
ACTIONS = ("danmaku", "like", "gift", "vote", "product_click")


@dataclass(frozen=True)
class VoteFact:
    session: str
    poll: str
    question: str
    option: int
    option_text: str
    won: bool | None  # None: no branch was decided by this poll


@dataclass
class ViewerFacts:
    platform: str
    user: str
    nick: str = ""
    sessions: set[str] = field(default_factory=set)
    watched: set[str] = field(default_factory=set)  # drama segment ids (and titles, for matching)
    watched_titles: set[str] = field(default_factory=set)
    stayed_into_live: bool = False
    votes: list[VoteFact] = field(default_factory=list)
    clicks: Counter[str] = field(default_factory=Counter)
    gifts: int = 0
    gift_value: float = 0.0
    danmaku: int = 0
    likes: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0

    @property
    def key(self) -> tuple[str, str]:
        return self.platform, self.user


@dataclass(frozen=True)
class _Seg:
    id: str
    title: str
    kind: str
    start: float
    end: float


def session_facts(path: Path | str, into: dict[tuple[str, str], ViewerFacts] | None = None) -> dict[
        tuple[str, str], ViewerFacts]:
    """Add one session database's viewers to ``into`` (a new dict when None)."""
    facts = {} if into is None else into
    db = open_database(Path(path), readonly=True)
    try:
        _read_session(db, Path(path).stem, facts)
    finally:
        db.close()
    return facts


def viewer_facts(paths: Iterable[Path], progress: Progress | None = None) -> list[ViewerFacts]:
    """Every viewer of these sessions, their facts added up; sorted by platform, then user."""
    paths = list(paths)
    facts: dict[tuple[str, str], ViewerFacts] = {}
    for i, path in enumerate(paths):
        if progress is not None:
            progress(i / max(1, len(paths)), path.stem)
        session_facts(path, facts)
    if progress is not None:
        progress(1.0, "tags")
    return sorted(facts.values(), key=lambda f: (f.platform, f.user))


def _read_session(db: sqlite3.Connection, session: str, facts: dict[tuple[str, str], ViewerFacts]) -> None:
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    first, last = db.execute("SELECT MIN(t), MAX(t) FROM events").fetchone()
    started = float(meta.get("started", first or 0.0))
    ended = max(float(meta.get("ended", last or started)), float(last or started))
    presence = _Presence([(r[0], r[1], r[2], r[3]) for r in _rows(db, ("enter", "leave"))], ended)
    seg_rows = _rows(db, ("segment",))
    segments = [_Seg(r[5], r[4], r[7], r[0], seg_rows[i + 1][0] if i + 1 < len(seg_rows) else ended)
                for i, r in enumerate(seg_rows)]

    def viewer(platform: str, user: str, nick: str, t: float) -> ViewerFacts:
        f = facts.get((platform, user))
        if f is None:
            f = facts[(platform, user)] = ViewerFacts(platform, user, first_seen=t, last_seen=t)
        if nick:
            f.nick = nick
        f.sessions.add(session)
        f.first_seen, f.last_seen = min(f.first_seen, t), max(f.last_seen, t)
        return f

    for r in _rows(db, ("enter", "leave")):
        viewer(r[2], r[3], r[4], r[0])
    # what each viewer did, and when (actions count as presence inside a segment)
    acted: dict[tuple[str, str], list[float]] = {}
    polls = _polls(db)
    for t, kind, platform, user, nick, ref, value, text in _rows(db, ACTIONS):
        if not user:
            continue
        f = viewer(platform, user, nick, t)
        acted.setdefault((platform, user), []).append(t)
        if kind == "danmaku":
            f.danmaku += 1
        elif kind == "like":
            f.likes += int(value) or 1
        elif kind == "gift":
            f.gifts += int(text) if text.isdigit() else 1
            f.gift_value += float(value)
        elif kind == "product_click":
            f.clicks[ref] += 1
        elif kind == "vote":
            question, options, winner = polls.get(ref, ("", (), None))
            option = int(value)
            text_of = options[option] if 0 <= option < len(options) else str(option)
            f.votes.append(VoteFact(session, ref, question, option, text_of,
                                    None if winner is None else option == winner))
    for (platform, user), f in facts.items():
        if session not in f.sessions:
            continue
        key = f"{platform}\x1f{user}"
        spans = presence.intervals.get(key, [])
        times = acted.get((platform, user), [])

        def present(s: _Seg, spans: list[tuple[float, float]] = spans, times: list[float] = times) -> bool:
            if any(a < s.end and b > s.start for a, b in spans):
                return True
            i = bisect.bisect_left(times, s.start)  # times are in order (rows come sorted by t)
            return i < len(times) and times[i] < s.end

        saw_drama = False
        for s in segments:
            if not present(s):
                continue
            if s.kind == "drama":
                saw_drama = True
                f.watched.add(s.id)
                f.watched_titles.add(s.title)
            elif s.kind == "live" and saw_drama:
                f.stayed_into_live = True


def _polls(db: sqlite3.Connection) -> dict[str, tuple[str, tuple[str, ...], int | None]]:
    """poll id -> (question, options, the option its branch took or None). A branch row names its
    winning option's text, not the poll: it belongs to the poll whose last update is nearest
    before it (within a second) and that has that option."""
    last: dict[str, tuple[float, str, tuple[str, ...]]] = {}
    for r in _rows(db, ("poll",)):
        try:
            options = tuple(str(o) for o in json.loads(r[7] or "{}").get("options", ()))
        except (ValueError, AttributeError):
            options = ()
        last[r[5]] = (r[0], r[4], options)
    winners: dict[str, int] = {}
    for r in _rows(db, ("branch",)):
        t, option_text, winner = r[0], r[4], int(r[6])
        candidates = [(t - pt, pid) for pid, (pt, _q, opts) in last.items()
                      if pt <= t + 1.0 and 0 <= winner < len(opts) and opts[winner] == option_text
                      and pid not in winners]
        if candidates:
            winners[min(candidates)[1]] = winner
    return {pid: (q, opts, winners.get(pid)) for pid, (_t, q, opts) in last.items()}


# ---- rules ---------------------------------------------------------------------------------------


def _in_range(value: float, arg: dict[str, float]) -> bool:
    return value >= arg.get("min", float("-inf")) and value <= arg.get("max", float("inf"))


def tags_for(f: ViewerFacts, rules: list[Rule]) -> list[str]:
    """The viewer's tags, in rule order, each once."""
    out: dict[str, None] = {}
    for rule in rules:
        for tag in _apply(f, rule):
            out.setdefault(tag, None)
    return list(out)


def _apply(f: ViewerFacts, rule: Rule) -> list[str]:
    names: list[dict[str, str]] = [{}]  # one tag per matching product / vote
    for key, arg in rule.when.items():
        if key == "voted":
            found = [v for v in f.votes if _vote_matches(v, arg)]
            if not found:
                return []
            names = [{**n, "{option}": v.option_text, "{poll}": v.question or v.poll} for n in names for v in found]
        elif key == "clicked":
            pats = globs(arg, "clicked")
            products = [p for p in sorted(f.clicks) if matches(p, pats)]
            if not products:
                return []
            names = [{**n, "{product}": p} for n in names for p in products]
        elif not _holds(f, key, arg):
            return []
    tags = []
    for n in names:
        tag = rule.tag
        for placeholder, value in n.items():
            tag = tag.replace(placeholder, slug(value) or "-")
        tag = slug(tag)
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _holds(f: ViewerFacts, key: str, arg: Any) -> bool:
    """The conditions that give no placeholder: true or false for the viewer."""
    if key == "watched":
        if "segment" in arg and not any(matches(s, globs(arg["segment"], "segment"))
                                        for s in f.watched | f.watched_titles):
            return False
        return _in_range(len(f.watched), {k: v for k, v in arg.items() if k != "segment"})
    if key == "stayed_into_live":
        return f.stayed_into_live == arg
    if key == "gifts":
        return f.gifts >= arg.get("min_count", 0) and f.gift_value >= arg.get("min_value", 0)
    if key in ("danmaku", "likes"):
        return _in_range(getattr(f, key), arg)
    if key == "sessions":
        return _in_range(len(f.sessions), arg)
    raise ValueError(f"unknown condition {key!r}")


def _vote_matches(v: VoteFact, arg: dict[str, object]) -> bool:
    if "poll" in arg and not (matches(v.poll, globs(arg["poll"], "poll"))
                              or matches(v.question, globs(arg["poll"], "poll"))):
        return False
    if "option" in arg:
        pats = globs(arg["option"], "option")
        if not (matches(v.option_text, pats) or matches(str(v.option), pats)):
            return False
    return "won" not in arg or v.won is arg["won"]


# ---- segments as CSV ---------------------------------------------------------------------------

CSV_HEADER = ("platform", "user_id", "nick", "tags", "sessions", "episodes_watched", "stayed_into_live",
              "votes", "products_clicked", "gifts", "gift_value", "danmaku", "likes", "first_seen", "last_seen")


@dataclass(frozen=True)
class TaggedViewer:
    facts: ViewerFacts
    tags: tuple[str, ...]

    def row(self) -> list[object]:
        f = self.facts
        votes = "; ".join(f"{v.question or v.poll}: {v.option_text}" for v in f.votes)
        clicks = "; ".join(f"{p} x{n}" for p, n in sorted(f.clicks.items()))
        return [f.platform, f.user, f.nick, " ".join(self.tags), len(f.sessions), len(f.watched),
                "yes" if f.stayed_into_live else "no", votes, clicks, f.gifts, round(f.gift_value, 2), f.danmaku,
                f.likes, _iso(f.first_seen), _iso(f.last_seen)]


def tag_viewers(facts: list[ViewerFacts], rules: list[Rule]) -> list[TaggedViewer]:
    return [TaggedViewer(f, tuple(tags_for(f, rules))) for f in facts]


def segments(tagged: list[TaggedViewer]) -> dict[str, list[TaggedViewer]]:
    """tag -> its viewers (a CRM segment), tags sorted by size, then name."""
    by_tag: dict[str, list[TaggedViewer]] = {}
    for v in tagged:
        for t in v.tags:
            by_tag.setdefault(t, []).append(v)
    return dict(sorted(by_tag.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def tags_csv(tagged: list[TaggedViewer], only_tag: str | None = None) -> str:
    """One row per viewer (with ``only_tag``: the viewers of that segment). Viewer text (nick,
    option, product) is kept from being run as a spreadsheet formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for v in tagged:
        if only_tag is None or only_tag in v.tags:
            writer.writerow([safe_cell(c) for c in v.row()])
    return out.getvalue()


def write_tags_csv(tagged: list[TaggedViewer], path: Path, only_tag: str | None = None) -> Path:
    """UTF-8 with a BOM, so spreadsheet programs read the Chinese right."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tags_csv(tagged, only_tag).encode("utf-8-sig"))
    return path


def _iso(t: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else ""
