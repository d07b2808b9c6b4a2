"""Binds a running ``Show`` to the main window: Controls, Stats, the mixer and interaction docks.

The ``OutputController`` does the slow work off the UI thread; this object turns what it reports
into what the director sees: button phases, the stream's state (connecting / live / reconnecting
with a countdown / failed with the reason), the recording's file name and elapsed time, disk and
encoder-fallback warnings, the stats rows, the viewer page address and the hub's status. Closing
the window while on air asks first; the show then stops on the worker and the window closes when
it has (a recording in progress is finalised).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QFrame, QMessageBox, QScrollArea, QWidget

from encoders.video import FallbackEvent
from studio.catalogue.assistant import FaqAssistant
from studio.interaction.service import SourceStatus
from studio.outputs.pipeline import PipelineStats
from studio.outputs.recorder import RecorderEvent, RecorderStats
from studio.outputs.whip_events import OutputState, OutputStatus
from studio.rundown.model import Rundown
from studio.secrets import Secret
from studio.services.local import ServiceUrls
from studio.show import Show
from widgets.catalogue_editor import CatalogueEditor
from widgets.cohost_dock import CohostDock
from widgets.danmaku_dock import DanmakuDock
from widgets.destination_binding import DestinationBinding
from widgets.docks.controls import format_elapsed, format_size, stream_status
from widgets.i18n import tr
from widgets.mixer_dock import MixerDock
from widgets.output_controller import OutputController, StreamRequest, session_token_for
from widgets.prelive_check import PreLiveCheck, PreLiveFindings, describe_plan
from widgets.rundown_dock import RundownDock
from widgets.viewer_link import ViewerLink
from widgets.votes_dock import VotesDock

if TYPE_CHECKING:
    from widgets.main_window import MainWindow

STARTING_REASON = "The show is starting…"
FAILED_REASON = "The show could not start; see the status bar."
STOPPED_REASON = "The show has stopped."


def _scrolling(widget: QWidget) -> QScrollArea:
    """A tall form in a scroll area, so its dock does not set the window's minimum height."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(widget)
    return scroll


class ShowBinding(QObject):
    def __init__(self, window: MainWindow, show: Show) -> None:
        super().__init__(window)
        self.window = window
        self.show = show
        self.controls = window.controls
        show.pipeline.stream_max_height = window.settings.stream_max_height  # before the output plan
        self.outputs = OutputController(show, self)
        # before going live: extreme words on screen and every file the show can reach (worker thread)
        self.prelive = PreLiveCheck(show.collection, window, self._catalogue_ids,
                                    lambda: show.pipeline.stream_max_height)
        self.prelive.checked.connect(self._apply_output_plan)  # before ``go``: the encode's size first
        self.outputs.output_plan.connect(lambda plan: self.window.statusBar().showMessage(describe_plan(plan)))
        self.session_token: tuple[str, Secret] | None = None  # a token the keyring could not keep
        self.interaction_docks: list[QWidget] = []
        self._stream_state: OutputState | None = None
        self._record_started = 0.0  # time.monotonic() when the recording began
        self._record_bytes = 0
        self._hub: SourceStatus | None = None
        self._closing = False
        self.closed = False

        self.mixer = MixerDock(show.mixer, window)
        self.link = ViewerLink(window)
        window.statusBar().insertPermanentWidget(0, self.link)
        # RTMP/SRT/WHIP destinations: rows in the controls and stats docks (widgets.destination_binding)
        self.destinations = DestinationBinding(show, self.controls.destinations, window.stats.destinations, self)
        self.destinations.problem.connect(lambda m: window.statusBar().showMessage(m, 15_000))
        for which in ("stream", "record"):
            self.controls.set_output_available(which, False, STARTING_REASON)
        o = self.outputs
        o.show_started.connect(self._on_started)
        o.show_failed.connect(self._on_failed)
        o.show_stopped.connect(self._on_stopped)
        o.phase_changed.connect(self._on_phase)
        o.stream_state.connect(self._on_stream_state)
        o.recording_started.connect(self._on_recording_started)
        o.recording_stopped.connect(self._on_recording_stopped)
        o.recorder_event.connect(self._on_recorder_event)
        o.pipeline_stats.connect(self._on_pipeline_stats)
        o.fallback.connect(self._on_fallback)
        o.hub_status.connect(self._on_hub_status)
        o.error.connect(self._on_error)
        self.controls.stream_toggled.connect(self._stream_clicked)
        self.controls.record_toggled.connect(self._record_clicked)
        # elapsed recording time and the hub's viewer count: once a second is enough
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)

    # ---- the show --------------------------------------------------------------------------------------
    def start(self) -> None:
        self.outputs.start_show()
        self.window.statusBar().showMessage(tr("Starting the show…"))

    def _on_started(self, urls: ServiceUrls | None) -> None:
        self.window.statusBar().clearMessage()
        if self.show.control_error is not None:  # e.g. OBS holds port 4455: say why tools cannot connect
            self.window.statusBar().showMessage(
                tr("Remote control is off: {error}").format(error=self.show.control_error), 15_000)
        for which in ("stream", "record"):
            self.controls.set_output_available(which, True)
        if urls is not None:
            self.link.set_url(urls.viewer)
            self._hub = SourceStatus("running")
            self._show_hub()
        interaction = self.show.interaction
        if interaction is not None:
            right = Qt.DockWidgetArea.RightDockWidgetArea
            danmaku, votes = DanmakuDock(interaction, self.window), VotesDock(interaction, self.window)
            self.window.docks["danmaku"] = self.window.add_dock("Danmaku", "danmakuDock", danmaku, right)
            self.window.docks["votes"] = self.window.add_dock("Votes", "votesDock", _scrolling(votes), right)
            if not self.window.restored_dock("danmakuDock"):
                # one column of tabs: stacked, the two docks would outgrow the window's height
                self.window.tabifyDockWidget(self.window.docks["danmaku"], self.window.docks["votes"])
                self.window.docks["danmaku"].raise_()
            self.interaction_docks = [danmaku, votes]
            if self.show.catalogue is not None:  # suggested answers to product questions
                danmaku.add_faq_panel(FaqAssistant(self.show.catalogue.catalogue))
                self._add_catalogue_dock()
        cohost = getattr(self.show.services, "cohost", None)  # the relay's co-host model, when serving
        if cohost is not None:
            dock = CohostDock(cohost, self.show.guest_stage, self.show.studio, self.window)
            self.window.docks["cohost"] = self.window.add_dock(
                "Co-host", "cohostDock", _scrolling(dock), Qt.DockWidgetArea.RightDockWidgetArea)
            if "votes" in self.window.docks and not self.window.restored_dock("cohostDock"):
                self.window.tabifyDockWidget(self.window.docks["votes"], self.window.docks["cohost"])
            self.interaction_docks.append(dock)
        self._add_rundown_dock()
        self.timer.start()

    def _add_catalogue_dock(self) -> None:
        opened = self.show.catalogue
        if opened is None or "catalogue" in self.window.docks:
            return
        editor = CatalogueEditor(opened.catalogue, opened.path, self.window)
        dock = self.window.add_dock("Products", "catalogueDock", editor, Qt.DockWidgetArea.RightDockWidgetArea)
        self.window.docks["catalogue"] = dock
        if not self.window.restored_dock("catalogueDock") and "danmaku" in self.window.docks:
            self.window.tabifyDockWidget(self.window.docks["danmaku"], dock)
            self.window.docks["danmaku"].raise_()

    def _add_rundown_dock(self) -> None:
        if "rundown" in self.window.docks:
            return
        library = self.window.library_dock
        dock = RundownDock(self.show.rundown, self.window, start=self.show.start_rundown,
                           stop=self.show.stop_rundown, path=self.show.default_rundown(),
                           before_start=self.prelive.run, library=library.library)
        library.rundown_target = dock  # the library's "Use in rundown…"
        self.window.add_dock_widget(dock)
        self.window.docks["rundown"] = dock

    def _catalogue_ids(self) -> list[str] | None:
        """The show's catalogue's product ids for the pre-live check (None before it is open)."""
        opened = self.show.catalogue
        return None if opened is None else [p.id for p in opened.catalogue.products]

    def _apply_output_plan(self, findings: PreLiveFindings) -> None:
        """A canvas above 1080p: the recording follows what this machine keeps, and the director is told."""
        plan = findings.plan
        if plan is None:
            return
        with contextlib.suppress(ValueError):  # an output already running keeps its size until all stop
            self.show.pipeline.set_encode_size(*plan.record)
        self.window.statusBar().showMessage(describe_plan(plan))

    def _on_failed(self, message: str) -> None:
        for which in ("stream", "record"):
            self.controls.set_output_available(which, False, FAILED_REASON)
        self.window.statusBar().showMessage(tr("The show could not start: {message}").format(message=message))

    def _on_stopped(self) -> None:
        self.timer.stop()
        for which in ("stream", "record"):
            self.controls.set_output_available(which, False, STOPPED_REASON)

    # ---- buttons -----------------------------------------------------------------------------------------
    def stream_request(self) -> StreamRequest:
        s = self.window.settings
        url = None if s.stream_local_relay or not s.stream_url else s.stream_url
        token = session_token_for(url, self.session_token) if url else None
        return StreamRequest(url, s.stream_min_kbps, s.stream_max_kbps, token)

    def _stream_clicked(self, on: bool) -> None:
        if not on:
            self.outputs.stop_streaming()
            return
        self.controls.set_output_phase("stream", "starting")
        self.controls.set_status("stream", lambda: (tr("Checking the show before going live…"), "warn"))
        if not self.prelive.run(self._rundown_to_check(), self._go_live, self._stay_off_air):
            self._stay_off_air()

    def _rundown_to_check(self) -> Rundown | Path | None:
        """The rundown on air, else the one chosen in the rundown dock (it is about to run)."""
        executor = self.show.rundown
        if executor is not None:
            return executor.rundown
        dock = self.window.docks.get("rundown")
        return dock.path if isinstance(dock, RundownDock) else None

    def _go_live(self) -> None:
        self._stream_state = None
        self.controls.set_status("stream", None)
        if not self.outputs.start_streaming(self.stream_request()):
            self.controls.set_output_phase("stream", self.outputs.phases["stream"])

    def _stay_off_air(self) -> None:
        self.controls.set_status("stream", None)
        self.controls.set_output_phase("stream", self.outputs.phases["stream"])

    def _record_clicked(self, on: bool) -> None:
        if on:
            s = self.window.settings
            folder = Path(s.recording_folder).expanduser() if s.recording_folder else None
            if not self.outputs.start_recording(folder, s.recording_container):
                self.controls.set_output_phase("record", self.outputs.phases["record"])
        else:
            self.outputs.stop_recording()

    def _on_phase(self, which: str, phase: str) -> None:
        self.controls.set_output_phase(which, phase)

    # ---- stream ------------------------------------------------------------------------------------------
    def _on_stream_state(self, state: OutputState) -> None:
        shown = self._stream_state
        if state.state is OutputStatus.STOPPED and shown is not None and shown.state is OutputStatus.FAILED:
            return  # keep saying why it failed
        self._stream_state = state
        self.controls.set_status("stream", lambda: stream_status(state))

    def _on_error(self, which: str, message: str) -> None:
        if which in ("stream", "record"):
            self.controls.set_status(which, lambda: (tr("Could not start: {message}").format(message=message),
                                                     "bad"))
        self.window.statusBar().showMessage(message, 10_000)

    # ---- recording -----------------------------------------------------------------------------------------
    def _on_recording_started(self, path: Path) -> None:
        self._record_started = time.monotonic()
        self._record_bytes = 0
        self.controls.set_status("warning", None)
        self._show_recording(path)

    def _show_recording(self, path: Path) -> None:
        started, size = self._record_started, self._record_bytes

        def status() -> tuple[str, str]:
            text = tr("● REC {elapsed} · {name}").format(elapsed=format_elapsed(time.monotonic() - started),
                                                        name=path.name)
            return (f"{text} · {format_size(size)}" if size else text), "live"

        self.controls.set_status("record", status)

    def _on_recording_stopped(self, stats: RecorderStats | None) -> None:
        if stats is None:
            self.controls.set_status("record", None)
            return
        self.controls.set_status("record", lambda: (
            tr("Saved {name} ({elapsed}, {size})").format(name=stats.path.name,
                                                          elapsed=format_elapsed(stats.duration_s),
                                                          size=format_size(stats.bytes_written)),
            "bad" if stats.mux_errors else "ok"))

    def _on_recorder_event(self, event: RecorderEvent) -> None:
        if event.kind == "disk_low":
            message = event.message
            self.controls.set_status("warning", lambda: (
                tr("Recording: {message}").format(message=message), "warn"))
            self.window.statusBar().showMessage(message, 15_000)
        elif event.kind == "error":
            message = event.message
            self.controls.set_status("warning", lambda: (
                tr("Recording: {message}").format(message=message), "bad"))

    # ---- figures ------------------------------------------------------------------------------------------
    def _on_pipeline_stats(self, stats: PipelineStats) -> None:
        self.window.stats.show_pipeline(stats)
        if stats.recorder is not None and self.outputs.phases["record"] == "active":
            self._record_bytes = stats.recorder.bytes_written

    def _on_fallback(self, event: FallbackEvent) -> None:
        message = event.message
        self.controls.set_status("warning", lambda: (tr("Encoder fallback: {message}").format(message=message),
                                                     "warn"))
        self.window.statusBar().showMessage(message, 15_000)

    def _on_hub_status(self, status: SourceStatus) -> None:
        self._hub = status
        self._show_hub()

    def _show_hub(self) -> None:
        status = self._hub
        if status is None:
            self.link.set_hub(None)
            return
        services = self.show.services
        stats = services.hub.stats() if services is not None and status.state == "running" else None
        viewers = stats.viewers if stats is not None else None
        # connections the hub turned away (wrong page, too many new viewers from one address):
        # a crowd being held off shows here rather than nowhere
        refused = sum(stats.refused.values()) if stats is not None else 0
        state, detail = status.state, status.detail

        def text() -> tuple[str, str]:
            if state == "running":
                line = tr("Danmaku hub: running · {n} viewers").format(n=viewers or 0)
                if refused:
                    return line + " · " + tr("{n} turned away").format(n=refused), "warn"
                return line, "ok"
            if state == "error":
                return tr("Danmaku hub: error: {detail}").format(detail=detail), "bad"
            return tr("Danmaku hub: stopped"), "warn"

        self.link.set_hub(text)

    def _tick(self) -> None:
        if self.outputs.phases["record"] == "active" and self.outputs.recording_path is not None:
            self._show_recording(self.outputs.recording_path)
        self._show_hub()

    # ---- closing -------------------------------------------------------------------------------------------
    def on_air(self) -> bool:
        return any(phase != "idle" for phase in self.outputs.phases.values())

    def confirm_close(self) -> bool:
        """Ask before ending a live stream or a recording (tests answer the box like a user)."""
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Drama Live Studio"),
                          tr("You are streaming or recording. Stop and quit?"),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.window)
        box.setObjectName("confirmQuit")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def request_close(self) -> bool:
        """True when the window may close now; otherwise the show is stopping (or the user said no)."""
        if self.closed or not self.outputs.needs_stop:
            return True
        if self._closing:
            return False
        if self.on_air() and not self.confirm_close():
            return False
        self._closing = True
        self.window.statusBar().showMessage(tr("Stopping the show…"))
        self.window.setEnabled(False)
        self.outputs.stop_show(then=self._stopped_for_close)
        return False

    def _stopped_for_close(self) -> None:
        self.closed = True
        self.window.setEnabled(True)
        self.window.close()

    def close(self) -> None:
        """Detach from the engine and join the worker (the show itself is stopped by then)."""
        self.timer.stop()
        self.prelive.close()
        self.mixer.close_bridge()
        for dock in self.interaction_docks:
            close_bridge = getattr(dock, "close_bridge", None)
            if close_bridge is not None:
                close_bridge()
        self.destinations.close()
        self.outputs.close()
