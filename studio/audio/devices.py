"""Audio devices through sounddevice (PortAudio), and a health check for ``studio doctor``.

Importing sounddevice raises ``OSError`` when the PortAudio shared library is missing. The engine
never imports it at module level: everything goes through ``load_sounddevice()``, which turns that
failure into an ``AudioBackendError`` with a message a user can act on. Without PortAudio the mixer
still mixes clip audio and tones; only microphones and the monitor output are unavailable.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

log = logging.getLogger(__name__)

Kind = Literal["input", "output"]

PORTAUDIO_MISSING = "PortAudio library not found: install libportaudio2 (apt) or portaudio (brew)"


class AudioBackendError(RuntimeError):
    """sounddevice/PortAudio is unusable, or a device cannot be found or opened."""


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False

    @property
    def is_input(self) -> bool:
        return self.max_input_channels > 0

    @property
    def is_output(self) -> bool:
        return self.max_output_channels > 0

    def __str__(self) -> str:
        return f"[{self.index}] {self.name} ({self.hostapi}, in {self.max_input_channels}, out {self.max_output_channels}, {self.default_samplerate:g} Hz)"


def load_sounddevice() -> ModuleType:
    """Import sounddevice, or raise ``AudioBackendError`` saying what to install."""
    try:
        return importlib.import_module("sounddevice")
    except OSError as exc:  # raised by sounddevice itself when libportaudio cannot be loaded
        log.debug("sounddevice import failed: %s", exc)
        raise AudioBackendError(PORTAUDIO_MISSING) from exc
    except ImportError as exc:
        raise AudioBackendError(f"the sounddevice package is not installed: {exc}") from exc


def list_devices() -> list[AudioDevice]:
    """Every device PortAudio reports, inputs and outputs. Raises ``AudioBackendError``."""
    sd = load_sounddevice()
    try:
        raw: Any = sd.query_devices()
        hostapis: Any = sd.query_hostapis()
        default_in, default_out = _default_indices(sd)
    except Exception as exc:  # PortAudioError and friends: report, never crash the caller
        raise AudioBackendError(f"cannot query audio devices: {exc}") from exc
    devices = []
    for info in raw:
        index = int(info["index"])
        host = int(info.get("hostapi", -1))
        devices.append(
            AudioDevice(
                index=index,
                name=str(info["name"]),
                hostapi=str(hostapis[host]["name"]) if 0 <= host < len(hostapis) else "?",
                max_input_channels=int(info["max_input_channels"]),
                max_output_channels=int(info["max_output_channels"]),
                default_samplerate=float(info["default_samplerate"]),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return devices


def input_devices() -> list[AudioDevice]:
    return [d for d in list_devices() if d.is_input]


def output_devices() -> list[AudioDevice]:
    return [d for d in list_devices() if d.is_output]


def find_device(spec: int | str | None, kind: Kind) -> AudioDevice:
    """Resolve a device: None = the default, int = a PortAudio index, str = a (sub)string of the name.

    Raises ``AudioBackendError`` with the devices on offer when nothing matches.
    """
    if kind not in ("input", "output"):
        raise ValueError(f"device kind must be 'input' or 'output', got {kind!r}")
    candidates = [d for d in list_devices() if (d.is_input if kind == "input" else d.is_output)]
    if not candidates:
        raise AudioBackendError(f"no audio {kind} devices")
    if spec is None:
        for d in candidates:
            if d.is_default_input if kind == "input" else d.is_default_output:
                return d
        return candidates[0]
    if isinstance(spec, int):
        for d in candidates:
            if d.index == spec:
                return d
    else:
        exact = [d for d in candidates if d.name == spec]
        partial = exact or [d for d in candidates if spec.lower() in d.name.lower()]
        if partial:
            return partial[0]
    names = ", ".join(str(d) for d in candidates)
    raise AudioBackendError(f"no audio {kind} device matches {spec!r}; available: {names}")


def audio_backend_status() -> tuple[bool, str]:
    """(available, message) for ``studio doctor``: available means a microphone can be opened."""
    try:
        sd = load_sounddevice()
        devices = list_devices()
    except AudioBackendError as exc:
        return False, str(exc)
    inputs = [d for d in devices if d.is_input]
    outputs = [d for d in devices if d.is_output]
    version = getattr(sd, "get_portaudio_version", lambda: (0, "PortAudio"))()[1]
    if not inputs:
        return False, f"no audio input devices ({version}; {len(outputs)} output device(s))"
    default = next((d for d in inputs if d.is_default_input), inputs[0])
    return (
        True,
        f"{version}: {len(inputs)} input, {len(outputs)} output device(s); default input {default.name}",
    )


def _default_indices(sd: ModuleType) -> tuple[int, int]:
    default: Any = sd.default.device
    try:
        return int(default[0]), int(default[1])
    except (TypeError, ValueError, IndexError):
        return -1, -1


def doctor_report() -> dict[str, Any]:
    """The ``audio`` section of ``studio doctor``: a verdict plus the devices on offer."""
    ok, message = audio_backend_status()
    report: dict[str, Any] = {"ok": ok, "message": message}
    try:
        devices = list_devices()
    except AudioBackendError:
        return report  # the message already says what is missing
    report["inputs"] = [str(d) for d in devices if d.is_input]
    report["outputs"] = [str(d) for d in devices if d.is_output]
    return report
