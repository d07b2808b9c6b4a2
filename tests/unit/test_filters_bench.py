"""`studio bench filters` runs and reports its fields (no timing thresholds: figures are judged by
running the bench)."""

from __future__ import annotations

import argparse
import json

from studio.bench import benchmarks, filters


def test_filters_bench_reports_chroma_key_and_the_cache() -> None:
    parser = argparse.ArgumentParser()
    filters.add_arguments(parser)
    result = filters.run(parser.parse_args(["--frames", "6", "--resolution", "320x180"]))
    assert result["chroma_key_ms_p50"] > 0 and result["chroma_key_ms_p50"] <= result["chroma_key_ms_p95"]
    assert set(result["others_ms"]) >= {"color_correction", "lut_33", "crop_pad", "sharpen", "mask"}
    assert result["cache"]["chain_runs"] == result["cache"]["source_frames"]  # once per source frame
    assert "filters" in benchmarks()
    json.dumps(result)
