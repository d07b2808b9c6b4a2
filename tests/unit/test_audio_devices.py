"""Audio devices: the backend status for ``studio doctor``, the no-PortAudio path, microphones and
the monitor output.

Real devices are used where the machine has them. Where a test needs a device that cannot exist
here, a stand-in ``sounddevice`` module plays PortAudio's part (it calls the stream callbacks as
PortAudio's thread would); the engine code that selects, opens and feeds the device is the real one.
"""

from __future__ import annotations

import ctypes.util
import sys
import threading
import types
from typing import Any

import numpy as np
import pytest

from scenes.audio import SAMPLE_RATE, AudioRing
from studio.audio import (
    AudioBackendError,
    AudioMixer,
    ClipAudioInput,
    MicrophoneInput,
    MixedBlock,
    ToneInput,
    audio_backend_status,
    doctor_report,
    find_device,
    input_devices,
    list_devices,
)


@pytest.fixture
def no_portaudio(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import sounddevice`` fail exactly as it does on a machine without libportaudio."""
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)


def test_without_portaudio_status_is_clear_and_clip_audio_still_mixes(no_portaudio: None) -> None:
    with pytest.raises(OSError, match="PortAudio"):  # the failure we guard against is the real one
        import sounddevice  # noqa: F401
    available, message = audio_backend_status()
    assert not available
    assert "PortAudio library not found" in message and "libportaudio2" in message
    with pytest.raises(AudioBackendError, match="PortAudio library not found"):
        list_devices()
    assert doctor_report() == {"ok": False, "message": message}

    mic = MicrophoneInput("mic")
    mic.start()  # must not raise
    assert mic.error is not None and "PortAudio library not found" in mic.error
    assert not mic.running

    ring = AudioRing()
    ring.write(np.full((4096, 2), 0.25, np.float32))
    mixer = AudioMixer(1024)
    mixer.add_input(ClipAudioInput("clip", ring))
    mixer.add_input(mic)
    assert not mixer.start_monitor()
    assert mixer.monitor_error is not None and "PortAudio" in mixer.monitor_error
    blocks = [mixer.mix_block().samples for _ in range(3)]
    np.testing.assert_allclose(blocks[2], 0.25, atol=1e-6)
    assert not mic.ring.read(16).any()


def test_status_reflects_the_devices_of_this_machine() -> None:
    available, message = audio_backend_status()
    report = doctor_report()
    assert (report["ok"], report["message"]) == (available, message)
    assert len(report["inputs"]) == len(input_devices())
    if input_devices():
        assert available and "input" in message
    else:
        assert not available and "no audio input devices" in message
        with pytest.raises(AudioBackendError, match="no audio input devices"):
            find_device(None, "input")
        mic = MicrophoneInput("mic")
        mic.start()
        assert mic.error == "microphone 'mic': no audio input devices"
    with pytest.raises(ValueError, match="device kind"):
        find_device(None, "both")  # type: ignore[arg-type]


def test_microphone_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="channels"):
        MicrophoneInput("mic", channels=0)
    with pytest.raises(ValueError, match="samplerate"):
        MicrophoneInput("mic", samplerate=100)
    with pytest.raises(ValueError, match="name"):
        MicrophoneInput(" ")


class _Collector:
    """Program blocks from the mixer, with a condition to wait for a count (no sleeps)."""

    def __init__(self, mixer: AudioMixer) -> None:
        self.blocks: list[MixedBlock] = []
        self._cond = threading.Condition()
        mixer.blocks.connect(self._add)

    def _add(self, block: MixedBlock) -> None:
        with self._cond:
            self.blocks.append(block)
            self._cond.notify_all()

    def wait_for(self, count: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.blocks) >= count, timeout=10.0), (
                f"waited for {count} blocks, got {len(self.blocks)}"
            )


def _real_input_device_reason() -> str | None:
    try:
        return None if input_devices() else "this machine has no audio input device"
    except AudioBackendError as exc:
        return str(exc)


@pytest.mark.skipif(_real_input_device_reason() is not None, reason=str(_real_input_device_reason()))
def test_real_microphone_feeds_the_mixer() -> None:
    mixer = AudioMixer(1024)
    mic = MicrophoneInput("mic")
    mixer.add_input(mic)
    program = _Collector(mixer)
    mixer.start()
    try:
        program.wait_for(10)
    finally:
        mixer.stop()
    assert mic.error is None, mic.error
    assert mic.device is not None and mic.device.is_input
    assert [b.pts for b in program.blocks[:10]] == [i * 1024 for i in range(10)]


# ---- a stand-in for PortAudio, for devices this machine does not have ---------------------------


class _FakeStream:
    def __init__(self, callback: Any, finished_callback: Any = None, **settings: Any) -> None:
        self.callback = callback
        self.finished_callback = finished_callback
        self.settings = settings
        self.started = False
        self.closed = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True


class _FakeOutputStream(_FakeStream):
    """The test thread plays PortAudio's part: each ``pull`` is one device callback."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.played: list[np.ndarray] = []

    def pull(self) -> None:
        frames = self.settings["blocksize"]
        out = np.zeros((frames, self.settings["channels"]), np.float32)
        self.callback(out, frames, None, None)
        self.played.append(out)


def _fake_sounddevice(input_rate: float, input_channels: int) -> types.ModuleType:
    sd = types.ModuleType("sounddevice")
    devices = [
        {
            "name": "USB Mic",
            "index": 0,
            "hostapi": 0,
            "max_input_channels": input_channels,
            "max_output_channels": 0,
            "default_samplerate": input_rate,
        },
        {
            "name": "Headphones",
            "index": 1,
            "hostapi": 0,
            "max_input_channels": 0,
            "max_output_channels": 2,
            "default_samplerate": 48000.0,
        },
    ]
    sd.query_devices = lambda: devices  # type: ignore[attr-defined]
    sd.query_hostapis = lambda: [{"name": "ALSA"}]  # type: ignore[attr-defined]
    sd.default = types.SimpleNamespace(device=[0, 1])  # type: ignore[attr-defined]
    sd.get_portaudio_version = lambda: (0, "PortAudio stand-in")  # type: ignore[attr-defined]
    sd.streams = []  # type: ignore[attr-defined]

    def input_stream(**kwargs: Any) -> _FakeStream:
        stream = _FakeStream(**kwargs)
        sd.streams.append(stream)  # type: ignore[attr-defined]
        return stream

    def output_stream(**kwargs: Any) -> _FakeOutputStream:
        stream = _FakeOutputStream(**kwargs)
        sd.streams.append(stream)  # type: ignore[attr-defined]
        return stream

    sd.InputStream = input_stream  # type: ignore[attr-defined]
    sd.OutputStream = output_stream  # type: ignore[attr-defined]
    return sd


def test_mono_44k1_microphone_is_resampled_to_48k_stereo(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = _fake_sounddevice(44100.0, 1)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    assert audio_backend_status() == (
        True,
        "PortAudio stand-in: 1 input, 1 output device(s); default input USB Mic",
    )
    mic = MicrophoneInput("mic", device="usb", max_latency_s=2.0)
    mic.start()
    assert mic.error is None and mic.running
    stream = sd.streams[0]  # type: ignore[attr-defined]
    assert stream.settings["samplerate"] == 44100 and stream.settings["channels"] == 1
    # PortAudio's thread delivers one second of a 1 kHz tone in 441-frame buffers
    t = np.arange(44100) / 44100
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)[:, None]
    for i in range(0, 44100, 441):
        stream.callback(tone[i : i + 441], 441, None, None)
    got = mic.ring.read(mic.ring.available)
    assert abs(len(got) - SAMPLE_RATE) <= 64  # the resampler may hold a few samples back
    steady = got[2000:-2000]
    np.testing.assert_array_equal(steady[:, 0], steady[:, 1])  # mono on both channels
    assert float(np.abs(steady).max()) == pytest.approx(0.5, rel=0.01)
    crossings = np.count_nonzero(np.diff(np.signbit(got[:, 0]).astype(np.int8)))
    assert crossings == pytest.approx(2000, abs=4)  # still 1 kHz at the new rate
    mic.stop()
    assert stream.closed and not mic.running


def test_missing_named_microphone_reports_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(48000.0, 2))
    mic = MicrophoneInput("mic", device="Studio Condenser")
    mic.start()
    assert mic.error is not None
    assert "no audio input device matches 'Studio Condenser'" in mic.error and "USB Mic" in mic.error


def test_monitor_device_paces_the_mixer_and_plays_only_monitored_inputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sd = _fake_sounddevice(48000.0, 2)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    mixer = AudioMixer(512)
    mixer.monitor_stall_s = 60.0  # this test decides when the device pulls
    mixer.add_input(ToneInput("cue", frequency=1000.0, level_dbfs=-6.0206), monitored=True)
    mixer.add_input(ToneInput("program-only", frequency=300.0, level_dbfs=-6.0206))
    program = _Collector(mixer)
    mixer.start(monitor_device="Headphones")
    try:
        assert mixer.monitor_error is None
        device = sd.streams[0]  # type: ignore[attr-defined]
        assert device.settings["samplerate"] == SAMPLE_RATE and device.settings["blocksize"] == 512
        program.wait_for(2)  # the mixer fills the device's queue (two blocks), then waits for it
        for pulls in range(1, 13):
            device.pull()
            program.wait_for(2 + pulls)  # each block the device takes is mixed again
    finally:
        mixer.stop()
    assert device.closed
    # paced by the device: exactly one block mixed per block played, beyond the two queued
    assert len(program.blocks) == 2 + 12
    assert [b.pts for b in program.blocks] == [i * 512 for i in range(14)]
    played = np.concatenate(device.played[1:])
    # the monitor carries the 1 kHz cue at 0.5 peak, not the 300 Hz program-only tone
    spectrum = np.abs(np.fft.rfft(played[:, 0]))
    freqs = np.fft.rfftfreq(len(played), 1 / SAMPLE_RATE)
    assert abs(freqs[int(np.argmax(spectrum))] - 1000) < 20
    assert spectrum[np.argmin(np.abs(freqs - 300))] < spectrum.max() * 0.01
    assert float(np.abs(played).max()) == pytest.approx(0.5, rel=0.01)
    program_peak = max(float(np.abs(b.samples).max()) for b in program.blocks[1:])
    assert program_peak > 0.85  # both tones in the program (one alone peaks at 0.5; the limiter holds -1 dBFS)


def test_stalled_monitor_device_falls_back_to_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = _fake_sounddevice(48000.0, 2)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    mixer = AudioMixer(256)
    mixer.monitor_stall_s = 0.0  # the device never pulls: give up on it at once
    mixer.add_input(ToneInput("tone"))
    program = _Collector(mixer)
    mixer.start(monitor_device=None)
    try:
        program.wait_for(10)  # the program keeps flowing on the clock
    finally:
        mixer.stop()
    assert mixer.monitor_error == "monitor output: the monitor output device stopped pulling audio"
    assert sd.streams[0].closed  # type: ignore[attr-defined]


def test_unplugged_monitor_device_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = _fake_sounddevice(48000.0, 2)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    mixer = AudioMixer(256)
    mixer.monitor_stall_s = 60.0
    mixer.add_input(ToneInput("tone"))
    program = _Collector(mixer)
    mixer.start(monitor_device=1)
    try:
        program.wait_for(2)
        sd.streams[0].finished_callback()  # type: ignore[attr-defined]  # PortAudio: stream gone
        program.wait_for(12)
    finally:
        mixer.stop()
    assert mixer.monitor_error == "monitor output: the monitor output device stopped"
