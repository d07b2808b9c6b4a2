"""`studio bench ui` runs the window with the engine's clock and reports its figures (no thresholds)."""

from __future__ import annotations

import argparse

import pytest

from studio.bench import ui


def test_bench_ui_reports_event_loop_gaps_and_paint_cost(qapp, studio_home) -> None:
    parser = argparse.ArgumentParser()
    ui.add_arguments(parser)
    args = parser.parse_args(["--seconds", "1.5", "--warmup", "0.3", "--colors"])
    result = ui.run(args)
    loop = result["event_loop"]
    assert loop["probes"] > 0
    assert 0 < loop["p50_gap_ms"] <= loop["p99_gap_ms"] <= loop["max_gap_ms"]
    assert result["preview_paint_ms"]["paints"] > 0 and result["program_paint_ms"]["paints"] > 0
    assert result["engine_render_ms"]["p50"] > 0
    assert result["canvas"] == "1920x1080@30"
    assert "colour sources" in result["note"]
    # the product's window: a Show behind it, every dock, streaming to its own relay
    assert {"scenes", "sources", "controls", "mixer", "danmaku", "votes", "rundown"} <= set(result["docks"])
    assert result["stream_went_live"] is True
    assert result["show_start_s"] > 0 and result["encoder_skipped"] is not None


def test_bench_ui_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="--seconds"):
        ui.run(argparse.Namespace(seconds=0, warmup=0, collection=None, colors=True))
