"""`studio bench library` runs and reports its fields (no timing thresholds: figures go in the report)."""

from __future__ import annotations

import argparse

from studio.bench import benchmarks


def test_library_bench_reports_import_and_tag_figures() -> None:
    result = benchmarks()["library"].run(argparse.Namespace(clips=2, viewers=20))
    imported, tags = result["import"], result["tags"]
    assert (imported["files"], imported["added"], imported["broken"]) == (6, 6, 4)
    assert imported["sparse_refused"] and imported["search_hits"] == 2
    assert imported["clips_per_s"] > 0 and imported["sparse_2gb_probe_ms"] >= 0
    assert tags["viewers"] == 20 and tags["events"] > 20 and tags["csv_bytes"] > 0
