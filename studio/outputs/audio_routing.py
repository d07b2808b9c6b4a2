"""Keeps the mixer's clip inputs in step with the media sources that are live in the engine.

Runs as a frame hook on the clock thread, the only thread that creates or replaces sources, so it
sees a branch switch (a new clip adopted under the same name) on the frame it happens.
"""

from __future__ import annotations

from collections.abc import Mapping

from scenes.audio import AudioRing
from scenes.sources.base import Source
from studio.audio.inputs import ClipAudioInput
from studio.audio.mixer import AudioMixer


class ClipAudioRouter:
    def __init__(self, mixer: AudioMixer, sources: Mapping[str, Source]) -> None:
        self._mixer = mixer
        self._sources = sources
        self._rings: dict[str, AudioRing] = {}

    def sync(self, _frame: tuple[int, int] | None = None) -> None:
        live = {name: ring for name, src in list(self._sources.items())
                if isinstance(ring := getattr(src, "audio", None), AudioRing)}
        for name in list(self._rings):
            if live.get(name) is not self._rings[name]:
                self._mixer.remove_input(name)
                del self._rings[name]
        for name, ring in live.items():
            if name not in self._rings:
                self._mixer.add_input(ClipAudioInput(name, ring))
                self._rings[name] = ring
