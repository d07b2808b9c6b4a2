"""The director's rundown dock: open a rundown and start or stop it on air, see what is running,
how long until the next marker or branch, the product moments coming up, and a "Next" override.
Plain text labels only.

It pulls ``RundownExecutor.status()`` on a 4 Hz QTimer (a snapshot of plain values, safe on any
thread), as the frame views pull frames: the clock thread is never waited on. Starting a rundown
reads files (the rundown, the clips' lengths), so it runs on a worker thread and reports back
through a queued Qt signal. Before that, ``before_start`` (the window's pre-live check) opens every
clip the rundown can reach, on its own worker, and lets the director cancel or go on.

The segment list shows the rundown (the one on air, else the chosen file) and takes library clips
(and desktop video files, added to the library first): dropped on a drama segment they replace its
clip, dropped between segments they become a new drama segment; the library dock's "Use in
rundown…" does the same. Edits go through the rundown model's validated methods (the list redraws
from its events) and are saved to the rundown file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.library.clip import Clip
from studio.library.library import Library
from studio.library.links import clip_segment, use_clip_in_segment
from studio.rundown.events import RundownStatus
from studio.rundown.executor import RundownExecutor
from studio.rundown.model import DramaSegment, Rundown, Segment
from studio.rundown.persistence import load_rundown, save_rundown
from widgets.clip_drop import DroppedClips, DropResolver, carries_clips
from widgets.i18n import bind, on_change, tr

REFRESH_MS = 250
UPCOMING_SHOWN = 3
SEGMENT_ROLE = Qt.ItemDataRole.UserRole
EDGE = 0.25  # the top and bottom quarter of a row is "between segments" for a drop
UNDO_STEPS = 50


@dataclass(frozen=True)
class _Inverse:
    """What takes one clip edit back: remove an added segment (``path`` None), or put a segment's
    previous clip back. By segment id, so it still applies after the show starts from the file."""

    segment: str
    path: str | None = None
    clip: str | None = None


StartRundown = Callable[[Path], RundownExecutor]
# (rundown file, go, cancel) -> False when no check could start; calls go or cancel later (UI thread)
BeforeStart = Callable[[Path, Callable[[], None], Callable[[], None]], bool]


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


class _Starter(QObject):
    """Carries a worker thread's result back to the UI thread."""

    done = Signal(object, str)  # (executor or None, error message)
    changed = Signal()  # the shown rundown changed (its events come on any thread)


class SegmentList(QListWidget):
    """The rundown's segments; takes drops of library clips (and video files), nothing else."""

    def __init__(self, on_clips: Callable[[QMimeData, QPoint], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_clips = on_clips
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt naming
        self.dragMoveEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt naming
        if carries_clips(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt naming
        if not carries_clips(event.mimeData()):
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()  # Qt itself adds no row: the list redraws from the model's events
        self._on_clips(event.mimeData(), event.position().toPoint())


class RundownDock(QDockWidget):
    def __init__(self, executor: RundownExecutor | None = None, parent: QWidget | None = None, *,
                 start: StartRundown | None = None, stop: Callable[[], None] | None = None,
                 path: Path | None = None, before_start: BeforeStart | None = None,
                 library: Library | None = None) -> None:
        super().__init__(tr("Rundown"), parent)
        bind(self, "setWindowTitle", "Rundown")
        self.setObjectName("rundown-dock")
        self.executor: RundownExecutor | None = None
        self.path = path
        self._start, self._stop = start, stop
        self._before_start = before_start
        self._checking = False  # the pre-live check runs (or its dialog waits for the director)
        self._starter = _Starter(self)
        self._starter.done.connect(self._started)
        self._starter.changed.connect(self._show_segments)
        self._starting: threading.Thread | None = None
        self.library = library  # clips dropped on the segment list are looked up (or added) here
        self.drops = DropResolver(library, self) if library is not None else None
        self.rundown: Rundown | None = None  # the one on air, else the chosen file's
        self._unsubscribe: Callable[[], None] = lambda: None
        self._undo: list[list[_Inverse]] = []  # the dock's own clip edits, newest last
        body = QWidget(self)
        self.file_label = QLabel(body)
        self.open_button = QPushButton(tr("Open…"), body)
        bind(self.open_button, "setText", "Open…")
        self.open_button.clicked.connect(lambda _=False: self.choose_file())
        self.start_button = QPushButton(tr("Start show"), body)
        self.start_button.clicked.connect(lambda _=False: self.toggle())
        self.segment_label = QLabel(body)
        self.position_label = QLabel("", body)
        self.next_label = QLabel("", body)
        self.branch_label = QLabel("", body)
        self.products_label = QLabel("", body)
        self.message_label = QLabel("", body)
        for label in (self.file_label, self.segment_label, self.position_label, self.next_label,
                      self.branch_label, self.products_label, self.message_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
        self.target = QComboBox(body)
        self.next_button = QPushButton(tr("Next ▶"), body)
        bind(self.next_button, "setText", "Next ▶")
        self.next_button.setToolTip(tr("End the running segment now (a branch takes the poll's winner)"))
        self.next_button.clicked.connect(lambda _=False: self.request_next())
        top = QHBoxLayout()
        top.addWidget(self.file_label, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.start_button)
        self.undo_button = QPushButton(body)
        bind(self.undo_button, "setText", "Undo Clip Edit")
        self.undo_button.clicked.connect(lambda _=False: self.undo())
        self.undo_button.setEnabled(False)
        top.addWidget(self.undo_button)
        row = QHBoxLayout()
        row.addWidget(self.target, 1)
        row.addWidget(self.next_button)
        layout = QVBoxLayout(body)
        layout.addLayout(top)
        for label in (self.segment_label, self.position_label, self.next_label, self.branch_label,
                      self.products_label):
            layout.addWidget(label)
        layout.addLayout(row)
        self.segment_list = SegmentList(self.drop_clips, body)
        on_change(self.segment_list, lambda: self.segment_list.setToolTip(
            tr("Drop a clip on a drama segment to replace its clip, or between segments to add one")))
        on_change(self.segment_list, lambda: self._show_segments())  # "[drama]"/"[live]" in the language
        layout.addWidget(self.segment_list, 1)
        layout.addWidget(self.message_label)
        self.setWidget(body)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        on_change(self, self.refresh)
        self.set_executor(executor)

    # ---- controls -----------------------------------------------------------------------------
    def choose_file(self) -> None:
        start_dir = str(self.path.parent) if self.path else ""
        name, _ = QFileDialog.getOpenFileName(self, tr("Open rundown"), start_dir, tr("Rundowns (*.json)"))
        if name:
            self.set_path(Path(name))

    def set_path(self, path: Path | None) -> None:
        if path != self.path:
            self._undo.clear()
        self.path = path
        if self.executor is None:
            self._show_rundown(self._load(path))
        self.refresh()

    def toggle(self) -> None:
        if self.executor is not None and self.executor.state in ("starting", "running"):
            self.stop_show()
        else:
            self.start_show()

    def start_show(self) -> None:
        if self._start is None or self.path is None or self._starting is not None or self._checking:
            return
        path = self.path
        if self._before_start is None:
            self._launch(path)
            return
        self._checking = True
        self.start_button.setEnabled(False)
        self.message_label.setText(tr("Checking every clip the show can reach…"))
        if not self._before_start(path, lambda: self._checked(path, True), lambda: self._checked(path, False)):
            self._checked(path, False)

    def _checked(self, path: Path, go: bool) -> None:
        self._checking = False
        if go:
            self._launch(path)
        else:
            self.message_label.setText(tr("Not started"))
            self.refresh()

    def _launch(self, path: Path) -> None:
        start = self._start
        if start is None:
            return
        self.start_button.setEnabled(False)
        self.message_label.setText(tr("Starting…"))

        def work() -> None:
            try:
                self._starter.done.emit(start(path), "")
            except (OSError, ValueError) as exc:
                self._starter.done.emit(None, str(exc))

        self._starting = threading.Thread(target=work, name="rundown-start", daemon=True)
        self._starting.start()

    def _started(self, executor: RundownExecutor | None, error: str) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        self.start_button.setEnabled(True)
        if executor is None:
            self.message_label.setText(error)
        else:
            self.set_executor(executor)
            self.message_label.setText("")

    def stop_show(self) -> None:
        if self._stop is not None:
            self._stop()
        self.set_executor(None)

    def set_executor(self, executor: RundownExecutor | None) -> None:
        self.executor = executor
        self.target.clear()
        self.target.addItem(tr("(as planned)"), None)
        if executor is not None:
            for s in executor.rundown.segments:
                self.target.addItem(f"{s.title} [{tr(s.kind)}]", s.id)
        self._show_rundown(executor.rundown if executor is not None else self._load(self.path))
        self.refresh()

    def request_next(self) -> None:
        if self.executor is None:
            return
        try:
            self.executor.next(self.target.currentData())
        except ValueError as exc:
            self.message_label.setText(str(exc))
            return
        self.message_label.setText(tr("Next requested"))

    # ---- display --------------------------------------------------------------------------------
    def refresh(self) -> None:
        executor = self.executor
        running = executor is not None and executor.state in ("starting", "running")
        self.file_label.setText(self.path.name if self.path else tr("No rundown chosen"))
        self.start_button.setText(tr("Stop show") if running else tr("Start show"))
        self.start_button.setEnabled(self._starting is None and not self._checking and (
            running or (self._start is not None and self.path is not None)))
        self.next_button.setEnabled(running)
        if executor is None:
            self.segment_label.setText(tr("No show running"))
            for label in (self.position_label, self.next_label, self.branch_label, self.products_label):
                label.setText("")
            return
        self.show_status(executor.status())

    def show_status(self, st: RundownStatus) -> None:
        if st.segment is None:
            self.segment_label.setText(tr("Show {state}").format(state=tr(st.state)))
            for label in (self.position_label, self.next_label, self.branch_label, self.products_label):
                label.setText("")
            return
        self.segment_label.setText(tr("Now: {title} ({kind})").format(title=st.title, kind=tr(st.kind)))
        self.position_label.setText(tr("At {at} · ends in {left}").format(
            at=f"{st.position_s:.1f} s", left=_secs(st.remaining_s)))
        self.next_label.setText(tr("Next marker: {marker} in {left}").format(
            marker=st.next_marker, left=_secs(st.next_marker_in_s)) if st.next_marker else tr("Next marker: none"))
        self.branch_label.setText(tr("Branch in {left}").format(left=_secs(st.next_branch_in_s))
                                  if st.next_branch_in_s is not None
                                  else tr("Then: {segment}").format(segment=st.next_segment or tr("end of show")))
        products = [tr("{source} ({scene}) in {left}").format(source=p.source, scene=p.scene, left=_secs(p.in_s))
                    for p in st.upcoming_products[:UPCOMING_SHOWN]]
        self.products_label.setText(tr("Products: {list}").format(
            list="; ".join(products) if products else tr("none coming up")))

    # ---- the segment list and clips --------------------------------------------------------------
    def _load(self, path: Path | None) -> Rundown | None:
        if path is None:
            return None
        try:
            return load_rundown(path)
        except (OSError, ValueError) as exc:
            self.message_label.setText(str(exc))
            return None

    def _show_rundown(self, rundown: Rundown | None) -> None:
        self._unsubscribe()
        self.rundown = rundown
        self._unsubscribe = (lambda: None) if rundown is None else rundown.changed.connect(
            lambda _e: self._starter.changed.emit())
        self._show_segments()

    def _show_segments(self) -> None:
        chosen = self.selected_segment_id()
        self.segment_list.clear()
        rundown = self.rundown
        if rundown is None:
            return
        with rundown.lock:
            segments = list(rundown.segments)
        for seg in segments:
            text = f"{seg.title} [{tr(seg.kind)}]"
            if isinstance(seg, DramaSegment):
                clip = self.library.get(seg.clip) if self.library is not None and seg.clip else None
                text += " · " + (clip.name if clip is not None else Path(seg.path).name)
            item = QListWidgetItem(text)  # list items are plain text
            item.setData(SEGMENT_ROLE, seg.id)
            self.segment_list.addItem(item)
            item.setSelected(seg.id == chosen)

    def selected_segment_id(self) -> str | None:
        items = self.segment_list.selectedItems()
        return str(items[0].data(SEGMENT_ROLE)) if items else None

    def select_segment(self, segment_id: str) -> None:
        for row in range(self.segment_list.count()):
            item = self.segment_list.item(row)
            item.setSelected(item.data(SEGMENT_ROLE) == segment_id)

    def selected_drama_segment(self) -> DramaSegment | None:
        """The selected segment when it is a drama one (what "replace its clip" acts on)."""
        segment_id, rundown = self.selected_segment_id(), self.rundown
        if segment_id is None or rundown is None or not rundown.has_segment(segment_id):
            return None
        seg: Segment = rundown.segment(segment_id)
        return seg if isinstance(seg, DramaSegment) else None

    def index_after_selection(self) -> int | None:
        """Where "add a segment" puts new segments: after the selected one (None: the end)."""
        segment_id, rundown = self.selected_segment_id(), self.rundown
        if segment_id is None or rundown is None:
            return None
        with rundown.lock:
            ids = [s.id for s in rundown.segments]
        return ids.index(segment_id) + 1 if segment_id in ids else None

    def _require(self) -> Rundown:
        if self.rundown is None:
            raise ValueError(tr("Open a rundown first"))
        return self.rundown

    def add_clips(self, clips: list[Clip], index: int | None = None) -> list[str]:
        """New drama segments playing ``clips`` at ``index`` (None: the end); saved. Their ids."""
        rundown = self._require()
        added: list[str] = []
        try:
            for clip in clips:
                seg = rundown.add_segment(clip_segment(clip), None if index is None else index + len(added))
                added.append(seg.id)
        finally:
            self._push([_Inverse(segment_id) for segment_id in added])
        self._save()
        if added:
            self.select_segment(added[-1])
            self.message_label.setText(tr("Added {count} segment(s)").format(count=len(added)))
        return added

    def replace_clip(self, segment_id: str, clip: Clip) -> None:
        """The drama segment ``segment_id`` plays ``clip`` (by library id) from now on; saved."""
        rundown = self._require()
        seg = rundown.segment(segment_id)
        before = _Inverse(segment_id, seg.path, seg.clip) if isinstance(seg, DramaSegment) else None
        use_clip_in_segment(rundown, segment_id, clip)
        if before is not None:
            self._push([before])
        self._save()
        self.select_segment(segment_id)
        self.message_label.setText(tr("{segment} now plays {name}").format(
            segment=self._require().segment(segment_id).title, name=clip.name))

    def _push(self, step: list[_Inverse]) -> None:
        if step:
            self._undo.append(step)
            del self._undo[:-UNDO_STEPS]
        self.undo_button.setEnabled(bool(self._undo))

    def undo(self) -> bool:
        """Take the last clip edit back (a whole drop at once), through the model; saved."""
        if not self._undo or self.rundown is None:
            return False
        step = self._undo.pop()
        self.undo_button.setEnabled(bool(self._undo))
        rundown = self.rundown
        try:
            for inverse in reversed(step):
                if inverse.path is None:
                    rundown.remove_segment(inverse.segment)
                else:
                    seg = rundown.segment(inverse.segment)
                    if isinstance(seg, DramaSegment):
                        seg.path = inverse.path
                        seg.clip = inverse.clip
        except ValueError as exc:  # the segment went meanwhile (another editor, another file)
            self.message_label.setText(str(exc))
            return False
        self._save()
        self.message_label.setText(tr("Clip edit undone"))
        return True

    def _save(self) -> None:
        if self.rundown is None or self.path is None:
            return
        try:
            save_rundown(self.rundown, self.path)
        except (OSError, ValueError) as exc:
            self.message_label.setText(tr("The rundown could not be saved: {error}").format(error=exc))

    def drop_target(self, pos: QPoint) -> tuple[str, int | str]:
        """Where a drop at ``pos`` goes: ("replace", segment id) on the middle of a drama segment's
        row, else ("insert", index) between segments (below the last row: the end)."""
        item = self.segment_list.itemAt(pos)
        if item is None:
            return "insert", self.segment_list.count()
        row = self.segment_list.row(item)
        rect = self.segment_list.visualItemRect(item)
        edge = rect.height() * EDGE
        if pos.y() < rect.top() + edge:
            return "insert", row
        segment_id = str(item.data(SEGMENT_ROLE))
        middle = pos.y() <= rect.bottom() - edge
        rundown = self.rundown
        if middle and rundown is not None and isinstance(rundown.segment(segment_id), DramaSegment):
            return "replace", segment_id
        return "insert", row + 1

    def drop_clips(self, mime: QMimeData, pos: QPoint) -> bool:
        """Clips dropped on the segment list at ``pos``: replace a segment's clip or add segments
        (desktop files are added to the library first, on a worker; then this goes on)."""
        if self.drops is None:
            return False
        if self.rundown is None:
            self.message_label.setText(tr("Open a rundown first"))
            return False
        target = self.drop_target(pos)
        self.drops.resolve(mime, lambda dropped: self._use_dropped(dropped, *target))
        return True

    def _use_dropped(self, dropped: DroppedClips, what: str, where: int | str) -> None:
        problems = dropped.message
        steps = len(self._undo)
        try:
            if dropped.clips:
                if what == "replace":
                    first, *rest = dropped.clips
                    self.replace_clip(str(where), first)
                    if rest:  # the rest follow the replaced segment
                        self.add_clips(rest, self.index_after_selection())
                else:  # the list may have changed while files were probed
                    self.add_clips(dropped.clips, min(int(where), len(self._require().segments)))
        except ValueError as exc:
            problems = "; ".join(p for p in (problems, str(exc)) if p)
        if len(self._undo) > steps + 1:  # one drop, one undo step
            merged = [inverse for step in self._undo[steps:] for inverse in step]
            del self._undo[steps:]
            self._push(merged)
        if problems:
            self.message_label.setText(problems)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        self._timer.stop()
        if self.drops is not None:
            self.drops.wait()
        self._show_rundown(None)
        super().closeEvent(event)
