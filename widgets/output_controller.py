"""Runs the show's slow operations off the UI thread and reports back as Qt signals.

``Show.start()``/``stop()`` and starting or stopping streaming and recording do network and disk
work (binding ports, WHIP requests, opening and finalising files). They run in order on one named
``ui-outputs`` worker thread; what they produce, and what the engine reports on its own threads
(stream state, pipeline stats, encoder fallbacks, recorder events), reaches the UI through this
object's signals, which Qt queues to the UI thread.

Each output has a *phase* the buttons follow: ``idle`` -> ``starting`` -> ``active`` ->
``stopping`` -> ``idle``. A stream that failed for good, or a recording the recorder ended on its
own (disk full, write error), is cleaned up here so the next start works.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from studio.outputs.output_plan import plan_outputs
from studio.outputs.output_scaling import DEFAULT_STREAM_MAX_HEIGHT
from studio.outputs.pipeline import StreamTarget
from studio.outputs.recorder import RecorderEvent
from studio.outputs.whip_events import OutputState, OutputStatus
from studio.secrets import Secret, SecretStoreError, redact
from studio.show import Show
from studio.stream_token import keyring_key
from studio.stream_token import resolve_token as _resolve_token

log = logging.getLogger(__name__)

PHASES = ("idle", "starting", "active", "stopping")


@dataclass(frozen=True)
class StreamRequest:
    """What the UI asks for; resolved to a ``StreamTarget`` on the worker (the keyring may block)."""

    url: str | None  # None: the local relay
    min_kbps: int
    max_kbps: int
    session_token: Secret | None = None  # a token the keyring could not keep (this session only)


class _Worker:
    """One named thread that runs jobs in the order they were submitted."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:  # each job reports its own failure; this is the last safety net
                log.exception("output job failed")

    def close(self, timeout: float = 60.0) -> None:
        """Finish the queued jobs and join the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._jobs.put(None)
        thread.join(timeout)
        if thread.is_alive():
            log.error("the %s thread did not finish within %.0f s", self._name, timeout)


class OutputController(QObject):
    # show lifecycle
    show_started = Signal(object)  # ServiceUrls | None
    show_failed = Signal(str)
    show_stopped = Signal()
    # outputs
    phase_changed = Signal(str, str)  # "stream" | "record", phase
    stream_state = Signal(object)  # OutputState (engine thread -> UI)
    recording_started = Signal(object)  # Path
    recording_stopped = Signal(object)  # RecorderStats | None
    recorder_event = Signal(object)  # RecorderEvent
    pipeline_stats = Signal(object)  # PipelineStats (about once a second)
    fallback = Signal(object)  # encoders.video.FallbackEvent
    hub_status = Signal(object)  # studio.interaction.service.SourceStatus
    error = Signal(str, str)  # "show" | "stream" | "record", message
    # worker -> UI results (private)
    _stream_done = Signal(str, str)  # new phase, error message
    _record_done = Signal(str, object, str)  # new phase, Path | RecorderStats | None, error message
    _show_done = Signal(str, object)  # "started" | "failed" | "stopped", payload
    output_plan = Signal(object)  # studio.outputs.output_plan.OutputPlan: a canvas above 1080p, once started

    def __init__(self, show: Show, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.show = show
        self.phases = {"stream": "idle", "record": "idle"}
        self.show_phase = "idle"  # idle, starting, running, stopping, stopped, failed
        self.recording_path: Path | None = None
        self.last_stream_state: OutputState | None = None
        self._failed_while_starting = False
        self._worker = _Worker("ui-outputs")
        self._stop_callbacks: list[Callable[[], None]] = []
        self._stream_done.connect(self._on_stream_done)
        self._record_done.connect(self._on_record_done)
        self._show_done.connect(self._on_show_done)
        self.stream_state.connect(self._on_stream_state)
        self.recorder_event.connect(self._on_recorder_event)
        pipeline = show.pipeline
        self._disconnects = [
            pipeline.stream_state.connect(self.stream_state.emit),
            pipeline.stats.connect(self.pipeline_stats.emit),
            pipeline.recorder_events.connect(self.recorder_event.emit),
            pipeline.fallbacks.connect(self.fallback.emit),
        ]

    # ---- the show ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.show_phase == "running"

    @property
    def needs_stop(self) -> bool:
        """Something may be running (a failed start can leave services half up)."""
        return self.show_phase in ("starting", "running", "failed")

    def start_show(self) -> None:
        if self.show_phase != "idle":
            return
        self.show_phase = "starting"
        self._worker.submit(self._job_start_show)

    def _job_start_show(self) -> None:
        try:
            urls = self.show.start()
        except Exception as exc:  # a busy port, a broken source: say so, keep the window up
            log.exception("starting the show failed")
            self._show_done.emit("failed", str(exc) or type(exc).__name__)
            return
        interaction = self.show.interaction
        if interaction is not None:
            self._disconnects.append(interaction.status.connect(self.hub_status.emit))
        self._plan_outputs()
        self._show_done.emit("started", urls)

    def _plan_outputs(self) -> None:
        """A canvas above 1080p: measure what this machine encodes with the compositor running (as on
        air; seconds, on this worker), and size the main encode before any output starts."""
        studio = self.show.studio
        if studio.height <= DEFAULT_STREAM_MAX_HEIGHT:
            return
        try:
            plan = plan_outputs((studio.width, studio.height), studio.fps,
                                stream_cap=self.show.pipeline.stream_max_height)
            self.show.pipeline.set_encode_size(*plan.record)
        except Exception:  # the outputs still start at the canvas size: say why in the log
            log.exception("the 4K output plan failed")
            return
        log.info("4K: %s", plan.summary)
        self.output_plan.emit(plan)

    def stop_show(self, then: Callable[[], None] | None = None) -> None:
        """Stop everything (a recording is finalised) on the worker; ``then`` runs on the UI thread."""
        if then is not None:
            self._stop_callbacks.append(then)
        if self.show_phase in ("stopping", "stopped"):
            if self.show_phase == "stopped":
                self._run_stop_callbacks()
            return
        self.show_phase = "stopping"
        for which in ("stream", "record"):
            if self.phases[which] != "idle":
                self._set_phase(which, "stopping")
        self._worker.submit(self._job_stop_show)

    def _job_stop_show(self) -> None:
        try:
            self.show.stop()
        except Exception as exc:
            log.exception("stopping the show failed")
            self.error.emit("show", redact(str(exc)))
        self._show_done.emit("stopped", None)

    def _on_show_done(self, what: str, payload: object) -> None:
        if what == "started":
            if self.show_phase == "stopping":
                return  # closed while starting: the queued stop follows
            self.show_phase = "running"
            self.show_started.emit(payload)
        elif what == "failed":
            if self.show_phase == "stopping":
                return
            self.show_phase = "failed"
            self.show_failed.emit(redact(str(payload)))
        else:
            self.show_phase = "stopped"
            for which in ("stream", "record"):
                self._set_phase(which, "idle")
            self.show_stopped.emit()
            self._run_stop_callbacks()

    def _run_stop_callbacks(self) -> None:
        callbacks, self._stop_callbacks = self._stop_callbacks, []
        for callback in callbacks:
            callback()

    # ---- streaming ---------------------------------------------------------------------------------
    def start_streaming(self, request: StreamRequest) -> bool:
        """Ask for the stream to start; False when it cannot now (the show is not running, or busy)."""
        if not self.running or self.phases["stream"] != "idle":
            return False
        self._set_phase("stream", "starting")
        self.last_stream_state = None
        self._failed_while_starting = False
        self._worker.submit(lambda: self._job_start_stream(request))
        return True

    def _job_start_stream(self, request: StreamRequest) -> None:
        try:
            self.show.start_streaming(self.resolve_target(request))
        except Exception as exc:  # ValueError (no URL), a bad token store, a failed encoder
            log.warning("starting the stream failed: %s", exc)
            self._stream_done.emit("idle", str(exc) or type(exc).__name__)
            return
        self._stream_done.emit("active", "")

    def resolve_target(self, request: StreamRequest) -> StreamTarget | None:
        if request.url is None:
            urls = self.show.urls
            if urls is None:
                return None  # Show explains that there is nowhere to stream
            return StreamTarget(urls.whip, None, request.min_kbps, request.max_kbps)
        token = request.session_token
        if token is None:
            try:
                token = _resolve_token(request.url, None)
            except SecretStoreError as exc:  # no keyring: stream without a token, say why
                log.warning("%s", exc)
                token = None
        return StreamTarget(request.url, token, request.min_kbps, request.max_kbps)

    def stop_streaming(self) -> None:
        if self.phases["stream"] != "active":
            return
        self._set_phase("stream", "stopping")
        self._worker.submit(self._job_stop_stream)

    def _job_stop_stream(self) -> None:
        try:
            self.show.stop_streaming()
        except Exception as exc:
            log.exception("stopping the stream failed")
            self._stream_done.emit("idle", str(exc))
            return
        self._stream_done.emit("idle", "")

    def _on_stream_done(self, phase: str, message: str) -> None:
        if self.show_phase in ("stopping", "stopped"):
            return  # the show's own stop decides the phases now
        self._set_phase("stream", phase)
        if message:
            self.error.emit("stream", redact(message))  # a server's answer may quote the token
        if phase == "active" and self._failed_while_starting:
            self._release_failed_stream()

    def _on_stream_state(self, state: OutputState) -> None:
        if self.phases["stream"] == "idle" and state.state is OutputStatus.STOPPED:
            return  # the echo of a stop we already handled
        self.last_stream_state = state
        if state.state is OutputStatus.FAILED:
            if self.phases["stream"] == "active":
                self._release_failed_stream()
            elif self.phases["stream"] == "starting":  # failed before the start job reported back
                self._failed_while_starting = True

    def _release_failed_stream(self) -> None:
        """A failed output will not retry: release it so the button starts a fresh one."""
        self._failed_while_starting = False
        self._set_phase("stream", "stopping")
        self._worker.submit(self._job_stop_stream)

    # ---- recording ---------------------------------------------------------------------------------
    def start_recording(self, folder: Path | None, container: str) -> bool:
        if not self.running or self.phases["record"] != "idle":
            return False
        if container not in ("mkv", "mp4"):
            raise ValueError(f"recording container must be mkv or mp4, got {container!r}")
        self._set_phase("record", "starting")
        self._worker.submit(lambda: self._job_start_record(folder, container))
        return True

    def _job_start_record(self, folder: Path | None, container: str) -> None:
        try:
            path = self.show.start_recording(folder, container)
        except Exception as exc:  # no space, no permission, a bad folder
            log.warning("starting the recording failed: %s", exc)
            self._record_done.emit("idle", None, str(exc) or type(exc).__name__)
            return
        self._record_done.emit("active", path, "")

    def stop_recording(self) -> None:
        if self.phases["record"] != "active":
            return
        self._set_phase("record", "stopping")
        self._worker.submit(self._job_stop_record)

    def _job_stop_record(self) -> None:
        try:
            stats = self.show.stop_recording()
        except Exception as exc:
            log.exception("stopping the recording failed")
            self._record_done.emit("idle", None, str(exc))
            return
        self._record_done.emit("idle", stats, "")

    def _on_record_done(self, phase: str, payload: object, message: str) -> None:
        if self.show_phase in ("stopping", "stopped"):
            return
        previous = self.phases["record"]
        self._set_phase("record", phase)
        if phase == "active" and isinstance(payload, Path):
            self.recording_path = payload
            self.recording_started.emit(payload)
        elif phase == "idle" and previous == "stopping":
            self.recording_stopped.emit(payload)
        if message:
            self.error.emit("record", redact(message))

    def _on_recorder_event(self, event: RecorderEvent) -> None:
        if event.kind in ("stopped", "error") and self.phases["record"] == "active" \
                and event.path == self.recording_path:
            # the recorder ended on its own (disk full, write error): release it
            self._set_phase("record", "stopping")
            self._worker.submit(self._job_stop_record)

    # ---- phases --------------------------------------------------------------------------------------
    def _set_phase(self, which: str, phase: str) -> None:
        assert phase in PHASES, phase
        if self.phases[which] != phase:
            self.phases[which] = phase
            self.phase_changed.emit(which, phase)

    def close(self, timeout: float = 60.0) -> None:
        """Stop listening to the engine and join the worker (after its queued jobs)."""
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()
        self._worker.close(timeout)


def session_token_for(url: str, pair: tuple[str, Secret] | None) -> Secret | None:
    """The session-only token when it was entered for this very endpoint."""
    if pair is None:
        return None
    return pair[1] if keyring_key(pair[0]) == keyring_key(url) else None
