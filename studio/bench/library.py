"""`studio bench library`: how fast the asset library imports a folder and how fast viewer tags come
out of a big session, side by side in one run.

Import: ``--clips`` real H.264 + AAC clips (640x360, 2 s, made here with PyAV) plus the broken files
a producer's folder holds (zero bytes, a truncated MP4, a text file named .mp4, a 2 GB sparse file of
garbage), imported with probes and thumbnails as the dock does: clips/s, the slowest probe, and the
sparse file's probe on its own (it must be refused quickly, never read through).
Tags: a session of ``--viewers`` viewers (enter, chat, a vote, some clicks and gifts, segments
drama → live) written through the real SessionWriter, then facts + default rules + the CSV.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from studio.library.importer import ImportProgress, import_folder
from studio.library.library import Library
from studio.library.probe import probe_file

HELP = "asset library import (clips/s, slowest probe, a 2 GB garbage file) and viewer tags of a big session"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clips", type=int, default=40, help="clips to import (default 40)")
    parser.add_argument("--viewers", type=int, default=3000, help="viewers in the tagged session (default 3000)")


def _clip(path: Path, seconds: float = 2.0, size: tuple[int, int] = (640, 360), fps: int = 25) -> None:
    out = av.open(str(path), "w")
    v = out.add_stream("libx264", rate=fps)
    v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"  # type: ignore[union-attr]
    v.options = {"preset": "ultrafast"}
    a = out.add_stream("aac", rate=48_000)
    a.layout = "stereo"  # type: ignore[union-attr]
    samples = 0
    for i in range(int(seconds * fps)):
        frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), i * 4 % 256, np.uint8), format="rgb24")
        frame.pts = i
        for p in v.encode(frame):  # type: ignore[union-attr]
            out.mux(p)
        while samples < (i + 1) * 48_000 // fps:
            af = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
            af.sample_rate, af.pts = 48_000, samples
            samples += 1024
            for p in a.encode(af):  # type: ignore[union-attr, arg-type]
                out.mux(p)
    for stream in (v, a):
        for p in stream.encode():  # type: ignore[union-attr]
            out.mux(p)
    out.close()


def _broken(folder: Path, good: Path) -> Path:
    (folder / "empty.mp4").write_bytes(b"")
    data = good.read_bytes()
    (folder / "cut.mp4").write_bytes(data[: len(data) // 2])
    (folder / "notes.mp4").write_text("not a video\n" * 100, encoding="utf-8")
    sparse = folder / "huge.mkv"
    rng = np.random.default_rng(1)
    with open(sparse, "wb") as fh:
        fh.write(rng.integers(0, 256, 65536, dtype=np.uint8).tobytes())
        fh.seek(2 * 1024**3 - 65536)
        fh.write(rng.integers(0, 256, 65536, dtype=np.uint8).tobytes())
    return sparse


def _import_figures(folder: Path, clips: int) -> dict[str, Any]:
    media = folder / "media"
    (media / "sub").mkdir(parents=True)
    for i in range(clips):
        _clip(media / ("sub" if i % 2 else "") / f"ep{i:03d}.mp4")
    sparse = _broken(media, media / "ep000.mp4")
    t0 = time.perf_counter()
    refused = probe_file(sparse)
    sparse_s = time.perf_counter() - t0
    library = Library(folder / "lib" / "library.json")
    steps: list[float] = []

    def progress(p: ImportProgress) -> None:
        steps.append(time.perf_counter())

    t0 = time.perf_counter()
    result = import_folder(library, media, progress)
    wall = time.perf_counter() - t0
    per_file = [b - a for a, b in zip(steps, steps[1:], strict=False)]
    t0 = time.perf_counter()
    library.save()
    save_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = library.search("codec:h264 audio:yes")
    search_ms = (time.perf_counter() - t0) * 1000
    return {
        "clips": clips, "files": len(per_file), "added": len(result.added), "broken": len(result.broken),
        "import_s": round(wall, 3), "clips_per_s": round(len(per_file) / wall, 1) if wall else None,
        "slowest_probe_ms": round(1000 * max(per_file), 1) if per_file else None,
        "sparse_2gb_probe_ms": round(1000 * sparse_s, 1), "sparse_refused": not refused.ok,
        "save_ms": round(1000 * save_s, 1), "search_ms": round(search_ms, 2), "search_hits": len(found),
    }


def _tag_figures(folder: Path, viewers: int) -> dict[str, Any]:
    from studio.report.tag_rules import default_rules
    from studio.report.viewer_tags import tag_viewers, tags_csv, viewer_facts
    from studio.sessiondata.writer import SessionWriter

    rng = random.Random(16)
    path = folder / "session-bench.sqlite"
    t0 = 1_700_000_000.0
    with SessionWriter(path) as w:
        w.set_meta("started", str(t0))
        w.add("segment", t=t0, ref="episode", nick="第1集", text="drama")
        w.add("poll", t=t0 + 250, ref="p1", nick="她应该买吗?", text='{"options": ["买", "不买"], "counts": [1, 1]}')
        w.add("branch", t=t0 + 300, ref="b", nick="买", value=0, text="{}")
        w.add("segment", t=t0 + 300, ref="live", nick="直播", text="live")
        for i in range(viewers):
            user, enter = f"u{i}", t0 + rng.uniform(0, 250)
            w.add("enter", t=enter, platform="hub", user=user, nick=f"观众{i}")
            for _ in range(rng.randint(0, 10)):
                w.add("danmaku", t=enter + rng.uniform(0, 200), platform="hub", user=user, text="好看")
            w.add("vote", t=enter + 1, platform="hub", user=user, ref="p1", value=rng.randrange(2))
            if rng.random() < 0.3:
                w.add("product_click", t=t0 + 320, platform="hub", user=user, ref=rng.choice(("lipstick", "眼影")))
            if rng.random() < 0.05:
                w.add("gift", t=t0 + 330, platform="hub", user=user, ref="小心心", value=1.0, text="1")
            if rng.random() < 0.4:
                w.add("leave", t=t0 + rng.uniform(260, 400), platform="hub", user=user)
        w.set_meta("ended", str(t0 + 600))
    from studio.sessiondata.schema import open_database

    db = open_database(path, readonly=True)
    events = int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    db.close()
    start = time.perf_counter()
    facts = viewer_facts([path])
    facts_s = time.perf_counter() - start
    start = time.perf_counter()
    tagged = tag_viewers(facts, default_rules())
    rules_s = time.perf_counter() - start
    start = time.perf_counter()
    text = tags_csv(tagged)
    csv_s = time.perf_counter() - start
    return {"viewers": len(facts), "events": events, "facts_s": round(facts_s, 3), "rules_s": round(rules_s, 3),
            "csv_s": round(csv_s, 3), "csv_bytes": len(text.encode("utf-8")),
            "tags_per_viewer": round(sum(len(v.tags) for v in tagged) / max(1, len(tagged)), 2)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.clips < 1 or args.viewers < 1:
        raise ValueError("--clips and --viewers must be >= 1")
    with tempfile.TemporaryDirectory(prefix="bench-library-") as folder:
        root = Path(folder)
        return {"import": _import_figures(root, args.clips), "tags": _tag_figures(root, args.viewers)}
