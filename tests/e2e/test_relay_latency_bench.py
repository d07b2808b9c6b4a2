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
    assert set(report["variants"]) == {"marker", "stock", "marker-no-pacer"}  # the aiortc receiver's default
    for figures in report["variants"].values():
        assert figures["frames"] > 0
        assert {"p50_ms", "p95_ms", "max_ms", "frames_unread", "freezes"} <= set(figures)
        breakdown = figures["breakdown"]
        assert breakdown["frames_traced"] > 0
        stages = breakdown["stages"]
        assert list(stages) == ["composite_to_encoded", "encoded_to_sent", "sent_to_relay_in",
                                "relay_in_to_relay_out", "relay_out_to_displayed"]
        # one clock for every stage: each is a duration >= 0 (the stamp has 1 ms resolution),
        # and the stage means add up to the mean total
        assert all(stage["mean_ms"] >= -1.0 for stage in stages.values())
        total = sum(stage["mean_ms"] for stage in stages.values())
        assert abs(total - breakdown["total"]["mean_ms"]) < 0.05
        # the slowest tenth's stages add up to its total as well
        slowest = sum(stage["slowest_tenth_mean_ms"] for stage in stages.values())
        assert abs(slowest - breakdown["total"]["slowest_tenth_mean_ms"]) < 0.05
        assert breakdown["total"]["p95_ms"] >= breakdown["total"]["p50_ms"]
        rate = figures["bitrate"]
        assert rate["range_kbps"][0] < rate["range_kbps"][1]  # the product's range: rate control on
        assert rate["target_kbps_min"] is not None


def test_latency_bench_rejects_unknown_variants() -> None:
    parser = argparse.ArgumentParser()
    latency.add_arguments(parser)
    with pytest.raises(ValueError, match="nonsense"):
        latency.run(parser.parse_args(["--variants", "marker,nonsense"]))


def test_latency_bench_rejects_bad_resolutions() -> None:
    with pytest.raises(ValueError, match="resolution"):
        latency._resolution("huge")
    with pytest.raises(ValueError, match="not supported"):
        latency._resolution("100x50")
