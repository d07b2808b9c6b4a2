"""A killed WHIP server is noticed by its silence (not aiortc's 30 s ICE timeout), the studio is live
again once the server returns on the same port, and the recording never stops meanwhile.

Real processes: `studio serve` runs as a child process and is SIGKILLed; the studio side is the
real engine -> encoder -> WhipOutput, recording at the same time. No timings are asserted here:
the seconds are measured by `studio bench liveness`."""

from __future__ import annotations

import time
from pathlib import Path

from studio.bench._relay_process import RelayProcess
from studio.bench.liveness import PushingStudio, free_port, is_live, not_live, recording_gap_s, restart_on
from studio.outputs.whip_events import OutputStatus


def test_a_killed_server_is_noticed_by_silence_and_the_stream_returns_with_it(tmp_path: Path) -> None:
    port = free_port()
    relay = RelayProcess(port, tmp_path)
    pusher: PushingStudio | None = None
    try:
        url = relay.start()
        pusher = PushingStudio(url, tmp_path / "rec.mkv")
        pusher.start()
        seen, _, _ = pusher.wait_for(is_live)
        # on air until the server has reported (the watch arms on the first RTCP)
        pusher.wait_until(lambda: pusher.feedback_age_s is not None)
        before_kill = pusher.recorded_bytes()

        killed = time.monotonic()
        relay.kill()
        seen, _, gone = pusher.wait_for(not_live, seen + 1)
        assert gone.state is OutputStatus.RECONNECTING
        assert "no RTCP" in gone.message, gone  # the silence watch, not ICE consent, ended it
        # the countdown says when the next attempt comes
        seen, _, waiting = pusher.wait_for(lambda s: s.retry_in_s is not None, seen)
        assert waiting.state is OutputStatus.RECONNECTING

        relay = restart_on(port, tmp_path)
        seen, back, _ = pusher.wait_for(is_live, seen + 1)
        outage_s = back - killed
        during = pusher.recorded_bytes()
        assert during > before_kill  # the recording kept going while the stream was down
        pusher.wait_until(lambda: pusher.recorded_bytes() > during)
    finally:
        if pusher is not None:
            pusher.close()
        relay.stop()
    frames, gap = recording_gap_s(tmp_path / "rec.mkv")  # decodes from end to end
    assert frames > 30
    # had the recording paused with the stream, one gap would span the whole outage (a busy machine
    # makes smaller ones: lagged frames)
    assert gap < outage_s / 2, f"the recording has a {gap:.2f} s hole in a {outage_s:.1f} s outage"
