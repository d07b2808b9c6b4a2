"""SRT destinations against a real SRT listener (libsrt, listen mode) started by the test: MPEG-TS
pushed in caller mode with latency, streamid and passphrase; decoded back; a wrong passphrase stops
the destination with a clear message."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from srt_listener import SrtListener, srt_sockets_released
from test_destinations_rtmp import SYNC_BOX, Rig, live

from studio.outputs.destinations import Destination, SrtOptions
from studio.outputs.whip_events import OutputStatus
from studio.secrets import Secret
from studio.sync_clip import av_offsets_ms, click_times, flash_times

PASSPHRASE = "srt-pass-4d1f7e"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with srt_sockets_released():
        r = Rig(tmp_path)
        r.start()
        try:
            yield r
        finally:
            r.close()


def test_srt_push_decodes_back_with_size_rate_sync_and_streamid(rig: Rig, tmp_path: Path) -> None:
    listener = SrtListener(tmp_path / "got.ts", passphrase=PASSPHRASE).start(want_bytes=600_000)
    try:
        dest = Destination(f"{listener.url}?latency=200&streamid=studio/live", srt=SrtOptions(latency_ms=120))
        assert dest.srt.latency_ms == 200 and dest.srt.streamid == "studio/live"
        rig.pipeline.destinations.start(dest, passphrase=Secret(PASSPHRASE))
        rig.wait_for(dest, live)
        assert listener.got_bytes.wait(60)
        rig.wait_for(dest, lambda s: s.sent_frames >= 120)
        rig.pipeline.destinations.stop(dest.id)
    finally:
        listener.stop()
    assert listener.streamid == "studio/live"
    got = tmp_path / "got.ts"
    with av.open(str(got)) as c:
        kinds = sorted(s.type for s in c.streams)
        frames = list(c.decode(video=0))
    assert kinds == ["audio", "video"]
    assert (frames[0].width, frames[0].height) == (1280, 720)
    times = [f.time for f in frames if f.time is not None]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert abs(1 / statistics.median(gaps) - 30) < 1
    offsets = av_offsets_ms(flash_times(got, SYNC_BOX), click_times(got))
    assert offsets and abs(statistics.median(offsets)) <= 40, offsets
    assert rig.last(dest).dropped_frames == 0


def test_srt_wrong_passphrase_stops_with_a_clear_message(rig: Rig, tmp_path: Path) -> None:
    listener = SrtListener(tmp_path / "none.ts", passphrase=PASSPHRASE).start()
    try:
        dest = Destination(listener.url)
        rig.pipeline.destinations.start(dest, passphrase=Secret("not-the-passphrase"))
        failed = rig.wait_for(dest, lambda s: s.state is OutputStatus.FAILED)
        assert "passphrase" in failed.message and "not-the-passphrase" not in failed.message
    finally:
        rig.pipeline.destinations.stop_all()
        listener.stop()
