"""The keyframe switch between the stream's two encodes: a newcomer takes over at its first keyframe;
and a receiver's keyframe request within the encoder's hold-off is made once it has passed."""

from __future__ import annotations

from fractions import Fraction

from encoders.packets import EncodedPacket
from encoders.settings import VideoEncoderSettings
from studio.outputs.stream_rendition import MAIN, SCALED, KeyframeSwitch, StreamRendition


def pkt(pts: int, key: bool = False) -> EncodedPacket:
    return EncodedPacket("video", b"x", pts, Fraction(1, 30), key, 0)


class Collect:
    def __init__(self) -> None:
        self.got: list[tuple[int, bool]] = []

    def put(self, packet: EncodedPacket) -> None:
        self.got.append((packet.pts, packet.keyframe))


def test_the_old_source_flows_until_the_new_one_sends_a_keyframe() -> None:
    sink = Collect()
    switched: list[str] = []
    switch = KeyframeSwitch(sink, MAIN, on_switched=switched.append)
    main, scaled = switch.input(MAIN), switch.input(SCALED)
    main.put(pkt(0, True))
    scaled.put(pkt(0, True))  # not selected: dropped
    switch.select(SCALED)
    main.put(pkt(1))
    scaled.put(pkt(1))  # selected but not a keyframe yet: the main one still flows
    main.put(pkt(2))
    scaled.put(pkt(2, True))
    main.put(pkt(3))
    scaled.put(pkt(3))
    assert sink.got == [(0, True), (1, False), (2, False), (2, True), (3, False)]
    assert switch.active == SCALED and switched == [SCALED] and switch.switches == 1


def test_the_outgoing_source_stops_at_a_keyframe_of_its_own_while_a_switch_is_pending() -> None:
    sink = Collect()
    switch = KeyframeSwitch(sink, MAIN)
    main, scaled = switch.input(MAIN), switch.input(SCALED)
    main.put(pkt(0, True))
    switch.select(SCALED)
    main.put(pkt(1))
    main.put(pkt(2, True))  # a receiver's request answered just before the step: a big IDR, no use now
    main.put(pkt(3))  # needs that IDR: held too
    scaled.put(pkt(3, True))
    scaled.put(pkt(4))
    main.put(pkt(4, True))  # not selected: dropped as before
    assert sink.got == [(0, True), (1, False), (3, True), (4, False)]


def test_a_switch_called_off_after_the_outgoing_source_was_held_resumes_it_at_its_next_keyframe() -> None:
    sink = Collect()
    switch = KeyframeSwitch(sink, MAIN)
    main = switch.input(MAIN)
    main.put(pkt(0, True))
    switch.select(SCALED)
    main.put(pkt(1, True))  # held
    switch.select(MAIN)  # the step is called off before the scaled encode's keyframe
    main.put(pkt(2))  # still needs the held IDR
    main.put(pkt(3, True))
    main.put(pkt(4))
    assert sink.got == [(0, True), (3, True), (4, False)] and switch.active == MAIN and switch.pending is None


def test_selecting_the_active_source_cancels_a_pending_switch() -> None:
    sink = Collect()
    switch = KeyframeSwitch(sink)
    switch.select(SCALED)
    switch.select(MAIN)
    switch.input(SCALED).put(pkt(0, True))
    assert switch.active == MAIN and switch.pending is None and sink.got == []


def test_without_a_sink_nothing_is_forwarded() -> None:
    switch = KeyframeSwitch()
    switch.input(MAIN).put(pkt(0, True))
    sink = Collect()
    switch.set_sink(sink)
    switch.input(MAIN).put(pkt(1))
    assert sink.got == [(1, False)]


def test_a_new_picture_is_announced_right_before_its_first_keyframe_reaches_the_sink() -> None:
    sink = Collect()
    seen: list[tuple[str, int]] = []  # (source, packets the sink had then)
    switch = KeyframeSwitch(sink, MAIN, on_switching=lambda name: seen.append((name, len(sink.got))))
    main, scaled = switch.input(MAIN), switch.input(SCALED)
    main.put(pkt(0, True))
    main.put(pkt(30, True))  # a scheduled keyframe of the same picture: nothing new
    switch.select(SCALED)
    main.put(pkt(31))
    scaled.put(pkt(31, True))  # the step's first keyframe: announced before it goes out
    scaled.put(pkt(32))
    scaled.put(pkt(61, True))
    switch.restart(SCALED)  # the scaled encode changes size: its next keyframe is a new picture
    scaled.put(pkt(62))
    scaled.put(pkt(63, True))
    assert seen == [(SCALED, 3), (SCALED, 7)]
    assert sink.got[3] == (31, True) and sink.got[7] == (63, True)


class MainEncoder:
    """What ``StreamRendition`` calls on the main encode (the top rung needs nothing else)."""

    def __init__(self) -> None:
        self.keyframe_requests = 0

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1


def test_a_keyframe_request_goes_to_the_encoder_the_stream_is_watching() -> None:
    # (the encoder keeps one made within its hold-off: test_webrtc_keyframe_requests)
    main = MainEncoder()
    rendition = StreamRendition(main, VideoEncoderSettings(fps=30), lambda: None)  # type: ignore[arg-type]
    sink = Collect()
    rendition.switch.set_sink(sink)
    rendition.main_input.put(pkt(0, True))
    rendition.request_keyframe()
    assert main.keyframe_requests == 1
    rendition.main_input.put(pkt(1))
    assert len(sink.got) == 2  # every packet still reached the stream
