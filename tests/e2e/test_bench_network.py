"""`studio bench network` runs end to end through real namespaces, the relay and Chromium, and
reports its figures; the figures themselves are not judged here (that is the bench's job)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from requirements_check import in_ci, missing_tool

from studio.bench import network
from studio.bench.netns import PREFIX, NetnsUnavailable, check_requirements
from studio.chromium import CHROMIUM


def _our_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(f"{PREFIX}-{os.getpid()}")]


@pytest.fixture
def netbench_ready() -> None:
    if os.geteuid() != 0 and not in_ci():
        pytest.skip("the network bench builds network namespaces: root only")
    try:
        check_requirements()
    except NetnsUnavailable as exc:
        missing_tool(str(exc))
    if not os.path.exists(CHROMIUM):
        missing_tool(f"{CHROMIUM} is not installed (the Makefile installs Debian's chromium as root)")


def test_a_lossy_profile_reports_sane_figures_and_leaves_nothing(netbench_ready: None, studio_home: Path) -> None:
    report = network.measure([network.Profile("loss1", loss=0.01)], seconds=4)

    figures = report["profiles"]["loss1"]
    assert "error" not in figures, figures
    viewer = figures["viewers"]["viewer-a"]
    assert figures["frames_composited"] > 0
    assert 0 < viewer["frames_pct"] <= 100
    assert viewer["frames_presented"] > 0
    assert viewer["latency_p50_ms"] is not None and 0 < viewer["latency_p50_ms"] <= viewer["latency_p95_ms"]
    assert viewer["audio_samples_received"] > 0 and 0 <= viewer["audio_concealed_pct"] <= 100
    assert viewer["freezes_per_min"] >= 0 and viewer["freeze_s_per_min"] >= 0
    assert viewer["heights_seen"] and 0 <= viewer["main_layer_share_pct"] <= 100
    # the latency split at Chromium's receive time, and Chromium's own share from getStats
    assert viewer["upstream_p50_ms"] is not None and viewer["receiver_p50_ms"] is not None
    assert viewer["receiver_ms"]["video_decode"] is not None and viewer["receiver_ms"]["video_decode"] >= 0
    assert viewer["receiver_ms"]["audio_jitter_buffer"] is not None
    assert figures["bitrate_kbps"] > 0
    # the loss is real: our rules dropped packets on the studio's leg and the viewer's
    assert figures["packets_dropped_by_rules"]["studio"] > 0
    assert figures["packets_dropped_by_rules"]["viewer-a"] > 0
    for key in ("freezes_per_min", "freeze_s_per_min", "latency_p50_ms", "latency_p95_ms",
                "audio_concealed_pct", "ladder_step", "recovery_s"):
        assert key in figures
    assert "freeze" in report["freeze_definition"]
    assert "loss1" in network.format_table(report)
    assert _our_namespaces() == []  # namespaces, their rules and processes are gone


def test_the_main_layer_share_counts_frames_as_tall_as_what_the_studio_streamed() -> None:
    # the studio at 1080p, then stepped down to 360p at t = 10 s; frames: (shown ms, stamp ms, height, presented)
    studio = [{"t": 0.0, "stats": {"ladder_step": "1080p30"}}, {"t": 10.0, "stats": {"ladder_step": "360p30"}},
              {"t": 5.0, "frames": 150}]
    frames = [[1000.0, 950.0, 1080, 1], [2000.0, 1950.0, 360, 2],  # main layer, then the relay's low one
              [11_000.0, 10_950.0, 360, 3], [12_000.0, None, 360, 4]]  # the studio's 360p: the main layer
    share = network._main_layer_share({"frames": frames}, (0.0, 20_000.0), studio)
    assert share == 75.0
    assert network._main_layer_share({"frames": []}, (0.0, 20_000.0), studio) is None


def test_freezes_follow_webrtcs_definition() -> None:
    steady = [i * 33.0 for i in range(40)]
    assert network.freezes(steady) == []
    # a 300 ms gap after a steady 33 ms cadence: max(3 x 33, 33 + 150) = 183 ms is exceeded
    frozen = steady + [steady[-1] + 300.0]
    assert network.freezes(frozen) == [(300.0, frozen[-1])]
    # 150 ms is under the threshold
    assert network.freezes(steady + [steady[-1] + 150.0]) == []


def test_each_freeze_says_whether_the_next_frame_was_late_or_frames_were_skipped() -> None:
    # (shown ms, stamp ms, height, presented): 33 ms cadence, 50 ms behind the stamp
    frames = [[1000.0 + i * 33, 950.0 + i * 33, 720, i] for i in range(40)]
    late = frames[-1][0] + 250  # the next frame (one interval on in the stamp) shown 250 ms later
    frames.append([late, frames[-1][1] + 33, 720, 40])
    frames += [[late + i * 33, frames[-1][1] + i * 33, 720, 40 + i] for i in range(1, 40)]
    skip = frames[-1][0] + 300  # 300 ms later, the stamp 300 ms on: the frames between never came
    frames.append([skip, frames[-1][1] + 300, 720, 80])
    stats = [{"t": late - 100, "video": {"pliCount": 0}}, {"t": skip - 100, "video": {"pliCount": 0}},
             {"t": skip + 100, "video": {"pliCount": 1}}]
    found = network._freeze_details({"frames": frames, "stats": stats}, 0.0, skip + 1)
    assert [(f["gap_ms"], f["stamp_step_ms"]) for f in found] == [(250, 33), (300, 300)]
    assert found[0]["latency_after_ms"] == 50 + 250 - 33  # late: the latency jumped
    assert found[1]["latency_after_ms"] == found[0]["latency_after_ms"]  # skipped: it did not
    assert found[1]["end_s"] == round(skip / 1000, 3) and found[1]["chromium_plis_near"] == 1


def test_profiles_always_carry_the_clean_baseline() -> None:
    names = [p.name for p in network._profiles("loss5,up1m")]
    assert names == ["clean", "loss5", "up1m"]
    with pytest.raises(ValueError, match="unknown"):
        network._profiles("loss7")


def test_without_root_the_bench_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(NetnsUnavailable, match="needs root"):
        check_requirements()


def test_missing_tools_are_named_with_their_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr("studio.bench.netns.shutil.which", lambda tool: None if tool == "iptables" else "/x")
    with pytest.raises(NetnsUnavailable, match="apt-get install iptables"):
        check_requirements()
