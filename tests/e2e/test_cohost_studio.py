"""Co-hosting end to end (issue 15): a headless Chromium guest with a fake camera (a Y4M file of
stamped frames the test writes) and a fake microphone (a WAV click track) joins through the relay's
guest ingest; the studio's guest stage decodes them into the program and the mixer.

The guest appears in the program picture (its stamp is read from the program's pixels), the guest's
clicks reach the recording, and the guest's return feed (the Opus packets the studio pushes to the
relay for that guest) carries the host's voice but not the guest's own clicks (mix-minus).
"""

from __future__ import annotations

import os
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from requirements_check import missing_tool

from scenes.model import SceneCollection, SceneItem, VideoFormat
from scenes.stamp import draw_stamp, read_stamp
from studio.audio.inputs import ToneInput
from studio.chromium import CHROMIUM, CHROMIUM_ARGS
from studio.guests.stage import StageGuest
from studio.guests.synthetic import decode_opus
from studio.services.guest_ingest import GuestPeer
from studio.show import Show

WAIT = 30.0
WAIT_MS = 30_000
CAMERA = (640, 360)
CLICK_HZ, HOST_HZ = 1000.0, 300.0


def write_camera(path: Path, frames: int = 60) -> Path:
    """A Y4M clip (Chromium's fake camera loops it): grey with frame stamps 0..frames-1."""
    w, h = CAMERA
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            bgr = np.full((h, w, 3), 90, np.uint8)
            draw_stamp(bgr, i, i)
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def write_clicks(path: Path, seconds: float = 2.0) -> Path:
    """A WAV click track (Chromium's fake microphone loops it): 40 ms of 1 kHz every 250 ms."""
    rate = 48000
    samples = np.zeros(int(rate * seconds), np.float32)
    burst = 0.6 * np.sin(2 * np.pi * CLICK_HZ * np.arange(int(rate * 0.04)) / rate)
    for start in range(0, len(samples) - len(burst), rate // 4):
        samples[start:start + len(burst)] = burst
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype(np.int16).tobytes())
    return path


def band(samples: np.ndarray, low: float, high: float) -> float:
    spectrum = np.fft.rfft(samples[:, 0].astype(np.float64))
    freqs = np.fft.rfftfreq(len(samples), 1 / 48000)
    spectrum[(freqs < low) | (freqs > high)] = 0
    filtered = np.fft.irfft(spectrum, len(samples))
    return float(np.sqrt(np.mean(filtered ** 2)))


def recorded_audio(path: Path) -> np.ndarray:
    parts = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=48000)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1, 2))
    return np.concatenate(parts)


@pytest.fixture
def guest_browser(tmp_path: Path) -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        missing_tool(f"{CHROMIUM} is not installed (the Makefile installs Debian's chromium as root)")
    from playwright.sync_api import sync_playwright

    camera, mic = write_camera(tmp_path / "camera.y4m"), write_clicks(tmp_path / "clicks.wav")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}", f"--use-file-for-fake-audio-capture={mic}"])
        try:
            yield chromium
        finally:
            chromium.close()


class ReturnTap:
    """What the studio pushes to the relay as each guest's return feed (a tap on the real link)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.packets: list[av.Packet] = []
        self.cond = threading.Condition()
        original = GuestPeer.push_return_audio

        def tapped(peer: GuestPeer, packet: av.Packet) -> None:
            with self.cond:
                self.packets.append(packet)
                self.cond.notify_all()
            original(peer, packet)

        monkeypatch.setattr(GuestPeer, "push_return_audio", tapped)

    def mark(self) -> int:
        with self.cond:
            return len(self.packets)

    def wait_more(self, after: int, count: int) -> list[av.Packet]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.packets) >= after + count, WAIT), len(self.packets)
            return self.packets[after:]


def test_a_browser_guest_on_the_program_in_the_recording_and_not_in_their_own_return_feed(
        guest_browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, studio_home: Path) -> None:
    tap = ReturnTap(monkeypatch)
    col = SceneCollection("cohost", VideoFormat(1280, 720, 30))
    col.add_source("backdrop", "color", {"color": "#FF402010", "width": 1280, "height": 720})
    col.add_source("Guest 1", "guest", {"slot": 1, "width": 1280, "height": 720})
    col.add_scene("Show").add_item(SceneItem("backdrop"))
    col.scene("Show").add_item(SceneItem("Guest 1"))
    # the show as the window and `studio headless` run it: relay with guest ingest, co-host model,
    # guest stage, mixer, recorder
    show = Show(col, relay_port=0, hub_port=0)
    show.mixer.add_input(ToneInput("host", HOST_HZ, -20.0))  # the host's voice: everyone hears it
    studio, stage = show.studio, show.guest_stage
    joined = threading.Event()

    def on_stage(guests: tuple[StageGuest, ...]) -> None:
        if guests:
            joined.set()

    stage.changed.connect(on_stage)
    recording = tmp_path / "show.mkv"
    page = None
    try:
        show.start()
        assert show.services is not None and show.services.cohost is not None
        cohost = show.services.cohost
        show.start_recording(recording)
        invite = cohost.create_invite("小明")
        base, _, fragment = invite.url.partition("#")
        page = guest_browser.new_page()
        page.goto(f"{base}?codec=h264#{fragment}", wait_until="domcontentloaded")
        page.wait_for_function("!document.getElementById('join').disabled", timeout=WAIT_MS)
        page.click("#join")
        page.wait_for_function("window.guestState.state === 'waiting'", timeout=WAIT_MS)
        assert joined.wait(WAIT)
        guest = stage.guests()[0]
        assert guest.slot == 1 and guest.name == "小明" and guest.has_video

        # the guest's camera is on the program: its stamp is read from the composited pixels
        feed = stage.feeds[1]
        assert feed.frames.wait(WAIT)
        seen: set[int] = set()
        version = 0
        while len(seen) < 3:
            frame, version = studio.program.wait_newer(version, WAIT)
            assert frame is not None
            stamp = read_stamp(frame.pixels[:200, :700].copy())
            if stamp is not None:
                seen.add(stamp.frame_number)
        assert max(seen) < 60  # the Y4M's own frame numbers

        # on air: the guest's channel opens; let a few seconds of clicks reach the recording
        cohost.set_on_air(guest.guest_id, True)
        page.wait_for_function("window.guestState.state === 'on_air'", timeout=WAIT_MS)
        start = tap.mark()
        returned = tap.wait_more(start, 150)  # three seconds of the guest's return feed
        show.stop_recording()
        back = decode_opus(returned)
        on_air = recorded_audio(recording)
        on_air = on_air[-len(back):] if len(on_air) > len(back) else on_air
        rec_click, rec_host = band(on_air, 700, 2000), band(on_air, 250, 350)
        ret_click, ret_host = band(back, 700, 2000), band(back, 250, 350)
        assert rec_click > 0.01 and rec_host > 0.02  # the guest's clicks and the host are recorded
        assert ret_host > 0.02  # the guest hears the host ...
        assert ret_click < rec_click / 10  # ... but not their own clicks: no echo
        page.click("#leave")
        page.wait_for_function("window.guestState.state === 'ended'", timeout=WAIT_MS)
    finally:
        if page is not None:
            page.close()
        show.stop()
        studio.sources.close()
