"""``DLS_RTP_TRACE``: the opt-in event log lines up a capped uplink's onset step by step (the rate
controller's reports, the ladder's steps, the keyframes the stream sends); unset, nothing is written."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from encoders.packets import EncodedPacket
from studio.outputs.ratecontrol import RateController
from studio.outputs.stream_rendition import MAIN, KeyframeSwitch
from studio.webrtc import trace


class _Sink:
    def put(self, packet: EncodedPacket) -> None:
        pass


def _events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _onset(clock: list[float]) -> None:
    rc = RateController(lambda kbps: None, 300, 6000, 5000, clock=lambda: clock[0])
    clock[0] = 10.0
    rc.on_send_rate(2_000_000)
    rc.on_receiver_report(0.46, None, 1_300_000, 0.45, 2_100_000)  # heavy loss: the link is the limit
    switch = KeyframeSwitch(_Sink(), MAIN)
    switch.input(MAIN).put(EncodedPacket("video", b"\0" * 900, 0, Fraction(1, 30), True))


def test_a_capped_report_and_a_keyframe_are_traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "trace.jsonl"
    monkeypatch.setenv(trace.ENV, str(log))
    _onset([0.0])
    events = _events(log)
    report = next(e for e in events if e["ev"] == "rate_report")
    assert report["capped"] is True and report["loss"] == 0.46 and report["delivered_kbps"] == 1300
    assert report["estimate_kbps"] == 1040  # 0.8x what got through
    keyframe = next(e for e in events if e["ev"] == "stream_keyframe")
    assert keyframe["source"] == MAIN and keyframe["bytes"] == 900


def test_nothing_is_written_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(trace.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    _onset([0.0])
    assert list(tmp_path.iterdir()) == []
