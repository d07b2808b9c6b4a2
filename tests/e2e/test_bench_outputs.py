"""`studio bench outputs` runs and reports its fields (figures, not thresholds: performance is the bench's)."""

from __future__ import annotations

import argparse

from requirements_check import missing_tool

from studio.bench import benchmarks, outputs
from studio.bench._rtmp_server import nginx_rtmp_missing


def test_outputs_bench_is_registered_and_reports_its_figures() -> None:
    assert benchmarks()["outputs"] is outputs
    missing = nginx_rtmp_missing()
    if missing:
        missing_tool(missing)
    result = outputs.run(argparse.Namespace(seconds=1.0))
    for key in ("cpu_cores_whip_only", "cpu_cores_all", "extra_core_per_destination"):
        assert isinstance(result[key], float)
    dests = result["destinations"]
    assert set(dests) == {"rtmp", "srt", "whip", "recording"}
    for name in ("rtmp", "srt"):
        assert dests[name]["state"] == "live" and dests[name]["dropped_frames"] is not None
        assert dests[name]["bitrate_kbps"] is not None
