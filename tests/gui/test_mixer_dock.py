"""The Audio Mixer dock (pytest-qt): strips follow the mixer, faders/mute/monitor drive it, meters
show a running tone, and a machine without PortAudio (or without microphones) is told why."""

from __future__ import annotations

import ctypes.util
import sys
import threading
import types
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from scenes.audio import AudioRing
from studio.audio.inputs import ClipAudioInput, ToneInput
from studio.audio.mixer import AudioMixer
from widgets.meter import FLOOR_DB, AudioMeter
from widgets.mixer_dock import MixerDock, db_to_fader, fader_to_db, format_db

TIMEOUT_MS = 20_000


@pytest.fixture
def mixer() -> Iterator[AudioMixer]:
    m = AudioMixer()
    yield m
    m.stop()


@pytest.fixture
def dock(qtbot: QtBot, mixer: AudioMixer, qapp_language: None) -> Iterator[MixerDock]:
    d = MixerDock(mixer)
    qtbot.addWidget(d)
    d.resize(520, 420)
    d.show()
    yield d
    d.close_bridge()


@pytest.fixture
def no_portaudio(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import sounddevice`` fail exactly as it does on a machine without libportaudio."""
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)


def test_fader_mute_and_monitor_drive_the_mixer_and_follow_it(dock: MixerDock, mixer: AudioMixer,
                                                             qtbot: QtBot) -> None:
    name = dock.add_test_tone()
    strip = dock.strips[name]
    assert strip.fader.value() == db_to_fader(0.0) and strip.db_label.text() == "+0.0 dB"
    assert strip.remove is not None  # a tone is the director's own: it can be removed here
    strip.fader.setFocus()
    qtbot.keyClick(strip.fader, Qt.Key.Key_PageDown)  # one page: -3 dB
    assert mixer.state(name).volume_db == pytest.approx(-3.0)
    assert strip.db_label.text() == "-3.0 dB"
    strip.fader.setValue(strip.fader.minimum())  # the bottom of the fader is off
    assert mixer.state(name).volume_db == float("-inf") and strip.db_label.text() == format_db(-60.0)

    qtbot.mouseClick(strip.mute, Qt.MouseButton.LeftButton)
    assert mixer.state(name).muted
    qtbot.mouseClick(strip.mute, Qt.MouseButton.LeftButton)
    assert not mixer.state(name).muted

    # changes made elsewhere (another thread) reach the strip on the UI thread, without echoes
    def elsewhere() -> None:
        mixer.set_volume(name, 6.0)
        mixer.set_muted(name, True)

    other = threading.Thread(target=elsewhere, name="test-remote")
    other.start()
    other.join()
    qtbot.waitUntil(lambda: strip.mute.isChecked() and strip.fader.value() == db_to_fader(6.0),
                    timeout=TIMEOUT_MS)
    assert mixer.state(name).volume_db == 6.0

    # no output device here: monitoring is set, and the dock says why nothing is heard
    qtbot.mouseClick(strip.monitor, Qt.MouseButton.LeftButton)
    assert mixer.state(name).monitored
    if mixer.monitor_error:
        assert dock.status.isVisibleTo(dock) and "monitor output" in dock.status.full_text

    qtbot.mouseClick(strip.remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: name not in dock.strips, timeout=TIMEOUT_MS)
    assert [s.name for s in mixer.inputs] == []
    assert dock.empty.isVisibleTo(dock)


def test_clip_inputs_appear_and_disappear_with_their_sources(dock: MixerDock, mixer: AudioMixer,
                                                            qtbot: QtBot) -> None:
    assert dock.empty.isVisibleTo(dock)
    # the engine adds and removes clip inputs on its clock thread
    adder = threading.Thread(target=lambda: mixer.add_input(ClipAudioInput("Episode 3", AudioRing())),
                             name="test-clock")
    adder.start()
    adder.join()
    qtbot.waitUntil(lambda: "Episode 3" in dock.strips, timeout=TIMEOUT_MS)
    strip = dock.strips["Episode 3"]
    assert strip.remove is None and strip.title.toolTip() == "Media clip audio"
    assert not dock.empty.isVisibleTo(dock)
    remover = threading.Thread(target=lambda: mixer.remove_input("Episode 3"), name="test-clock")
    remover.start()
    remover.join()
    qtbot.waitUntil(lambda: "Episode 3" not in dock.strips, timeout=TIMEOUT_MS)


def test_a_running_tone_lights_its_meter_and_the_master(dock: MixerDock, mixer: AudioMixer,
                                                       qtbot: QtBot) -> None:
    mixer.add_input(ToneInput("tone", level_dbfs=-12.0))
    mixer.add_input(ToneInput("quiet", level_dbfs=-50.0))
    mixer.start()
    tone, quiet = dock.strips["tone"].meter, dock.strips["quiet"].meter
    qtbot.waitUntil(lambda: tone.peak_db[0] > -14.0 and dock.master.peak_db[0] > -14.0, timeout=TIMEOUT_MS)
    # a sine's RMS is 3 dB under its peak (the first window also holds the input's fade-in)
    qtbot.waitUntil(lambda: abs(tone.rms_db[0] - -15.0) < 1.0, timeout=TIMEOUT_MS)
    assert tone.hold_db[0] >= tone.peak_db[0] - 0.5
    assert -52.0 < quiet.peak_db[0] < -48.0
    # muting keeps the strip's own meter (it still picks up sound) but silences the master
    mixer.set_muted("tone", True)
    mixer.set_muted("quiet", True)
    qtbot.waitUntil(lambda: dock.master.rms_db[0] <= FLOOR_DB, timeout=TIMEOUT_MS)
    assert tone.peak_db[0] > -14.0


def test_meter_paints_obs_colours_and_skips_needless_repaints(qtbot: QtBot) -> None:
    meter = AudioMeter(2)
    qtbot.addWidget(meter)
    meter.resize(300, 20)
    meter.set_levels((0.0, 0.0), (0.0, 0.0), (0.0, 0.0))
    image = meter.grab().toImage()
    left, middle, right = (QColor(image.pixel(x, 5)) for x in (20, 200, 290))
    assert left.green() > 150 and left.red() < 120  # green below -20 dBFS
    assert middle.red() > 180 and middle.green() > 150 and middle.blue() < 120  # yellow to -9 dBFS
    assert right.red() > 180 and right.green() < 120  # red above
    repaints = meter.repaints
    meter.set_levels((-0.1, 0.0), (0.0, -0.1), (0.0, 0.0))  # under a visible step: no repaint
    assert meter.repaints == repaints
    meter.set_levels((-6.0, -6.0), (-9.0, -9.0), (0.0, 0.0))
    assert meter.repaints == repaints + 1
    assert fader_to_db(db_to_fader(-60.0)) == float("-inf") and fader_to_db(db_to_fader(12.0)) == 12.0


def test_without_portaudio_the_microphone_menu_says_what_to_install(no_portaudio: None, mixer: AudioMixer,
                                                                   qtbot: QtBot, qapp_language: None) -> None:
    dock = MixerDock(mixer)
    qtbot.addWidget(dock)
    dock.show()
    try:
        assert dock.status.isVisibleTo(dock)
        text = dock.status.full_text
        assert text.startswith("Microphones unavailable: PortAudio library not found") and "libportaudio2" in text
        assert dock.status.toolTip() == text and dock.status.text()  # elided to one line, whole in the tip
        assert dock.refresh_devices() == []
        actions = dock.mic_menu.actions()
        assert len(actions) == 1 and not actions[0].isEnabled()
        assert "PortAudio library not found" in actions[0].text()
        # tones need no audio backend
        name = dock.add_test_tone()
        assert name in dock.strips
    finally:
        dock.close_bridge()


def test_the_microphone_menu_lists_input_devices(monkeypatch: pytest.MonkeyPatch, mixer: AudioMixer,
                                                 qtbot: QtBot, qapp_language: None) -> None:
    # a stand-in for PortAudio with a USB microphone (no capture hardware exists on this machine)
    sd = types.ModuleType("sounddevice")
    devices = [
        {"name": "USB Mic", "index": 0, "hostapi": 0, "max_input_channels": 1, "max_output_channels": 0,
         "default_samplerate": 48000.0},
        {"name": "Speakers", "index": 1, "hostapi": 0, "max_input_channels": 0, "max_output_channels": 2,
         "default_samplerate": 48000.0},
    ]
    sd.query_devices = lambda: devices  # type: ignore[attr-defined]
    sd.query_hostapis = lambda: [{"name": "ALSA"}]  # type: ignore[attr-defined]
    sd.default = types.SimpleNamespace(device=[0, 1])  # type: ignore[attr-defined]
    sd.get_portaudio_version = lambda: (0, "PortAudio stand-in")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    dock = MixerDock(mixer)
    qtbot.addWidget(dock)
    try:
        assert not dock.status.isVisibleTo(dock)  # microphones are available: nothing to explain
        found = dock.refresh_devices()
        assert [d.name for d in found] == ["USB Mic"]
        assert [a.text() for a in dock.mic_menu.actions()] == ["USB Mic (default)"]
        assert dock.mic_menu.actions()[0].isEnabled()
    finally:
        dock.close_bridge()
