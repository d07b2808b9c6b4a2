"""A session report as one self-contained HTML page (PNG charts inline as base64) and as CSV.

Everything from viewers (nicknames, danmaku, poll options) is escaped: the page is opened in a
browser, and a nickname like ``<script>`` must stay text.
"""

from __future__ import annotations

import base64
import bisect
import csv
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from studio.report.charts import local_time, render_charts
from studio.report.figures import SessionFigures

Translate = Callable[[str], str]
Progress = Callable[[float, str], None]
_STYLE = """body{font-family:"Noto Sans CJK SC","Noto Sans CJK JP",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}img{max-width:100%;display:block;margin:1em 0}"""


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _heading(text: str) -> str:
    return f"<h2>{html.escape(text)}</h2>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def summary_rows(d: SessionFigures, tr: Translate) -> list[tuple[str, object]]:
    return [
        (tr("Started"), local_time(d.started)),
        (tr("Duration (min)"), f"{d.duration_s / 60:.1f}"),
        (tr("Peak viewers"), d.peak_viewers),
        (tr("Unique viewers"), d.unique_viewers),
        (tr("Danmaku"), d.danmaku_total),
        (tr("Likes"), d.likes_total),
        (tr("Votes"), d.votes_total),
        (tr("Product clicks"), d.clicks_total),
        (tr("Gift value (yuan)"), f"{d.gift_value_total:.2f}"),
        (tr("Retention at the first drama→live switch"), _pct(d.first_switch_retention)),
    ]


def render_html(d: SessionFigures, tr: Translate, charts: dict[str, bytes] | None = None,
                progress: Progress | None = None) -> str:
    charts = charts if charts is not None else render_charts(d, tr, progress)
    title = tr("Session report")
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(d.name)}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}: {html.escape(d.name)}</h1>",
             _table((tr("Figure"), tr("Value")), summary_rows(d, tr))]

    def image(name: str) -> None:
        data = base64.b64encode(charts[name]).decode("ascii")
        parts.append(f"<img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>")

    image("viewers")
    parts.append(_heading(tr("Segments")))
    parts.append(_table((tr("Segment"), tr("Title"), tr("Kind"), tr("Minutes"), tr("Viewers at start"),
                         tr("Viewers at end"), tr("Kept")),
                        [(s.id, s.title, s.kind, f"{(s.end - s.start) / 60:.1f}", s.present_start, s.present_end,
                          _pct(s.retention)) for s in d.segments]))
    if d.branches:
        parts.append(_table((tr("Branch"), tr("Chosen"), tr("Next segment"), tr("Votes"), tr("Decided by")),
                            [(b.branch, b.option, b.target, " / ".join(map(str, b.counts)), b.decided_by)
                             for b in d.branches]))
    parts.append(_heading(tr("Retention across each drama→live switch")))
    image("retention")
    parts.append(_table((tr("Switch"), tr("Viewers at the switch"), tr("Stayed"), tr("Window (s)"), tr("Kept")),
                        [(f"{s.from_segment}→{s.to_segment}", s.present, s.stayed, f"{s.window_s:.0f}",
                          _pct(s.retention)) for s in d.switches]))
    image("chat")
    image("polls")
    parts.append(_table((tr("Poll"), tr("Question"), tr("Result")),
                        [(p.poll, p.question, ", ".join(f"{o}: {c}" for o, c in zip(p.options, p.final, strict=True)))
                         for p in d.polls]))
    image("products")
    parts.append(_table((tr("Product moment"), tr("Product"), tr("Clicks"), tr("Viewers who clicked")),
                        [(m.marker, m.product, m.clicks, m.clickers) for m in d.moments]))
    image("funnel")
    image("gifts")
    parts.append(_heading(tr("Most active viewers")))
    parts.append(_table((tr("Platform"), tr("Viewer"), tr("Danmaku")), d.top_chatters))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(d: SessionFigures, path: Path, tr: Translate, progress: Progress | None = None) -> Path:
    path.write_text(render_html(d, tr, progress=progress), encoding="utf-8")
    return path


def csv_tables(d: SessionFigures) -> dict[str, tuple[list[str], list[list[object]]]]:
    """Each table the report shows, as (header, rows): one CSV file each."""
    minutes = max(len(d.danmaku_per_min), len(d.likes_per_min))
    viewers_at = []
    for m in range(minutes):
        i = bisect.bisect_right(d.viewer_times, d.started + 60 * m) - 1
        viewers_at.append(d.viewer_counts[min(max(i, 0), len(d.viewer_counts) - 1)])
    return {
        "summary": (["figure", "value"], [[k, v] for k, v in d.key_figures().items()]),
        "timeline": (["minute", "viewers", "danmaku", "likes"],
                     [[m, viewers_at[m], d.danmaku_per_min[m], d.likes_per_min[m]] for m in range(minutes)]),
        "segments": (["segment", "title", "kind", "start", "end", "viewers_start", "viewers_end", "kept"],
                     [[s.id, s.title, s.kind, s.start, s.end, s.present_start, s.present_end, s.retained]
                      for s in d.segments]),
        "switches": (["from", "to", "t", "present", "stayed", "window_s"],
                     [[s.from_segment, s.to_segment, s.t, s.present, s.stayed, s.window_s] for s in d.switches]),
        "polls": (["poll", "question", "option", "votes"],
                  [[p.poll, p.question, o, c] for p in d.polls for o, c in zip(p.options, p.final, strict=True)]),
        "products": (["moment", "product", "start", "end", "clicks", "clickers"],
                     [[m.marker, m.product, m.start, m.end, m.clicks, m.clickers] for m in d.moments]),
        "funnel": (["watched", "stayed", "clicked"], [[d.funnel.watched, d.funnel.stayed, d.funnel.clicked]]),
        "gifts": (["gift", "count", "value"], [[n, c, v] for n, (c, v) in d.gifts_by_name.items()]),
    }


def write_csv(d: SessionFigures, folder: Path) -> list[Path]:
    """``<session>-<table>.csv`` per table, UTF-8 with BOM so spreadsheet programs read Chinese."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (header, rows) in csv_tables(d).items():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([[safe_cell(c) for c in row] for row in rows])
        path = folder / f"{d.name}-{name}.csv"
        path.write_text(out.getvalue(), encoding="utf-8-sig")
        written.append(path)
    return written


def safe_cell(value: object) -> object:
    """Spreadsheet formula injection: a viewer's text starting with = + - @ (or a tab or CR, which
    some spreadsheets skip before looking for one) stays text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
