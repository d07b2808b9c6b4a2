"""Across sessions: the table of sessions with their key figures, and two sessions compared
(which branch, which drama kept more viewers)."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from studio.report.figures import SessionFigures, load_figures

Translate = Callable[[str], str]


def sessions_table(paths: Sequence[Path]) -> list[dict[str, object]]:
    """Key figures of each session; a broken database is a row saying why, never an exception."""
    rows: list[dict[str, object]] = []
    for path in paths:
        try:
            rows.append(load_figures(path).key_figures())
        except Exception as exc:  # one damaged file must not hide the others
            rows.append({"session": path.stem, "error": f"{type(exc).__name__}: {exc}"[:200]})
    return rows


@dataclass(frozen=True)
class Comparison:
    a: SessionFigures
    b: SessionFigures

    def rows(self) -> list[tuple[str, object, object]]:
        ka, kb = self.a.key_figures(), self.b.key_figures()
        return [(key, ka[key], kb[key]) for key in ka]

    def segment_rows(self) -> list[tuple[str, str, str]]:
        """Each segment (drama, branch, live) with the share of viewers it kept, side by side."""
        def kept(f: SessionFigures) -> dict[str, str]:
            return {s.id: "—" if s.retention is None else f"{100 * s.retention:.1f} % ({s.retained}/{s.present_start})"
                    for s in f.segments}
        ka, kb = kept(self.a), kept(self.b)
        ids = list(dict.fromkeys([*ka, *kb]))
        return [(i, ka.get(i, ""), kb.get(i, "")) for i in ids]

    def verdict(self, tr: Translate) -> str:
        """Which session (and the branches it took) kept more viewers across its first drama→live switch."""
        ra, rb = self.a.first_switch_retention, self.b.first_switch_retention
        if ra is None or rb is None:
            return tr("No drama→live switch with viewers in both sessions to compare.")
        if abs(ra - rb) < 1e-9:
            return tr("Both sessions kept the same share of viewers into live.")
        win = self.a if ra > rb else self.b
        path = " → ".join(b.target for b in win.branches) or "—"
        return tr("{session} kept more viewers into live ({kept:.1f} % vs {other:.1f} %), branches: {path}").format(
            session=win.name, kept=100 * max(ra, rb), other=100 * min(ra, rb), path=path)


def compare(a: Path, b: Path) -> Comparison:
    return Comparison(load_figures(a), load_figures(b))


def comparison_html(c: Comparison, tr: Translate) -> str:
    def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>" for r in rows)
        return f"<table border='1' cellpadding='4'><tr>{head}</tr>{body}</table>"

    title = tr("Comparison")
    return (f"<!doctype html><html><head><meta charset='utf-8'></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(c.verdict(tr))}</p>"
            + table((tr("Figure"), c.a.name, c.b.name), c.rows())
            + table((tr("Segment"), c.a.name, c.b.name), c.segment_rows()) + "</body></html>")
