"""`studio bench latency` runs end to end and reports its fields (figures are not judged here)."""

from __future__ import annotations

import argparse

import pytest

from studio.bench import latency


def test_latency_bench_reports_each_variant() -> None:
    parser = argparse.ArgumentParser()
    latency.add_arguments(parser)
    args = parser.parse_args(
        ["--resolution", "1280x720", "--receiver", "aiortc", "--seconds", "1", "--fps", "30"]
    )
    report = latency.run(args)
    assert report["resolution"] == "1280x720" and report["receiver"] == "aiortc"
    assert {"fps", "frames", "p50_ms", "p95_ms", "max_ms", "freezes"} <= set(report)
    assert set(report["variants"]) == {"marker", "stock"}
    for figures in report["variants"].values():
        assert figures["frames"] > 0
        assert {"p50_ms", "p95_ms", "max_ms", "frames_unread", "freezes"} <= set(figures)


def test_latency_bench_rejects_bad_resolutions() -> None:
    with pytest.raises(ValueError, match="resolution"):
        latency._resolution("huge")
    with pytest.raises(ValueError, match="not supported"):
        latency._resolution("100x50")
