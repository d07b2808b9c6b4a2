"""`studio bench chat` runs and reports its fields (a short, slow run: no timing thresholds here)."""

from __future__ import annotations

from widgets.chat_bench import measure


def test_chat_bench_counts_every_voter_and_gift() -> None:
    result = measure(seconds=2.0, rate=300, users=200, colors=True)
    assert result["sent"] == result["received"] and result["malformed"] == 0
    assert result["votes_counted"] == result["distinct_voters"] == 160  # one user in five does not vote
    assert result["gifts_lost"] == 0 and result["gifts_sent"] > 0
    for key in ("ui_max_gap_ms", "lagged_pct", "overlay_max_on_screen", "dock_sampled_out", "process_cpu_s"):
        assert key in result
    assert isinstance(result["thread_cpu_s"], dict)  # the busiest threads by name (empty off Linux)
    # the collector's passes during the burst, and what a full pass walks after it (the show's heap frozen)
    assert set(result["gc"]["by_generation"]) == {"0", "1", "2"}
    assert result["gc"]["full_pass_objects"] > 0 and result["gc"]["frozen_objects"] > 0


def test_chat_path_bench_counts_every_voter_and_gift_and_times_each_stage() -> None:
    from widgets.chat_bench import measure_path

    result = measure_path(seconds=2.0, rate=400, users=200)
    assert result["sent"] == result["received"] == 800
    assert result["votes_counted"] == result["distinct_voters"] == 160 and result["gifts_lost"] == 0
    assert set(result["cpu_s"]) == {"adapter+service+binding", "overlays tick+sprites", "faq matching", "dock"}
    assert result["poll_renders"] > 0 and result["poll_panel_renders"] == 1
    assert result["faq_matched"] + result["faq_skipped"] == result["faq_offered"] > 0
    assert result["overlay_shown"] + result["overlay_not_shown"] <= 800 and result["dock_rows"] > 0
