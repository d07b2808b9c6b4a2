"""`studio bench compositor` and `studio bench danmaku` run and report sane figures (no timing
thresholds: performance is judged by running the benchmarks, not by tests)."""

from __future__ import annotations

import argparse
import json
from types import ModuleType

import pytest

from scenes.text_raster import ensure_gui_app
from studio.bench import compositor, danmaku


@pytest.fixture(scope="module", autouse=True)
def _gui() -> None:
    ensure_gui_app()


def _args(module: ModuleType, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_compositor_bench_times_ticks_and_composite_with_bullets_arriving() -> None:
    result = compositor.run(_args(compositor, "--frames", "12", "--settle", "3", "--resolution", "960x540",
                                  "--bullets", "60"))
    assert result["tick_ms_p50"] > 0 and result["composite_ms_p50"] > 0
    assert result["frame_ms_p50"] <= result["frame_ms_p95"] <= result["frame_ms_max"]
    assert set(result["tick_ms_p50_by_source"]) == {"clip", "camera", "logo", "sticker", "card", "text", "danmaku"}
    fed = result["danmaku"]
    # bullets arrived through the overlay's push and the lanes filled up
    assert fed["shown"] > fed["on_screen_min"] > 0 and fed["arrival_rate_per_s"] > 0
    assert result["without_bullets"]["frame_ms_p50"] > 0
    assert result["target"] == {"frame_ms_p50": 6.0}
    json.dumps(result)


def test_compositor_bench_runs_without_bullets() -> None:
    result = compositor.run(_args(compositor, "--frames", "10", "--settle", "0", "--resolution", "640x360",
                                  "--bullets", "0"))
    assert result["danmaku"] == {} and result["layers"] == 6


def test_danmaku_bench_reports_both_densities() -> None:
    result = danmaku.run(_args(danmaku, "--frames", "12", "--settle", "3", "--resolution", "960x540",
                               "--comments", "80"))
    assert result["on_screen_mean"] > 0 and result["comments_100"]["on_screen_mean"] > 0
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]
    assert result["naive_full_canvas_blend"]["p50_ms"] > 0
    json.dumps(result)
