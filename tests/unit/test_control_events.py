"""Engine states as obs-websocket events: the stream's states (incl. RECONNECTING) and meters."""

from __future__ import annotations

from studio.audio.meters import SILENCE_DB, AudioLevels, ChannelLevels
from studio.control.events import StreamStates, meter_inputs
from studio.outputs.whip_events import OutputStatus as S


def test_stream_states_map_to_obs_output_states() -> None:
    walk = [S.IDLE, S.CONNECTING, S.LIVE, S.RECONNECTING, S.RECONNECTING, S.CONNECTING, S.RECONNECTING,
            S.CONNECTING, S.LIVE, S.STOPPED,
            S.CONNECTING, S.FAILED, S.FAILED]
    said = []
    states = StreamStates()
    for now in walk:
        event = states.feed(now)
        if event is not None:
            said.append((event["outputState"].removeprefix("OBS_WEBSOCKET_OUTPUT_"), event["outputActive"]))
    assert said == [("STARTING", False), ("STARTED", True), ("RECONNECTING", True), ("RECONNECTED", True),
                    ("STOPPED", False), ("STARTING", False), ("STOPPED", False)]


def test_meter_levels_are_linear_per_channel() -> None:
    levels = AudioLevels(pts=1024, master=ChannelLevels("master", (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
                         sources=(ChannelLevels("Mic", (-6.0, SILENCE_DB), (-20.0, SILENCE_DB), (-6.0, SILENCE_DB)),))
    [mic] = meter_inputs(levels)
    assert mic["inputName"] == "Mic" and mic["inputUuid"]
    (magnitude, peak, input_peak), silent = mic["inputLevelsMul"]
    assert round(magnitude, 3) == 0.1 and round(peak, 3) == 0.501 and input_peak == peak
    assert silent == [0.0, 0.0, 0.0]
