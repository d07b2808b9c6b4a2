"""`studio bench report`: what the session database costs while a show runs, and how fast its
report renders.

A producer thread writes a show's mix of events (danmaku, likes, viewers entering and leaving,
votes, product clicks, gifts, segment changes and product moments, stream health every 2 s)
through the real :class:`SessionWriter` at ``--rate`` events/s for ``--minutes`` (10 by default) in
real time. Side by side: the writer thread's CPU (``time.thread_time`` in that thread, as cores of
wall time; target < 0.05), the caller's cost per event (what the clock and the net loop pay), and
the time to read that session and render its full HTML report with every chart (target < 5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from studio.report.figures import load_figures
from studio.report.language import translator_for
from studio.sessiondata.writer import SessionWriter

HELP = "session database writer CPU at 1,000 events/s and the report's render time"
TARGET_CORES = 0.05
TARGET_RENDER_S = 5.0
TICK_S = 0.01
VIEWERS = 3000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to write (default 10)")
    parser.add_argument("--rate", type=int, default=1000, help="events per second (default 1000)")
    parser.add_argument("--keep", type=Path, help="keep the session database at this path")


class _Show:
    """A show's event mix: segments drama → live every few minutes, a poll per drama, a product moment per live."""

    def __init__(self, writer: SessionWriter, start: float, minutes: float) -> None:
        self.writer = writer
        self.rng = random.Random(16)
        self.present: list[str] = []
        self.absent = [f"u{i}" for i in range(VIEWERS)]
        self.segment_s = max(20.0, minutes * 60 / 6)
        self.start = start
        self.segment = -1
        self.poll_counts = [0, 0]

    def tick(self, now: float, n: int) -> None:
        segment = int((now - self.start) // self.segment_s)
        if segment != self.segment:
            self._segment(segment, now)
        w, rng = self.writer, self.rng
        for _ in range(n):
            r = rng.random()
            if r < 0.04 and self.absent:
                user = self.absent.pop(rng.randrange(len(self.absent)))
                self.present.append(user)
                w.add("enter", t=now, platform="hub", user=user, nick=f"观众{user}")
            elif r < 0.06 and self.present:
                user = self.present.pop(rng.randrange(len(self.present)))
                self.absent.append(user)
                w.add("leave", t=now, platform="hub", user=user)
            elif not self.present:
                continue
            else:
                user = rng.choice(self.present)
                if r < 0.66:
                    w.add("danmaku", t=now, platform="hub", user=user, nick=f"观众{user}", text="这个口红什么色号?")
                elif r < 0.91:
                    w.add("like", t=now, platform="hub", user=user, value=rng.randint(1, 5))
                elif r < 0.96:
                    option = rng.randrange(2)
                    self.poll_counts[option] += 1
                    w.add("vote", t=now, platform="hub", user=user, ref=f"p{self.segment}", value=option)
                elif r < 0.99:
                    w.add("product_click", t=now, platform="hub", user=user, ref="lipstick")
                else:
                    w.add("gift", t=now, platform="bilibili", user=user, ref="小心心", value=1.0, text="1")

    def _segment(self, segment: int, now: float) -> None:
        if self.segment >= 0 and self.segment % 2 == 0:
            self.writer.add("poll", t=now, ref=f"p{self.segment}", nick="她应该买吗?", value=sum(self.poll_counts),
                            text=json.dumps({"options": ["买", "不买"], "counts": self.poll_counts, "state": "closed"}))
        if self.segment >= 0 and self.segment % 2 == 1:
            self.writer.add("product_hidden", t=now, ref=f"m{self.segment}", text="lipstick")
        self.segment = segment
        self.poll_counts = [0, 0]
        kind = "drama" if segment % 2 == 0 else "live"
        self.writer.add("segment", t=now, ref=f"s{segment}", nick=f"第{segment + 1}段", text=kind)
        if kind == "live":
            self.writer.add("product_shown", t=now, ref=f"m{segment}", text="lipstick")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.minutes <= 0 or args.rate <= 0:
        raise ValueError("--minutes and --rate must be > 0")
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        return _run(args, args.keep or Path(folder) / "session-bench.sqlite")


def _run(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    writer = SessionWriter(path)
    start = time.time()
    writer.set_meta("started", f"{start:.3f}")
    show = _Show(writer, start, args.minutes)
    caller_cpu: list[float] = []

    def produce() -> None:
        # events at the rate in 10 ms ticks against the wall clock, as the net loop would see them
        t0, sent, tick = time.monotonic(), 0, 0
        duration = args.minutes * 60
        while (elapsed := time.monotonic() - t0) < duration:
            due = int(elapsed * args.rate)
            show.tick(time.time(), due - sent)
            sent = due
            tick += 1
            if tick % int(2 / TICK_S) == 0:
                writer.health(2_500_000, 0, len(show.present))
            time.sleep(max(0.0, t0 + tick * TICK_S - time.monotonic()))
        caller_cpu.append(time.thread_time())

    producer = threading.Thread(target=produce, name="bench-producer")
    wall0 = time.monotonic()
    producer.start()
    producer.join()
    writer.set_meta("ended", f"{time.time():.3f}")
    writer.flush()
    wall = time.monotonic() - wall0
    writer_cpu = writer.cpu_s
    writer.close()
    events = writer.written

    from studio.report.export import render_html  # matplotlib loads only when this bench runs

    t0, cpu0 = time.perf_counter(), time.process_time()
    figures = load_figures(path)
    load_s = time.perf_counter() - t0
    html = render_html(figures, translator_for("zh_CN"))
    render_s = time.perf_counter() - t0
    render_cpu_s = time.process_time() - cpu0  # the wall time above includes waiting for a shared CPU
    size = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + "-*"))
    return {
        "minutes": args.minutes,
        "rate_per_s": args.rate,
        "rows_written": events,
        "dropped": writer.dropped,
        "errors": writer.errors,
        "writer": {"cpu_s": round(writer_cpu, 3), "wall_s": round(wall, 1),
                   "cores": round(writer_cpu / wall, 4), "target_cores": TARGET_CORES,
                   "ok": writer_cpu / wall < TARGET_CORES},
        "caller": {"cpu_us_per_event": round(1e6 * caller_cpu[0] / max(1, events), 2),
                   "note": "producer thread incl. its own event generation: an upper bound of what add() costs"},
        "report": {"events": figures.events_total, "load_s": round(load_s, 2), "render_s": round(render_s, 2),
                   "render_cpu_s": round(render_cpu_s, 2), "target_s": TARGET_RENDER_S,
                   "ok": render_s < TARGET_RENDER_S, "html_kb": len(html) // 1024,
                   "load_average_1m": round(os.getloadavg()[0], 1)},
        "database_mb": round(size / 1e6, 1),
    }
