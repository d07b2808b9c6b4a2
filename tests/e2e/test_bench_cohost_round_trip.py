"""`studio bench cohost`'s round trip runs with a real guest page and reads its stamps (no thresholds)."""

from __future__ import annotations

import os

from requirements_check import missing_tool

from studio.chromium import CHROMIUM


def test_round_trip_through_the_guest_page_reads_returned_stamps() -> None:
    if not os.path.exists(CHROMIUM):
        missing_tool(f"{CHROMIUM} is not installed (the Makefile installs Debian's chromium as root)")
    from studio.bench._cohost_round_trip import round_trip

    result = round_trip(3.0)
    assert result["round_trip_samples"] > 0  # the program came back through the page as its camera
    assert 0 < result["round_trip_ms_p50"] <= result["round_trip_ms_p95"]
