"""Engine audio: devices, inputs, the mixer (the master clock) and level meters.

Nothing here imports sounddevice at import time: without PortAudio the mixer still mixes clips and
tones, and ``audio_backend_status()`` says what is missing.
"""

from studio.audio.devices import (
    AudioBackendError,
    AudioDevice,
    audio_backend_status,
    doctor_report,
    find_device,
    input_devices,
    list_devices,
    output_devices,
)
from studio.audio.inputs import AudioInput, ClipAudioInput, MicrophoneInput, ToneInput
from studio.audio.meters import AudioLevels, ChannelLevels, LevelMeter, LevelPublisher, amplitude_to_dbfs
from studio.audio.mixer import (
    DEFAULT_BLOCK_SIZE,
    MAX_VOLUME_DB,
    MIN_VOLUME_DB,
    AudioMixer,
    InputState,
    MixedBlock,
    MixerChange,
    db_to_gain,
    soft_clip,
)

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "MAX_VOLUME_DB",
    "MIN_VOLUME_DB",
    "AudioBackendError",
    "AudioDevice",
    "AudioInput",
    "AudioLevels",
    "AudioMixer",
    "ChannelLevels",
    "ClipAudioInput",
    "InputState",
    "LevelMeter",
    "LevelPublisher",
    "MicrophoneInput",
    "MixedBlock",
    "MixerChange",
    "ToneInput",
    "amplitude_to_dbfs",
    "audio_backend_status",
    "db_to_gain",
    "doctor_report",
    "find_device",
    "input_devices",
    "list_devices",
    "output_devices",
    "soft_clip",
]
