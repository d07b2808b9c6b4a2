"""What a session's report shows, computed from its database: plain numbers, no drawing.

Presence: a viewer (platform + user) is present from an ``enter`` to its ``leave`` (several open
connections of one viewer count once); one still present at the end stays to the session's end.
Retention across a drama→live switch: of the viewers present at the switch, those still present
``RETENTION_WINDOW_S`` later (or at the end of the live segment, whichever is first).
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.sessiondata.schema import open_database

RETENTION_WINDOW_S = 60.0
CLICK_GRACE_S = 10.0  # a click just after the card went away still belongs to its moment
RATE_BIN_S = 60.0
MAX_BINS = 24 * 60  # a day of minutes: a broken clock in a database must not eat the memory
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Segment:
    id: str
    title: str
    kind: str  # drama | live
    start: float
    end: float
    present_start: int = 0
    present_end: int = 0
    retained: int = 0  # present at its start and still at its end

    @property
    def retention(self) -> float | None:
        return self.retained / self.present_start if self.present_start else None


@dataclass(frozen=True)
class Switch:
    t: float
    from_segment: str
    to_segment: str
    present: int
    stayed: int
    window_s: float

    @property
    def retention(self) -> float | None:
        return self.stayed / self.present if self.present else None


@dataclass(frozen=True)
class PollSeries:
    poll: str
    question: str
    options: tuple[str, ...]
    times: tuple[float, ...]
    counts: tuple[tuple[int, ...], ...]
    votes_received: int  # raw vote messages for this poll (chat votes are in counts only)

    @property
    def final(self) -> tuple[int, ...]:
        return self.counts[-1] if self.counts else tuple(0 for _ in self.options)


@dataclass(frozen=True)
class ProductMoment:
    marker: str
    product: str  # the card's source
    segment: str
    start: float
    end: float
    clicks: int
    clickers: int


@dataclass(frozen=True)
class Funnel:
    watched: int  # present during a drama segment
    stayed: int  # of those, present during a live segment
    clicked: int  # of those, clicked a product


@dataclass(frozen=True)
class Branch:
    t: float
    branch: str
    option: str
    target: str
    counts: tuple[int, ...]
    decided_by: str


@dataclass
class SessionFigures:
    path: Path
    name: str
    started: float
    ended: float
    viewer_times: list[float] = field(default_factory=list)
    viewer_counts: list[int] = field(default_factory=list)
    peak_viewers: int = 0
    unique_viewers: int = 0
    platforms: dict[str, int] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    switches: list[Switch] = field(default_factory=list)
    branches: list[Branch] = field(default_factory=list)
    danmaku_total: int = 0
    likes_total: int = 0
    danmaku_per_min: list[float] = field(default_factory=list)
    likes_per_min: list[float] = field(default_factory=list)
    polls: list[PollSeries] = field(default_factory=list)
    votes_total: int = 0
    moments: list[ProductMoment] = field(default_factory=list)
    clicks_total: int = 0
    clicks_by_product: dict[str, int] = field(default_factory=dict)
    funnel: Funnel = Funnel(0, 0, 0)
    gifts_by_name: dict[str, tuple[int, float]] = field(default_factory=dict)
    gift_value_total: float = 0.0
    top_chatters: list[tuple[str, str, int]] = field(default_factory=list)  # (platform, nick, danmaku)
    health_times: list[float] = field(default_factory=list)
    health_bitrate_kbps: list[float] = field(default_factory=list)
    health_lagged: list[int] = field(default_factory=list)
    events_total: int = 0

    @property
    def duration_s(self) -> float:
        return max(0.0, self.ended - self.started)

    @property
    def first_switch_retention(self) -> float | None:
        return self.switches[0].retention if self.switches else None

    def key_figures(self) -> dict[str, object]:
        """The row of the sessions table (also the comparison's)."""
        retention = self.first_switch_retention
        return {
            "session": self.name, "started": self.started, "duration_s": round(self.duration_s, 1),
            "peak_viewers": self.peak_viewers, "unique_viewers": self.unique_viewers,
            "danmaku": self.danmaku_total, "likes": self.likes_total, "votes": self.votes_total,
            "product_clicks": self.clicks_total, "gift_value": round(self.gift_value_total, 2),
            "retention_first_switch": None if retention is None else round(retention, 3),
            "branches": " → ".join(b.target for b in self.branches),
        }  # fmt: skip


class _Presence:
    """Per-viewer presence intervals from enter/leave rows."""

    def __init__(self, rows: list[tuple[float, str, str, str]], end: float) -> None:
        open_count: dict[str, int] = defaultdict(int)
        since: dict[str, float] = {}
        self.intervals: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.times: list[float] = []
        self.counts: list[int] = []
        present = 0
        for t, kind, platform, user in rows:
            key = f"{platform}\x1f{user}"
            if kind == "enter":
                open_count[key] += 1
                if open_count[key] == 1:
                    since[key] = t
                    present += 1
            elif open_count[key] > 0:
                open_count[key] -= 1
                if open_count[key] == 0:
                    self.intervals[key].append((since.pop(key), t))
                    present -= 1
            else:
                continue  # a leave without its enter (the session started after it): nothing to close
            self.times.append(t)
            self.counts.append(present)
        for key, start in since.items():
            self.intervals[key].append((start, end))
        self.viewers = set(self.intervals)

    def present_at(self, t: float) -> set[str]:
        return {k for k, spans in self.intervals.items() if any(a <= t < b for a, b in spans)}

    def present_during(self, start: float, end: float) -> set[str]:
        return {k for k, spans in self.intervals.items() if any(a < end and b > start for a, b in spans)}

    def count_at(self, t: float) -> int:
        i = bisect.bisect_right(self.times, t) - 1
        return self.counts[i] if i >= 0 else 0


def _rows(db: sqlite3.Connection, kinds: tuple[str, ...]) -> list[tuple]:  # type: ignore[type-arg]
    marks = ",".join("?" * len(kinds))
    return db.execute(f"SELECT t, kind, platform, user, nick, ref, value, text FROM events "  # noqa: S608
                      f"WHERE kind IN ({marks}) ORDER BY t, id", kinds).fetchall()


def _per_bin(times: list[float], weights: list[float], start: float, end: float) -> list[float]:
    bins = [0.0] * min(MAX_BINS, int(max(0.0, end - start) // RATE_BIN_S) + 1)
    for t, w in zip(times, weights, strict=True):
        i = min(len(bins) - 1, max(0, int((t - start) // RATE_BIN_S)))
        bins[i] += w
    return bins


def load_figures(path: Path | str, progress: Progress | None = None) -> SessionFigures:
    """Read a session database and compute its report's figures."""
    step = progress or (lambda _f, _s: None)
    path = Path(path)
    db = open_database(path, readonly=True)
    try:
        return _compute(db, path, step)
    finally:
        db.close()


def _compute(db: sqlite3.Connection, path: Path, step: Progress) -> SessionFigures:
    step(0.05, "reading")
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    first, last, total = db.execute("SELECT MIN(t), MAX(t), COUNT(*) FROM events").fetchone()
    started = float(meta.get("started", first or 0.0))
    ended = float(meta.get("ended", last or started))
    ended = max(ended, float(last or started))
    fig = SessionFigures(path=path, name=path.stem, started=started, ended=ended, events_total=int(total))

    step(0.2, "viewers")
    presence = _Presence([(r[0], r[1], r[2], r[3]) for r in _rows(db, ("enter", "leave"))], ended)
    fig.viewer_times, fig.viewer_counts = [started, *presence.times, ended], [0, *presence.counts]
    fig.viewer_counts.append(fig.viewer_counts[-1])
    fig.peak_viewers = max(fig.viewer_counts)
    fig.unique_viewers = len(presence.viewers)
    fig.platforms = dict(Counter(k.split("\x1f", 1)[0] for k in presence.viewers))

    step(0.35, "segments")
    seg_rows = _rows(db, ("segment",))
    for i, r in enumerate(seg_rows):
        end = seg_rows[i + 1][0] if i + 1 < len(seg_rows) else ended
        at_start, at_end = presence.present_at(r[0]), presence.present_at(max(r[0], end - 1e-3))
        fig.segments.append(Segment(r[5], r[4], r[7], r[0], end, len(at_start), len(at_end), len(at_start & at_end)))
    for a, b in zip(fig.segments, fig.segments[1:], strict=False):
        if a.kind == "drama" and b.kind == "live":
            until = min(b.start + RETENTION_WINDOW_S, b.end)
            at_switch = presence.present_at(b.start)
            later = presence.present_at(max(b.start, until - 1e-3))
            fig.switches.append(Switch(b.start, a.id, b.id, len(at_switch), len(at_switch & later), until - b.start))
    for r in _rows(db, ("branch",)):
        detail = json.loads(r[7] or "{}")
        fig.branches.append(Branch(r[0], r[5], r[4], str(detail.get("target", "")),
                                   tuple(detail.get("counts", ())), str(detail.get("decided_by", ""))))

    step(0.5, "chat")
    # chat is most of a session's rows: counted by SQLite per minute, never loaded row by row
    for kind, weight, target in (("danmaku", "1", "danmaku_per_min"), ("like", "value", "likes_per_min")):
        binned = db.execute(f"SELECT CAST((t - ?) / ? AS INTEGER) AS m, SUM({weight}) FROM events "  # noqa: S608
                            "WHERE kind = ? GROUP BY m", (started, RATE_BIN_S, kind)).fetchall()
        setattr(fig, target, _per_bin([started + m * RATE_BIN_S for m, _ in binned], [float(n) for _, n in binned],
                                      started, ended))
    fig.danmaku_total = int(sum(fig.danmaku_per_min))
    fig.likes_total = int(sum(fig.likes_per_min))
    fig.top_chatters = [(p, n, int(c)) for p, n, c in db.execute(
        "SELECT platform, CASE WHEN nick != '' THEN nick ELSE user END AS who, COUNT(*) AS n FROM events "
        "WHERE kind = 'danmaku' GROUP BY platform, who ORDER BY n DESC, who LIMIT 10")]

    step(0.65, "polls")
    votes = dict(db.execute("SELECT ref, COUNT(*) FROM events WHERE kind = 'vote' GROUP BY ref").fetchall())
    fig.votes_total = sum(votes.values())
    series: dict[str, list[tuple]] = defaultdict(list)  # type: ignore[type-arg]
    for r in _rows(db, ("poll",)):
        series[r[5]].append(r)
    for poll, rows in series.items():
        states = [json.loads(r[7]) for r in rows]
        fig.polls.append(PollSeries(poll, rows[-1][4], tuple(states[-1]["options"]), tuple(r[0] for r in rows),
                                    tuple(tuple(s["counts"]) for s in states), votes.get(poll, 0)))

    step(0.8, "products")
    clicks = _rows(db, ("product_click",))
    fig.clicks_total = len(clicks)
    fig.clicks_by_product = dict(Counter(r[5] for r in clicks))
    shown: dict[str, tuple] = {}  # type: ignore[type-arg]
    spans: list[tuple[tuple, float]] = []  # type: ignore[type-arg]
    for r in _rows(db, ("product_shown", "product_hidden")):
        if r[1] == "product_shown":
            shown[r[5]] = r
        elif r[5] in shown:
            spans.append((shown.pop(r[5]), r[0]))
    spans += [(r, ended) for r in shown.values()]
    for r, end in sorted(spans, key=lambda s: s[0][0]):
        inside = [c for c in clicks if r[0] <= c[0] <= end + CLICK_GRACE_S]
        fig.moments.append(ProductMoment(r[5], r[7], r[4], r[0], end, len(inside), len({(c[2], c[3]) for c in inside})))
    drama = [s for s in fig.segments if s.kind == "drama"]
    live = [s for s in fig.segments if s.kind == "live"]
    watched = set().union(*(presence.present_during(s.start, s.end) for s in drama)) if drama else set()
    stayed = watched & (set().union(*(presence.present_during(s.start, s.end) for s in live)) if live else set())
    clickers = {f"{c[2]}\x1f{c[3]}" for c in clicks}
    fig.funnel = Funnel(len(watched), len(stayed), len(stayed & clickers))

    step(0.9, "gifts")
    by_name: dict[str, tuple[int, float]] = {}
    for name, count, value in db.execute(
            "SELECT ref, SUM(CASE WHEN text GLOB '[0-9]*' THEN CAST(text AS INTEGER) ELSE 1 END), SUM(value) "
            "FROM events WHERE kind = 'gift' GROUP BY ref"):
        by_name[name] = (int(count), float(value))
    fig.gifts_by_name = by_name
    fig.gift_value_total = sum(v for _, v in by_name.values())
    for t, bps, lagged, _viewers in db.execute("SELECT t, bitrate_bps, lagged, viewers FROM health ORDER BY t"):
        fig.health_times.append(t)
        fig.health_bitrate_kbps.append(bps / 1000)
        fig.health_lagged.append(lagged)
    step(1.0, "figures")
    return fig
