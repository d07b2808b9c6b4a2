"""The producer's cut preview: open a clip, set in/out, place markers, preview a branch path.

Keys: Space play/pause, J/K/L shuttle (back / stop / forward, repeated presses go faster),
Left/Right one frame, I/O in and out point, M add a marker of the type chosen in the list.
The marker chosen in the marker list is edited in the form below it (time, kind, details).
The picture comes from a PreviewPlayer (studio/rundown/preview.py: its own clock and decoder
threads, no engine); the thumbnail strip and waveform are computed on a ``cut-preview-analysis``
thread and delivered with a Qt signal. Edits go to a DramaSegment (of a rundown, or a loose one
for a bare clip), whose setters validate; a refused edit is shown, never raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.rundown.clips import ClipInfo, frames_of, probe_clip, thumbnails, waveform
from studio.rundown.markers import BranchPoint, Marker, MarkerKind, ProductMoment, VotePoint
from studio.rundown.model import DramaSegment, Rundown
from studio.rundown.preview import ClipRange, PreviewPlayer
from widgets.frame_view import FrameView
from widgets.marker_form import KIND_NAMES, MarkerForm
from widgets.timeline import Timeline, timecode

THUMBNAILS = 12
WAVE_BUCKETS = 400
BRANCH_LEAD_S = 3.0  # "preview branch" starts this long before the branch point


class _AnalysisSignals(QObject):
    finished = Signal(object)  # (generation, ClipInfo | None, thumbnails, peaks, error)


class _Analysis:
    """One worker thread at a time reading a clip's overview; results cross to the UI by signal."""

    def __init__(self) -> None:
        self.signals = _AnalysisSignals()
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self.generation = 0

    def start(self, path: str) -> int:
        self.stop()
        self.generation += 1
        self._cancel = threading.Event()
        cancel, generation = self._cancel, self.generation
        self._thread = threading.Thread(target=self._run, args=(path, generation, cancel),
                                        name="cut-preview-analysis", daemon=True)
        self._thread.start()
        return generation

    def _run(self, path: str, generation: int, cancel: threading.Event) -> None:
        try:
            info = probe_clip(path)
            thumbs = thumbnails(path, THUMBNAILS, cancelled=cancel.is_set)
            peaks = waveform(path, WAVE_BUCKETS, cancelled=cancel.is_set)
            result: tuple[Any, ...] = (generation, info, thumbs, peaks, None)
        except Exception as exc:  # noqa: BLE001 - a bad clip is reported in the UI
            result = (generation, None, [], None, str(exc))
        if not cancel.is_set():
            self.signals.finished.emit(result)

    def stop(self) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


class CutPreview(QWidget):
    analysis_done = Signal()
    message = Signal(str)

    def __init__(self, rundown: Rundown | None = None, segment_id: str | None = None, *,
                 product_source: str = "商品卡 Product", audio: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rundown = rundown
        self.segment: DramaSegment | None = None
        self.product_source = product_source
        self.player = PreviewPlayer(audio=audio)
        self.info: ClipInfo | None = None
        self._analysis = _Analysis()
        self._analysis.signals.finished.connect(self._on_analysis)
        self._disconnect_model = rundown.changed.connect(lambda _e: self._model_changed.emit()) if rundown else None

        self.view = FrameView(self.player.frames, self, refresh_hz=30)
        self.timeline = Timeline(self)
        self.timeline.seek_requested.connect(self.player.seek)
        self.timecode = QLabel("00:00:00:00", self)
        self.status = QLabel("", self)
        self.audio_label = QLabel(self.player.audio_note, self)
        self.play_button = QPushButton("Play", self)
        self.play_button.clicked.connect(lambda _=False: self.player.toggle())
        self.marker_kind = QComboBox(self)
        for kind in ("product", "vote", "branch"):
            self.marker_kind.addItem(kind, kind)
        self.branch_option = QComboBox(self)
        self.branch_button = QPushButton("Preview branch", self)
        self.branch_button.clicked.connect(lambda _=False: self.preview_branch(self.branch_option.currentIndex()))
        self.marker_list = QComboBox(self)
        self.marker_list.currentIndexChanged.connect(lambda _i: self._edit_chosen_marker())
        self.marker_form = MarkerForm(rundown, self)
        self.marker_form.applied.connect(self._marker_applied)
        for control in (self.marker_kind, self.branch_option, self.play_button, self.branch_button,
                        self.marker_list):
            control.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the preview

        row = QHBoxLayout()
        for w in (self.play_button, self.timecode, QLabel("M adds:", self), self.marker_kind,
                  self.branch_option, self.branch_button):
            row.addWidget(w)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.timeline)
        layout.addLayout(row)
        markers = QHBoxLayout()
        markers.addWidget(QLabel("Marker:", self))
        markers.addWidget(self.marker_list, 1)
        layout.addLayout(markers)
        layout.addWidget(self.marker_form)
        layout.addWidget(self.status)
        layout.addWidget(self.audio_label)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._model_changed.connect(self._sync_from_segment)

        self._timer = QTimer(self)
        self._timer.timeout.connect(self._refresh)
        self._timer.start(33)
        if rundown is not None and segment_id is not None:
            self.edit_segment(segment_id)

    _model_changed = Signal()  # the rundown changed (on any thread): re-read on the UI thread

    # ---- what is open --------------------------------------------------------------------------

    def edit_segment(self, segment_id: str) -> None:
        if self.rundown is None:
            raise ValueError("the cut preview has no rundown")
        segment = self.rundown.segment(segment_id)
        if not isinstance(segment, DramaSegment):
            raise ValueError(f"segment {segment_id} is a live segment: it has no clip to cut")
        self.segment = segment
        self._open(segment.path)

    def open_clip(self, path: str) -> None:
        """A bare clip: in/out and markers go to a loose segment (``self.segment``)."""
        self.segment = DramaSegment("clip", path)
        self._open(path)

    def _open(self, path: str) -> None:
        self.info = None
        self.player.open(path)
        self.timeline.set_thumbnails([])
        self.timeline.set_waveform(np.zeros(0, np.float32))
        self._analysis.start(path)
        self._sync_from_segment()
        self._say(f"opening {path}")

    def _on_analysis(self, result: tuple[Any, ...]) -> None:
        generation, info, thumbs, peaks, error = result
        if generation != self._analysis.generation:
            return  # a clip opened since
        if error is not None:
            self._say(error)
        else:
            self.info = info
            self.player.set_fps(info.fps)
            self.timeline.set_duration(info.duration_s)
            self.timeline.set_thumbnails(thumbs)
            self.timeline.set_waveform(peaks)
            self._say(f"{info.duration_s:.2f} s, {info.fps or 0:g} fps")
        self.analysis_done.emit()

    def _sync_from_segment(self) -> None:
        seg = self.segment
        if seg is None:
            return
        self.timeline.set_range(seg.in_s, seg.out_s)
        self.timeline.set_markers([(m.at_s, m.kind, m.id) for m in seg.markers])
        self._fill_marker_list()
        self.branch_option.clear()
        branch = seg.branch
        if branch is not None and self.rundown is not None:
            try:
                options = self.rundown.vote_point(branch.vote).options
            except ValueError:
                options = ()
            for i, option in enumerate(options):
                self.branch_option.addItem(f"{chr(65 + i)}: {option}", i)
        self.branch_button.setEnabled(self.branch_option.count() > 0)

    def _refresh(self) -> None:
        fps = self.player.fps
        self.timeline.set_position(self.player.position)
        rate = self.player.rate
        state = "paused" if rate == 0 else f"{rate:+g}x"
        self.timecode.setText(f"{timecode(self.player.position, fps)}  {state}")
        self.play_button.setText("Pause" if rate else "Play")
        if self.player.error:
            self.status.setText(self.player.error)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

    # ---- keys ----------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt naming
        key = event.key()
        p = self.player
        actions: dict[Qt.Key, Callable[[], object]] = {
            Qt.Key.Key_Space: p.toggle,
            Qt.Key.Key_J: p.shuttle_back,
            Qt.Key.Key_K: p.pause,
            Qt.Key.Key_L: p.shuttle_forward,
            Qt.Key.Key_Left: lambda: p.step(-1),
            Qt.Key.Key_Right: lambda: p.step(1),
            Qt.Key.Key_I: self.mark_in,
            Qt.Key.Key_O: self.mark_out,
            Qt.Key.Key_M: self.add_marker,
        }
        action = actions.get(Qt.Key(key))
        if action is None:
            super().keyPressEvent(event)
            return
        action()
        event.accept()

    def _here(self) -> float:
        """The playhead on a whole frame."""
        fps = self.player.fps
        return frames_of(self.player.position, int(round(fps))) / round(fps)

    def mark_in(self) -> None:
        seg = self.segment
        if seg is None:
            return
        try:
            seg.set_points(self._here(), seg.out_s)
        except ValueError as exc:
            self._say(str(exc))
        self._sync_from_segment()

    def mark_out(self) -> None:
        seg = self.segment
        if seg is None:
            return
        try:
            seg.set_points(seg.in_s, self._here())
        except ValueError as exc:
            self._say(str(exc))
        self._sync_from_segment()

    def add_marker(self, kind: MarkerKind | None = None) -> Marker | None:
        """A marker of ``kind`` (default: the chosen type) at the playhead, with default details."""
        seg = self.segment
        if seg is None:
            return None
        kind = kind or self.marker_kind.currentData()
        at = self._here()
        try:
            marker = self._new_marker(kind, at)
            seg.add_marker(marker)
        except ValueError as exc:
            self._say(str(exc))
            return None
        self._sync_from_segment()
        self.edit_marker(marker.id)
        self._say(f"added {kind} marker at {timecode(at, self.player.fps)}")
        return marker

    # ---- the marker form -----------------------------------------------------------------------

    def _fill_marker_list(self) -> None:
        seg = self.segment
        chosen = self.marker_form.marker_id
        self.marker_list.blockSignals(True)
        self.marker_list.clear()
        for m in seg.markers if seg is not None else ():
            self.marker_list.addItem(f"{timecode(m.at_s, self.player.fps)}  {KIND_NAMES[m.kind]}", m.id)
        index = self.marker_list.findData(chosen) if chosen is not None else -1
        self.marker_list.setCurrentIndex(index if index >= 0 else (0 if self.marker_list.count() else -1))
        self.marker_list.blockSignals(False)
        self._edit_chosen_marker()

    def _edit_chosen_marker(self) -> None:
        chosen = self.marker_list.currentData()
        self.marker_form.load(self.segment, chosen if isinstance(chosen, str) else None)

    def edit_marker(self, marker_id: str) -> None:
        """Open a marker of the segment in the form."""
        index = self.marker_list.findData(marker_id)
        if index < 0:
            raise ValueError(f"no marker {marker_id!r} in this segment")
        self.marker_list.setCurrentIndex(index)
        self._edit_chosen_marker()

    def _marker_applied(self, marker_id: str) -> None:
        self._sync_from_segment()
        self.edit_marker(marker_id)
        self._say(f"marker {marker_id} saved")

    def _new_marker(self, kind: str, at: float) -> Marker:
        scene = self.rundown.drama_scene if self.rundown is not None else "Drama"
        if kind == "product":
            return ProductMoment(at, scene, self.product_source, 5.0)
        if kind == "vote":
            return VotePoint(at, "投票 Vote?", ("A", "B"), 30.0)
        seg = self.segment
        assert seg is not None
        votes = [m for m in seg.markers if isinstance(m, VotePoint) and m.at_s <= at]
        if not votes or self.rundown is None:
            raise ValueError("a branch point needs a vote point before it in this segment's rundown")
        vote = votes[-1]
        others = [s.id for s in self.rundown.segments if isinstance(s, DramaSegment) and s.id != seg.id]
        if len(others) < len(vote.options):
            raise ValueError(f"a branch point needs {len(vote.options)} other drama segments to go to")
        return BranchPoint(at, vote.id, tuple(others[: len(vote.options)]))

    # ---- branch preview ------------------------------------------------------------------------

    def preview_branch(self, option: int) -> None:
        """Play the last seconds before the branch point, then the ending the option leads to."""
        seg = self.segment
        if seg is None or self.rundown is None or seg.branch is None:
            self._say("this segment has no branch point")
            return
        branch = seg.branch
        if not 0 <= option < len(branch.targets):
            self._say(f"option {option + 1} does not exist")
            return
        try:
            target = self.rundown.segment(branch.targets[option])
        except ValueError as exc:
            self._say(str(exc))
            return
        clips = [ClipRange(seg.path, max(seg.in_s, branch.at_s - BRANCH_LEAD_S), branch.at_s)]
        if isinstance(target, DramaSegment):
            clips.append(ClipRange(target.path, target.in_s, target.out_s))
        self.player.play_sequence(clips)
        self._say(f"previewing branch {chr(65 + option)} -> {target.title}")

    # ---- shutdown ------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the analysis and the player's threads (also done when the widget closes)."""
        self._timer.stop()
        self._analysis.stop()
        self.player.close()
        if self._disconnect_model is not None:
            self._disconnect_model()
            self._disconnect_model = None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        self.shutdown()
        super().closeEvent(event)
