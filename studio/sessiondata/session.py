"""One show's session recording: the writer, the rundown binding and the health sampler together,
so ``studio.show.Show`` needs only a few lines (start, bind a rundown, close)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from studio.engine import Studio
from studio.interaction.adapters import Adapter
from studio.interaction.hub import HubServer
from studio.interaction.service import InteractionService
from studio.outputs.pipeline import OutputPipeline
from studio.rundown.events import RundownEvents
from studio.sessiondata.recorder import (
    HealthSample,
    HealthSampler,
    RecordingAdapter,
    RundownRecorder,
    record_poll,
)
from studio.sessiondata.store import new_session_path
from studio.sessiondata.writer import SessionWriter

log = logging.getLogger(__name__)


class SessionRecording:
    def __init__(self, path: Path | None = None, *, meta: dict[str, str] | None = None) -> None:
        self.writer = SessionWriter(path or new_session_path())
        self.writer.set_meta("started", f"{time.time():.3f}")
        for key, value in (meta or {}).items():
            self.writer.set_meta(key, value)
        self._rundown: RundownRecorder | None = None
        self._health: HealthSampler | None = None
        self._links: list[Callable[[], None]] = []

    @property
    def path(self) -> Path:
        return self.writer.path

    def tap(self, adapter: Adapter) -> Adapter:
        """The source the interaction service should read: the same messages, also recorded."""
        return RecordingAdapter(adapter, self.writer)

    def bind_interaction(self, service: InteractionService) -> None:
        self._links.append(service.poll_updated.connect(lambda u: record_poll(self.writer, u)))

    def bind_rundown(self, events: RundownEvents, rundown_path: Path | None = None) -> None:
        if self._rundown is not None:
            self._rundown.close()
        self._rundown = RundownRecorder(self.writer, events)
        if rundown_path is not None:
            self.writer.set_meta("rundown", str(rundown_path))

    def sample_health(self, probe: Callable[[], HealthSample], every_s: float = 2.0) -> None:
        self._health = HealthSampler(self.writer, probe, every_s)

    def set_meta(self, key: str, value: object) -> None:
        self.writer.set_meta(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))

    def close(self) -> None:
        if self._health is not None:
            self._health.close()
        if self._rundown is not None:
            self._rundown.close()
        for disconnect in self._links:
            disconnect()
        self.writer.set_meta("ended", f"{time.time():.3f}")
        self.writer.close()
        if self.writer.dropped:
            log.warning("session %s: %d events dropped (the disk was too slow)", self.path.name, self.writer.dropped)


def show_health_probe(pipeline: OutputPipeline, studio: Studio, hub: HubServer | None) -> Callable[[], HealthSample]:
    """Stream bitrate (OutputPipeline.snapshot), lagged frames (Studio.lagged) and open viewer
    connections (HubServer.stats) for :meth:`SessionRecording.sample_health`."""

    def probe() -> HealthSample:
        stream = pipeline.snapshot().stream
        viewers = hub.stats().viewers if hub is not None else 0  # a length read: safe off the loop
        return HealthSample(stream.bitrate_bps if stream else 0, studio.lagged, viewers)

    return probe
