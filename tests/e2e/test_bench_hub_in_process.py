"""`studio bench hub` also runs the hub as the Show does (on the shared net loop, product limits,
the interaction service reading it) and reports those figures beside the separate-process ones."""

from __future__ import annotations

import argparse
import json

from studio.bench import hub as bench


def test_bench_hub_reports_the_in_process_figures_beside_the_separate_process_ones() -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--viewers", "5", "--seconds", "0.4", "--drain", "10"])
    result = bench.run(args)
    shared = result["in_process"]
    assert shared["sent"] == 10 and shared["delivered"] + shared["lost"] == shared["sent"]
    assert shared["delivered"] == shared["visible"]  # nothing in the bench text trips moderation
    assert shared["hub_limits"]["rate"] == 5.0  # the product's per-viewer limit, not loosened
    assert shared["hub_stats"]["connections_total"] >= 5
    for key in ("p50_ms", "p95_ms", "max_ms", "msg_per_s", "studio_process_cpu", "meets_target"):
        assert key in shared
    assert result["sent"] == 10  # the separate-process figures stay at the top level
    json.dumps(result)
