"""`studio bench control` runs on the demo show and reports its figures (fields, no thresholds)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from studio.bench import benchmarks, control


def test_control_bench_reports_round_trips_and_lagged_frames_side_by_side(studio_home: Path) -> None:
    assert benchmarks()["control"] is control  # registered beside the other benches
    parser = argparse.ArgumentParser()
    control.add_arguments(parser)
    result = control.run(parser.parse_args(["--seconds", "1", "--requests", "20", "--clients", "3",
                                            "--no-outputs"]))
    assert result["canvas"] == "1920x1080@30"
    assert result["meters"]["clients"] == 3 and all(n > 0 for n in result["meters"]["meter_events"])
    for request_type in ("GetSceneList", "SetCurrentProgramScene"):
        figures = result["rtt"][request_type]
        assert 0 < figures["rtt_ms_p50"] <= figures["rtt_ms_p95"] <= figures["rtt_ms_max"]
    assert result["rtt"]["failures"] == 0
    for phase in ("baseline", "meters", "rtt", "baseline_after"):
        assert result[phase]["frames"] > 0 and 0 <= result[phase]["lagged_ratio"] <= 1
    assert len(result["lagged_ratio_meters_vs_baselines"]) == 3
    assert all(pct >= 0 for pct in result["net_thread_cpu_pct_meters_vs_baselines"])
    json.dumps(result)
