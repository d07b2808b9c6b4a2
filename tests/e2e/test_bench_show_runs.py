"""`studio bench pipeline` and `studio bench soak` run a real Show (recording, streaming to its
relay; the soak with a WHEP viewer) and report their figures (fields and sanity, no thresholds)."""

from __future__ import annotations

import argparse
import json
from types import ModuleType

from studio.bench import pipeline, soak


def _args(module: ModuleType, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_pipeline_bench_reports_av_offset_spread_rss_series_and_warm_vs_cold(studio_home) -> None:  # type: ignore[no-untyped-def]
    result = pipeline.run(_args(pipeline, "--seconds", "3", "--rss-every", "1", "--startup-runs", "1"))
    assert result["stream_went_live"] is True and result["frames"] > 0
    series = result["rss_mb_series"]
    assert len(series) >= 3 and all(mb > 0 for _, mb in series)
    assert [t for t, _ in series] == sorted(t for t, _ in series)
    assert result["rss_growth_pct"] is not None
    if result["av_offsets_measured"]:
        assert abs(result["av_offset_ms"]) <= result["av_offset_abs_max_ms"] + 1e-9
        assert result["av_offset_abs_p95_ms"] <= result["av_offset_abs_max_ms"]
    startup = result["startup"]
    assert len(startup["warm_lagged"]) == len(startup["cold_lagged"]) == 1
    json.dumps(result)


def test_soak_bench_streams_to_a_viewer_and_samples_over_time(studio_home) -> None:  # type: ignore[no-untyped-def]
    result = soak.run(_args(soak, "--minutes", "0.1", "--every", "1", "--baseline", "2"))
    assert result["stream_went_live"] is True
    assert result["viewer"]["video_frames"] > 0 and result["viewer"]["audio_frames"] > 0
    assert result["viewer"]["errors"] == []
    rows = result["samples"]["rows"]
    assert len(rows) >= 5 and rows[-1][2] > 0  # frames counted
    assert result["recording_mb"] > 0
    assert result["rss_growth_pct"] is not None and result["skipped"] >= 0
    json.dumps(result)
