"""`studio bench faq` runs and reports its figures; its labelled sets are the size the issue asks
for (figures themselves are measured by the bench, never asserted here)."""

from __future__ import annotations

import argparse

from studio.bench import benchmarks
from studio.bench.faq import DEFAULT_SET, HELDOUT_SET, add_arguments, load_set, run


def test_labelled_sets_are_large_enough_and_well_formed() -> None:
    data = load_set(DEFAULT_SET)
    assert len(data["answerable"]) >= 200 and len(data["refuse"]) >= 50
    assert all({"q", "product", "topic", "on_screen"} <= item.keys() for item in data["answerable"])
    assert len(load_set(HELDOUT_SET)["answerable"]) > 0


def test_bench_reports_its_figures() -> None:
    assert "faq" in benchmarks()
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    result = run(parser.parse_args(["--repeat", "1"]))
    for key in ("top1_accuracy", "refusal_accuracy", "per_question_ms_p50", "per_question_ms_p95", "load_s",
                "misses", "answered_out_of_catalogue"):
        assert key in result
    assert 0 <= result["top1_accuracy"] <= 1 and 0 <= result["refusal_accuracy"] <= 1
    assert result["questions"] >= 200 and result["heldout"]["questions"] > 0
