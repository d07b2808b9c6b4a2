"""``studio report``: one session as HTML (+ CSV), the table of sessions, or two compared."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from studio.report.across import compare, comparison_html, sessions_table
from studio.report.figures import load_figures
from studio.report.language import LANGUAGES, translator_for
from studio.sessiondata.store import latest_session, list_sessions, resolve_session


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("session", nargs="?", help="a session name or .sqlite path (see --list)")
    p.add_argument("--last", action="store_true", help="the latest session")
    p.add_argument("-o", "--output", type=Path, help="write the HTML report here (default: <session>.html)")
    p.add_argument("--csv", type=Path, metavar="DIR", help="also write the report's tables as CSV files")
    p.add_argument("--list", action="store_true", help="print the sessions with their key figures (JSON)")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two sessions")
    p.add_argument("--lang", choices=LANGUAGES, default="en", help="report language")
    p.add_argument("--folder", type=Path, help="sessions folder (default: <data>/sessions)")


class ProgressBar:
    """A one-line bar on stderr (only drawn on a terminal or when asked)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr  # looked up now: sys.stderr may be replaced after import
        self.width = width

    def __call__(self, fraction: float, stage: str) -> None:
        done = int(self.width * max(0.0, min(1.0, fraction)))
        self.stream.write(f"\r[{'#' * done}{'.' * (self.width - done)}] {100 * fraction:3.0f}% {stage:<12}")
        if fraction >= 1.0:
            self.stream.write("\n")
        self.stream.flush()


def run_report(args: argparse.Namespace) -> int:
    tr = translator_for(args.lang)
    folder = args.folder
    if args.list:
        print(json.dumps(sessions_table(list_sessions(folder)), ensure_ascii=False, indent=2))
        return 0
    if args.compare:
        a, b = (resolve_session(name, folder) for name in args.compare)
        comparison = compare(a, b)
        print(comparison.verdict(tr))
        if args.output:
            args.output.write_text(comparison_html(comparison, tr), encoding="utf-8")
            print(f"comparison written to {args.output}")
        return 0
    if args.last == bool(args.session):
        raise ValueError("name one session, or --last")
    path = latest_session(folder) if args.last else resolve_session(args.session, folder)
    # matplotlib loads only for a report: every other `studio` command starts without it
    from studio.report.export import render_html, write_csv

    bar = ProgressBar()
    figures = load_figures(path, lambda f, s: bar(0.4 * f, s))
    output = args.output or Path(f"{path.stem}.html")
    output.write_text(render_html(figures, tr, progress=lambda f, s: bar(0.4 + 0.6 * f, s)), encoding="utf-8")
    print(f"report written to {output}")
    if args.csv:
        for written in write_csv(figures, args.csv):
            print(f"  {written}")
    return 0
