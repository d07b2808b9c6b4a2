"""Co-host guests on the studio side: real PyAV-encoded H.264, VP8 and Opus through a guest link.

The link is in-process (``InProcessGuestLink``: what the relay's ingest would hand over); everything
after it is the product's path: the stage, the decoder worker, the guest source, the engine's
program and the mixer's channel and mix-minus return feed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Literal

import numpy as np
import pytest

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.sources.base import View
from scenes.sources.guest import GuestSource
from studio import commands as cmd
from studio.audio.inputs import ToneInput
from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.guests import video as guest_video
from studio.guests.layouts import guest_layout
from studio.guests.stage import GuestStage, channel_name
from studio.guests.synthetic import InProcessGuestLink, SyntheticGuestAudio, SyntheticGuestVideo, decode_opus
from studio.services.guest_link import GuestPacket

WAIT_S = 20.0
BLUE = "#FF0000FF"
GUEST_BGR = (40, 200, 60)  # a green-ish guest picture


class Rig:
    def __init__(self, width: int = 1280, height: int = 720) -> None:
        col = SceneCollection("t", VideoFormat(width, height, 30))
        col.add_source("bg", "color", {"color": BLUE, "width": width, "height": height})
        col.add_source("Guest 1", "guest", {"slot": 1, "width": width, "height": height})
        scene = col.add_scene("Show")
        scene.add_item(SceneItem("bg"))
        scene.add_item(SceneItem("Guest 1"))
        self.collection = col
        self.studio = Studio(col)
        self.mixer = AudioMixer()
        self.stage = GuestStage(self.studio, self.mixer)
        self.index = 0

    def render(self) -> np.ndarray:
        frame = self.studio.render_offline(self.index)
        self.index += 1
        return frame.pixels

    def source(self, name: str = "Guest 1") -> GuestSource:
        src = self.studio.sources[name]
        assert isinstance(src, GuestSource)
        return src

    def close(self) -> None:
        self.stage.close()
        self.studio.stop()
        self.studio.sources.close()
        self.mixer.stop()


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.close()


def solid(width: int, height: int, bgr: tuple[int, int, int] = GUEST_BGR) -> np.ndarray:
    return np.full((height, width, 3), bgr, np.uint8)


def send_video(link: InProcessGuestLink, enc: SyntheticGuestVideo, frames: int) -> None:
    for _ in range(frames):
        link.deliver(enc.encode(solid(enc.width, enc.height)))


def close_to(pixel: np.ndarray, bgr: tuple[int, int, int], tol: int = 12) -> bool:
    return bool(np.all(np.abs(pixel[:3].astype(int) - np.array(bgr)) <= tol))


def guest_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("guest-")]


@pytest.mark.parametrize("codec", ["h264", "vp8"])
def test_guest_picture_reaches_the_slot_and_the_program(rig: Rig, codec: Literal["h264", "vp8"]) -> None:
    link = InProcessGuestLink("g1", "小明")
    assert rig.stage.join(link) == 1
    assert link.attached and link.keyframe_requests >= 1
    rig.render()  # binds the source to slot 1's feed
    feed = rig.stage.feeds[1]
    enc = SyntheticGuestVideo(codec, 640, 360)
    send_video(link, enc, 3)
    assert feed.frames.wait(WAIT_S)
    picture = feed.frames.get()
    assert picture is not None and (picture.width, picture.height) == (1280, 720) and picture.opaque
    assert "guest-video:1" in guest_threads()
    program = rig.render()
    assert close_to(program[360, 640], GUEST_BGR)  # the guest covers the blue background on air
    assert rig.source().status() is None


def test_status_card_on_preview_only(rig: Rig) -> None:
    program = rig.render()
    src = rig.source()
    notice = src.status()
    assert notice is not None and notice.title == "GUEST 1" and "waiting" in notice.detail
    card = src.frame_for(View.PREVIEW)
    assert card is not None and (card.width, card.height) == (1280, 720)
    assert src.frame_for(View.PROGRAM) is None  # the audience never sees the card ...
    assert tuple(program[360, 640]) == (255, 0, 0, 255)  # ... the background shows through


def test_a_guest_that_stops_sending_is_dropped_then_live_again(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guest_video, "STALL_S", 0.3)
    link = InProcessGuestLink("g1", "guest")
    rig.stage.join(link)
    rig.render()
    feed = rig.stage.feeds[1]
    enc = SyntheticGuestVideo("h264", 640, 360)
    send_video(link, enc, 2)
    assert feed.frames.wait(WAIT_S)
    assert feed.wait_state("dropped", WAIT_S)  # nothing more came
    program = rig.render()
    assert tuple(program[360, 640]) == (255, 0, 0, 255)  # no frozen guest, no card on air
    notice = rig.source().status()
    assert notice is not None and "no picture" in notice.detail
    assert rig.source().frame_for(View.PREVIEW) is not None
    enc.request_keyframe()  # what the stage's keyframe request reaches in a browser
    send_video(link, enc, 2)
    assert feed.wait_state("live", WAIT_S)
    assert feed.frames.wait(WAIT_S)


def test_guest_that_leaves_abruptly_frees_worker_channel_and_encoder(rig: Rig) -> None:
    link = InProcessGuestLink("g1", "guest")
    rig.stage.join(link)
    assert channel_name(1) in [s.name for s in rig.mixer.inputs]
    assert {"guest-video:1", "guest-return:1"} <= set(guest_threads())
    link.end("timeout")  # the relay noticed the browser vanished
    feed = rig.stage.feeds[1]
    assert feed.status.state == "dropped" and "timeout" in feed.status.detail
    assert not link.attached
    assert channel_name(1) not in [s.name for s in rig.mixer.inputs]
    rig.stage.close()  # joins what the net loop only signalled
    assert guest_threads() == []
    # the slot is free for the next guest
    rig.stage = GuestStage(rig.studio, rig.mixer)
    assert rig.stage.join(InProcessGuestLink("g2", "next")) == 1


def test_4k_guest_is_scaled_on_the_worker(rig: Rig) -> None:
    link = InProcessGuestLink("g1", "4k")
    rig.stage.join(link)
    rig.render()
    enc = SyntheticGuestVideo("h264", 3840, 2160, bitrate=8_000_000)
    send_video(link, enc, 1)
    feed = rig.stage.feeds[1]
    assert feed.frames.wait(WAIT_S)
    picture = feed.frames.get()
    assert picture is not None and (picture.width, picture.height) == (1280, 720)  # the slot's size
    assert close_to(rig.render()[360, 640], GUEST_BGR)


def test_portrait_phone_guest_is_letterboxed(rig: Rig) -> None:
    link = InProcessGuestLink("g1", "phone")
    rig.stage.join(link)
    rig.render()
    enc = SyntheticGuestVideo("vp8", 360, 640)
    send_video(link, enc, 2)
    feed = rig.stage.feeds[1]
    assert feed.frames.wait(WAIT_S)
    picture = feed.frames.get()
    assert picture is not None and (picture.width, picture.height) == (1280, 720) and not picture.opaque
    program = rig.render()
    assert close_to(program[360, 640], GUEST_BGR)
    assert tuple(program[360, 20]) == (255, 0, 0, 255)  # the bars are transparent: background shows


def test_decoder_that_lost_sync_asks_for_a_keyframe(rig: Rig) -> None:
    key_asked = threading.Event()
    link = InProcessGuestLink("g1", "guest", on_keyframe_request=key_asked.set)
    rig.stage.join(link)
    key_asked.clear()
    enc = SyntheticGuestVideo("h264", 640, 360)
    packets = [p for _ in range(3) for p in enc.encode(solid(640, 360))]
    before = link.keyframe_requests
    link.deliver(packets[1:])  # the keyframe was lost: the decoder cannot start
    assert key_asked.wait(WAIT_S) and link.keyframe_requests > before
    enc.request_keyframe()
    send_video(link, enc, 1)
    assert rig.stage.feeds[1].frames.wait(WAIT_S)


def test_audio_only_guest(rig: Rig) -> None:
    link = InProcessGuestLink("g1", "voice", has_video=False)
    rig.stage.join(link)
    rig.render()
    assert "guest-video:1" not in guest_threads()  # no camera: no decoder
    notice = rig.source().status()
    assert notice is not None and "audio only" in notice.detail
    assert rig.source().frame_for(View.PROGRAM) is None
    audio = SyntheticGuestAudio()
    t = np.arange(960 * 10) / 48000
    tone = np.repeat((0.3 * np.sin(2 * np.pi * 440 * t))[:, None], 2, axis=1).astype(np.float32)
    link.deliver(audio.encode(tone))
    block = rig.mixer.mix_block()
    assert float(np.max(np.abs(block.samples))) > 0.05  # the guest's voice is in the program mix


def click_track(blocks: int, every: int) -> np.ndarray:
    """Silence with a 5 ms 1 kHz burst every ``every`` Opus frames (a click track)."""
    out = np.zeros((960 * blocks, 2), np.float32)
    burst = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(240) / 48000)
    for k in range(0, blocks, every):
        out[k * 960:k * 960 + 240] = burst[:, None]
    return out


def energy(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0


def band(samples: np.ndarray, low: float, high: float) -> float:
    """RMS of ``samples`` (left channel) between ``low`` and ``high`` Hz."""
    spectrum = np.fft.rfft(samples[:, 0])
    freqs = np.fft.rfftfreq(len(samples), 1 / 48000)
    spectrum[(freqs < low) | (freqs > high)] = 0
    return energy(np.fft.irfft(spectrum, len(samples))[:, None])


def test_mix_minus_return_feed_carries_everyone_but_the_guest(rig: Rig) -> None:
    a, b = InProcessGuestLink("a", "A"), InProcessGuestLink("b", "B", has_video=False)
    assert rig.stage.join(a) == 1 and rig.stage.join(b) == 2
    rig.mixer.add_input(ToneInput("host", 300.0, -20.0))  # the host's voice, everyone hears it
    program: list[np.ndarray] = []
    rig.mixer.add_listener(lambda samples, pts: program.append(samples))
    clicks = click_track(50, 5)  # one second: ten clicks from guest A
    packets = SyntheticGuestAudio().encode(clicks)
    delivered, mixed = 0, 0
    while mixed < len(clicks) + 960 * 10:
        # keep the guest's packets a little ahead of the mixer, as the network would
        while delivered < len(packets) and delivered * 960 < mixed + 960 * 4:
            a.deliver([packets[delivered]])
            delivered += 1
        rig.mixer.mix_block()
        mixed += rig.mixer.block_size
    mix = np.concatenate(program)
    want = len(mix) // 960 - 2
    assert a.wait_returned(want, WAIT_S) and b.wait_returned(want, WAIT_S)
    back_to_a = decode_opus(a.returned)
    back_to_b = decode_opus(b.returned)
    click = (700.0, 2000.0)  # the 1 kHz bursts' band, clear of the host's 300 Hz
    assert band(mix, *click) > 0.02  # the click is on air
    assert band(back_to_b, *click) > 0.02  # guest B hears guest A
    assert band(back_to_a, *click) < band(back_to_b, *click) / 30  # guest A does not hear themselves
    for heard in (back_to_a, back_to_b):  # both hear the host
        assert band(heard, 250, 350) > 0.03


def test_host_mute_follows_the_model_and_layouts_apply_in_one_step(rig: Rig) -> None:
    link = InProcessGuestLink("g1", "guest")
    rig.stage.join(link)
    rig.stage.set_muted("g1", True)
    assert rig.mixer.state(channel_name(1)).muted
    # a second guest and a side-by-side layout with the background as "host"
    rig.stage.join(InProcessGuestLink("g2", "guest two"))
    batch = guest_layout(rig.collection, "Show", "side_by_side", (1, 2), host_source="bg")
    rig.studio.submit(batch)
    rig.render()
    with rig.collection.lock:
        items = {it.source: it for it in rig.collection.scene("Show").items}
        assert "Guest 2" in rig.collection.sources and "Guest 2" in items
        assert items["bg"].scale_x == pytest.approx(1 / 3)
        # each guest source takes its panel's size (the worker scales, the clock copies at scale 1)
        guest2 = rig.collection.sources["Guest 2"].settings
        assert (guest2["width"], guest2["height"]) == (426, 240)
        assert items["Guest 2"].scale_x == 1.0 and items["Guest 2"].x == 854.0
    rig.studio.submit(guest_layout(rig.collection, "Show", "pip", (1, 2), host_source="bg"))
    rig.render()
    with rig.collection.lock:
        items = {it.source: it for it in rig.collection.scene("Show").items}
        assert items["bg"].scale_x == pytest.approx(1.0)
        guest1 = rig.collection.sources["Guest 1"].settings
        assert (guest1["width"], guest1["height"]) == (384, 216) and items["Guest 1"].scale_x == 1.0
        order = [it.source for it in rig.collection.scene("Show").items]
        assert order.index("Guest 1") > order.index("bg")
    rig.studio.submit(cmd.Undo())  # one step back: side by side again
    rig.render()
    with rig.collection.lock:
        items = {it.source: it for it in rig.collection.scene("Show").items}
        assert items["bg"].scale_x == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="at least one guest"):
        guest_layout(rig.collection, "Show", "full", ())


def test_packets_never_block_the_net_loop(rig: Rig) -> None:
    """A burst far bigger than the queue is taken at once (oldest dropped, counted)."""
    link = InProcessGuestLink("g1", "guest")
    rig.stage.join(link)
    channel = rig.stage.channel("g1")
    assert channel is not None and channel.video is not None
    enc = SyntheticGuestVideo("vp8", 64, 64)
    burst: list[GuestPacket] = [p for _ in range(40) for p in enc.encode(solid(64, 64))]
    link.deliver(burst)
    assert channel.video.packets_dropped > 0


def test_a_layout_resizes_the_guest_source_without_a_gap_on_air(rig: Rig) -> None:
    link = InProcessGuestLink("g1", "guest")
    rig.stage.join(link)
    rig.render()
    enc = SyntheticGuestVideo("h264", 640, 360)
    send_video(link, enc, 2)
    feed = rig.stage.feeds[1]
    assert feed.frames.wait(WAIT_S)
    rig.studio.submit(guest_layout(rig.collection, "Show", "pip", (1,)))
    program = rig.render()  # the worker has not seen the new size yet: the last picture is fitted
    with rig.collection.lock:
        item = next(it for it in rig.collection.scene("Show").items if it.source == "Guest 1")
    x, y = int(item.x), int(item.y)
    assert rig.source().size == (384, 216)
    assert close_to(program[y + 108, x + 192], GUEST_BGR)
    version = feed.frames.writes
    sizes = []
    for _ in range(5):  # a frame already queued may still come at the old size
        send_video(link, enc, 1)
        picture, version = feed.frames.wait_newer(version, WAIT_S)
        assert picture is not None
        sizes.append((picture.width, picture.height))
        if sizes[-1] == (384, 216):
            break
    assert sizes[-1] == (384, 216)  # the worker scales to the new size


def test_a_channel_name_already_taken_gets_a_co_host_suffix(rig: Rig) -> None:
    rig.mixer.add_input(ToneInput("Guest 1"))  # somebody named a microphone "Guest 1"
    rig.stage.join(InProcessGuestLink("g1", "guest"))
    assert "Guest 1 (co-host)" in [s.name for s in rig.mixer.inputs]
    rig.stage.set_muted("g1", True)
    assert rig.mixer.state("Guest 1 (co-host)").muted and not rig.mixer.state("Guest 1").muted


def test_four_guests_each_with_a_slot_and_a_channel_and_a_freed_slot_is_reused(rig: Rig) -> None:
    links = [InProcessGuestLink(f"g{i}", f"guest {i}") for i in range(1, 5)]
    assert [rig.stage.join(link) for link in links] == [1, 2, 3, 4]
    assert {channel_name(s) for s in (1, 2, 3, 4)} <= {s.name for s in rig.mixer.inputs}
    assert rig.stage.join(InProcessGuestLink("g5", "one too many")) is None  # the relay admits four
    links[1].end("left")
    assert rig.stage.feeds[2].status.state == "waiting"
    assert channel_name(2) not in {s.name for s in rig.mixer.inputs}
    assert rig.stage.join(InProcessGuestLink("g6", "next")) == 2
    assert [g.slot for g in rig.stage.guests()] == [1, 2, 3, 4]
