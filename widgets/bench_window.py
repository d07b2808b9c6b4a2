"""Timing the desktop while the show runs: event-loop gaps and paint cost (``studio bench ui``).

The window is built as ``studio`` builds it: a ``Show`` (engine, mixer, local relay and hub,
interaction service) behind a ``MainWindow`` with every dock, the show started by the window and
streaming to its own relay (the encoder runs). A 5 ms probe timer records how late the Qt event
loop gets to it; the longest gaps are what a director feels as a frozen window. Meanwhile a
scripted director switches preview scenes, selects and nudges items, and the views paint every
frame. The engine's own render time comes from its stats events, so the two are reported side by side.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

from scenes.model import Scene, SceneCollection, SceneItem, VideoFormat
from studio.events import ClockStats
from studio.outputs.pipeline import PipelineStats
from studio.show import Show
from widgets.main_window import MainWindow
from widgets.output_controller import OutputController
from widgets.settings_store import SettingsStore
from widgets.theme import apply_theme

PROBE_MS = 5


def color_collection(size: tuple[int, int] = (1920, 1080), fps: int = 30) -> SceneCollection:
    """A demo-shaped show from colour sources only: background, picture-in-picture, card, lower third."""
    w, h = size
    col = SceneCollection("Bench (colour sources)", VideoFormat(w, h, fps))
    col.add_source("background", "color", {"color": "#FF1E2A44", "width": w, "height": h})
    col.add_source("host", "color", {"color": "#FF3C7A5A", "width": 1280, "height": 720})
    col.add_source("card", "color", {"color": "#E0FFFFFF", "width": 560, "height": 220})
    col.add_source("lower third", "color", {"color": "#C0000000", "width": w, "height": h // 8})
    k = h / 1080
    col.add_scene(Scene("Drama", [SceneItem("background"), SceneItem("lower third", y=h * 0.8)]))
    col.add_scene(Scene("Live", [SceneItem("host", scale_x=w / 1280, scale_y=h / 720),
                                 SceneItem("card", x=w - 600 * k, y=h - 300 * k, scale_x=k, scale_y=k)]))
    col.add_scene(Scene("Drama + Host", [
        SceneItem("background"), SceneItem("host", x=w - 680 * k, y=40 * k, scale_x=0.5 * k, scale_y=0.5 * k),
        SceneItem("card", x=40 * k, y=h - 300 * k, scale_x=k, scale_y=k), SceneItem("lower third", y=h * 0.8)]))
    return col


def _open(collection: Path | None, colors: bool) -> tuple[SceneCollection, str | None]:
    if colors:
        return color_collection(), "colour sources requested (--colors)"
    try:
        from studio.session import open_collection

        with contextlib.redirect_stdout(sys.stderr):  # demo progress must not corrupt the JSON on stdout
            col, _path = open_collection(collection)
        return col, None
    except (ValueError, OSError, ImportError) as exc:
        return color_collection(), f"demo collection unavailable ({exc}); used colour sources instead"


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _wait(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the Qt event loop until ``condition()`` holds (checked every 20 ms) or time runs out."""
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    timer.start(20)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    if not condition():
        loop.exec()
    timer.stop()
    return condition()


class GapProbe:
    """A precise timer every ``PROBE_MS``: while ``measuring``, how late the Qt event loop got to it."""

    def __init__(self, on_tick: Callable[[], None] | None = None) -> None:
        self.gaps: list[float] = []
        self.measuring = False
        self._on_tick = on_tick
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._probe)
        self._timer.start(PROBE_MS)

    def start(self) -> None:
        """Measure from now: the first gap counts from this moment, not from the last tick before it."""
        self._last = time.perf_counter()
        self.measuring = True

    def _probe(self) -> None:
        now = time.perf_counter()
        if self.measuring:
            self.gaps.append((now - self._last) * 1000.0)
            if self._on_tick is not None:
                self._on_tick()
        self._last = now

    def stop(self) -> None:
        self._timer.stop()


@contextlib.contextmanager
def running_window(show: Show, bench: str) -> Iterator[tuple[MainWindow, OutputController, float]]:
    """The window as ``studio`` opens it over ``show`` (every dock), the show started by the window on
    its output worker, and the seconds that start took; afterwards the show is stopped and the window
    closed (the caller deletes it)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{bench}-") as home:
        store = SettingsStore(Path(home))
        window = MainWindow(show.studio, store, show=show)
        binding = window.binding
        assert binding is not None
        outputs = binding.outputs
        window.resize(1600, 900)
        window.show()
        try:
            started = time.perf_counter()
            window.start_show()
            if not _wait(lambda: outputs.show_phase in ("running", "failed"), 60) or outputs.show_phase != "running":
                raise RuntimeError(f"bench {bench}: the show did not start ({outputs.show_phase})")
            yield window, outputs, time.perf_counter() - started
        finally:
            outputs.stop_show()
            _wait(lambda: outputs.show_phase in ("stopped", "idle"), 60)
            window.close()
            store.close()


def measure(seconds: float = 10.0, warmup: float = 1.0, collection: Path | None = None,
            colors: bool = False, multiview: bool = False) -> dict[str, Any]:
    app = QApplication.instance()
    if app is None:
        app = QApplication([])
        assert isinstance(app, QApplication)
        apply_theme(app)
    col, note = _open(collection, colors)
    # the window as `studio` opens it: a Show (engine, mixer, relay, hub, interaction service,
    # every dock) started by the window on its output worker, then streaming to its own relay
    show = Show(col, studio_mode=True, relay_port=0, hub_port=0)
    stats: list[ClockStats] = []
    pipeline_stats: list[PipelineStats] = []
    probe = GapProbe()
    try:
        with running_window(show, "ui") as (window, outputs, show_start_s):
            binding = window.binding
            assert binding is not None
            multiview_window = window.open_multiview() if multiview else None  # a second window, as on a 2nd monitor
            window.bridge.stats.connect(stats.append)
            outputs.pipeline_stats.connect(pipeline_stats.append)
            step = [0]

            def director() -> None:
                # what a director does between takes: pick a scene for preview, select an item, nudge it
                scenes = col.scenes
                step[0] += 1
                window.choose_scene(scenes[step[0] % len(scenes)].name)
                placed = window.state.placements()
                if placed:
                    window.state.select(placed[-1][0].id)
                    window.editor.nudge(1 if step[0] % 2 else -1, 0)

            directing = QTimer()
            directing.timeout.connect(director)
            directing.start(700)

            def start_measuring() -> None:
                probe.start()
                for view in (window.preview_view, window.program_view):
                    view.paint_ms.clear()
                stats.clear()
                pipeline_stats.clear()

            try:
                # the controls' stream button, past the pre-live check: the local relay, the settings' range
                outputs.start_streaming(binding.stream_request())
                live = _wait(lambda: outputs.phases["stream"] == "active", 30)
                loop = QEventLoop()
                QTimer.singleShot(int(warmup * 1000), start_measuring)
                QTimer.singleShot(int((warmup + seconds) * 1000), loop.quit)
                loop.exec()
                probe.measuring = False
            finally:
                directing.stop()
        preview_ms, program_ms = list(window.preview_view.paint_ms), list(window.program_view.paint_ms)
        docks = sorted(window.docks)
        window.deleteLater()
    finally:
        probe.stop()
    gaps = probe.gaps
    studio = show.studio
    render_p50 = [s.render_ms_p50 for s in stats]
    render_p95 = [s.render_ms_p95 for s in stats]
    video = pipeline_stats[-1].video if pipeline_stats else None
    result: dict[str, Any] = {
        "canvas": f"{studio.width}x{studio.height}@{studio.fps}",
        "seconds": seconds,
        "collection": col.name,
        "configuration": "MainWindow with a Show: relay, hub, interaction service, all docks, streaming to the relay",
        "docks": docks,
        "multiview_open": multiview,
        "multiview_frames_taken": multiview_window.view.frames_taken if multiview_window is not None else None,
        "show_start_s": round(show_start_s, 2),
        "stream_went_live": live,
        "event_loop": {
            "probe_interval_ms": PROBE_MS,
            "probes": len(gaps),
            "p50_gap_ms": round(_percentile(gaps, 0.50), 2),
            "p99_gap_ms": round(_percentile(gaps, 0.99), 2),
            "max_gap_ms": round(max(gaps, default=0.0), 2),
            "target_max_gap_ms": 50,
        },
        "preview_paint_ms": {"paints": len(preview_ms), "p50": round(_percentile(preview_ms, 0.5), 2),
                             "p95": round(_percentile(preview_ms, 0.95), 2)},
        "program_paint_ms": {"paints": len(program_ms), "p50": round(_percentile(program_ms, 0.5), 2),
                             "p95": round(_percentile(program_ms, 0.95), 2)},
        "engine_render_ms": {"p50": round(_percentile(render_p50, 0.5), 2),
                             "p95": round(max(render_p95, default=0.0), 2)},
        "engine_fps": round(stats[-1].fps, 2) if stats else None,
        "engine_lagged_frames": stats[-1].lagged if stats else None,
        "encoder_skipped": video.skipped if video else None,
    }
    if note:
        result["note"] = note
    return result
