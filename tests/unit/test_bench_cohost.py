"""`studio bench cohost` runs the product's guest path and reports its fields (no timing thresholds)."""

from __future__ import annotations

import argparse
import json

from studio.bench import cohost


def test_cohost_bench_reports_latency_decode_cost_and_lagged_frames() -> None:
    parser = argparse.ArgumentParser()
    cohost.add_arguments(parser)
    result = cohost.run(parser.parse_args(["--seconds", "1.5", "--latency-seconds", "1.5", "--baseline-seconds", "0.5", "--round-trip-seconds", "0"]))
    json.dumps(result)
    assert result["guest_to_program_samples"] > 0  # stamps from both guests were read off the program
    assert 0 < result["guest_to_program_ms_p50"] <= result["guest_to_program_ms_p95"]
    assert result["guest_decode_cores"] > 0 and len(result["guest_decode_cores_each"]) == 2
    assert result["frames_2_guests"] > 0 and result["lagged_pct_2_guests"] >= 0
    assert len(result["render_ms_p95_no_guests_vs_2_guests"]) == 2
    assert all(n > 0 for n in result["return_feed_packets"])  # each guest's mix-minus was encoded
    assert result["round_trip_ms_p95"] is None and "skipped" in result["round_trip_note"]
