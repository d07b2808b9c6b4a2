"""The asset library dock: the show's clips as a grid or list with thumbnails, tags and broken/missing
badges, a search box, folder import with progress and cancel, relinking, and "use in" a media source.

Everything that touches files (import and its probes, checking for missing files, relinking,
saving) runs on one ``library-worker`` thread at a time; results and the library's change events
cross to the UI thread through Qt signals, so the dock never freezes on a big folder or a slow
disk. Clip names and reasons are shown as plain text (labels in PlainText, tooltips escaped).
Dragging a clip carries its file URL and its library id (``MIME_CLIP``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QMimeData, QObject, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scenes.model import SceneCollection
from studio.library.clip import Clip
from studio.library.importer import ImportJob, ImportResult
from studio.library.library import Library
from studio.library.links import MEDIA_TYPE, use_clip_in_source
from widgets.i18n import bind, on_change, tr
from widgets.plain_text import tooltip

MIME_CLIP = "application/x-drama-live-clip-id"
GRID_ICON = QSize(160, 90)
LIST_ICON = QSize(64, 36)
ROLE_ID = Qt.ItemDataRole.UserRole
BADGE_COLORS = {"broken": QColor(200, 40, 40), "missing": QColor(210, 140, 0)}


class RundownTarget(Protocol):
    """Where "Use in rundown…" puts clips (the rundown dock). Both raise ValueError with the reason."""

    def selected_drama_segment(self) -> Any: ...  # a DramaSegment (its id and title), or None

    def index_after_selection(self) -> int | None: ...  # where new segments go (None: the end)

    def add_clips(self, clips: list[Clip], index: int | None = None) -> list[str]: ...

    def replace_clip(self, segment_id: str, clip: Clip) -> None: ...


def open_library_for_ui() -> tuple[Library, str]:
    """The studio's shared library, and a problem to show ("" when none). A damaged file is set
    aside (kept under a dated name) and its backup put back, or an empty library started."""
    from studio.library.library import default_library_path
    from studio.library.store import shared_library
    from studio.storage import DamagedFileError, restore_backup, set_aside, valid_backup

    try:
        return shared_library(), ""
    except DamagedFileError as exc:
        path = default_library_path()
        try:
            if valid_backup(path) is not None:
                restore_backup(path)
                return shared_library(), tr("The asset library file was damaged; its backup was restored")
            set_aside(path)
            return shared_library(), tr("The asset library file was damaged and set aside: {error}").format(
                error=exc.problem)
        except (OSError, ValueError) as again:  # the folder itself is unusable: work in memory
            return Library(path.with_name("library-unsaved.json")), str(again)


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class _Bridge(QObject):
    progress = Signal(int, int, str)
    imported = Signal(object)  # ImportResult
    worked = Signal(str, object)  # (job, result or the Exception it raised)
    changed = Signal()


class _ClipList(QListWidget):
    """Drags carry the clip's file (for anything that takes files) and its library id."""

    def __init__(self, library: Library, parent: QWidget) -> None:
        super().__init__(parent)
        self._library = library
        self.setDragEnabled(True)
        self.setDragDropMode(QListWidget.DragDropMode.DragOnly)
        self.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:  # noqa: N802 - Qt's name
        data = QMimeData()
        clips = [c for c in (self._library.get(i.data(ROLE_ID)) for i in items) if c is not None]
        data.setUrls([QUrl.fromLocalFile(c.path) for c in clips])
        data.setData(MIME_CLIP, "\n".join(c.id for c in clips).encode("utf-8"))
        return data


class LibraryDock(QWidget):
    """``collection``: the scene collection whose media sources "Use in" offers (None: no such menu)."""

    import_finished = Signal(object)  # ImportResult, on the UI thread
    refreshed = Signal(int)  # the list was rebuilt with this many clips
    job_finished = Signal(str)  # "check" | "relink" | "relink-folder" | "save" | "seed" | "error"

    def __init__(self, library: Library, collection: SceneCollection | None = None,
                 parent: QWidget | None = None, *,
                 update_source: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.collection = collection
        # how "use in" changes a source: the window submits an (undoable) engine command
        self._update_source = update_source
        self.rundown_target: RundownTarget | None = None  # the rundown dock, once the show has one
        self.import_job: ImportJob | None = None
        self._worker: threading.Thread | None = None
        self._icons: dict[tuple[str, str, str], QIcon] = {}
        self._bridge = _Bridge()
        self._bridge.progress.connect(self._on_progress)
        self._bridge.imported.connect(self._on_imported)
        self._bridge.worked.connect(self._on_worked)
        self._bridge.changed.connect(self._schedule_refresh)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(100)  # a burst of changes (an import) rebuilds the list once
        self._refresh_timer.timeout.connect(self.refresh)
        # emitted on whichever thread changed the library: only queue a signal from here
        self._disconnect = library.changed.connect(lambda _e: self._bridge.changed.emit())

        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        on_change(self.search, lambda: self.search.setPlaceholderText(tr("Search: name, tag:…, codec:…, is:broken")))
        self.search.textChanged.connect(lambda _t: self.refresh())
        self.view_button = QPushButton(self)
        self.view_button.setCheckable(True)
        bind(self.view_button, "setText", "List")
        self.view_button.toggled.connect(self.set_list_mode)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.view_button)

        self.list = _ClipList(library, self)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.itemSelectionChanged.connect(self._selection_changed)

        self.details = QLabel(self)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.tags_edit = QLineEdit(self)
        on_change(self.tags_edit, lambda: self.tags_edit.setPlaceholderText(tr("Tags, separated by commas")))
        self.tags_edit.editingFinished.connect(self._tags_edited)

        buttons = QHBoxLayout()
        self.import_button = self._button("Import Folder…", lambda: self.import_folder(), buttons)
        self.cancel_button = self._button("Cancel", self.cancel_import, buttons)
        self.check_button = self._button("Check Files", self.check_files, buttons)
        self.relink_button = self._button("Relink…", lambda: self.relink_selected(), buttons)
        self.use_button = self._button("Use in…", self._use_menu, buttons)
        buttons.addStretch(1)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.tags_edit)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self._apply_mode(False)
        self._set_busy(False)
        on_change(self, self.refresh)  # item texts say "broken"/"missing" in the current language

    def _button(self, text: str, slot: Callable[[], object], layout: QHBoxLayout) -> QPushButton:
        button = QPushButton(self)
        bind(button, "setText", text)
        button.clicked.connect(lambda _=False: slot())
        layout.addWidget(button)
        return button

    # ---- showing the clips ----

    def set_list_mode(self, as_list: bool) -> None:
        self._apply_mode(as_list)
        self.refresh()

    def _apply_mode(self, as_list: bool) -> None:
        if as_list:
            self.list.setViewMode(QListView.ViewMode.ListMode)
            self.list.setIconSize(LIST_ICON)
            self.list.setGridSize(QSize())
            self.list.setWordWrap(False)
        else:
            self.list.setViewMode(QListView.ViewMode.IconMode)
            self.list.setIconSize(GRID_ICON)
            self.list.setGridSize(QSize(GRID_ICON.width() + 24, GRID_ICON.height() + 64))
            self.list.setWordWrap(True)
            self.list.setResizeMode(QListView.ResizeMode.Adjust)
            self.list.setMovement(QListView.Movement.Static)
        self.list.setDragEnabled(True)

    def _schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh(self) -> None:
        """Rebuild the list from the library (matching the search box), keeping the selection."""
        chosen = set(self.selected_ids())
        clips = self.library.search(self.search.text())
        self.list.clear()
        for clip in clips:
            item = QListWidgetItem(self._icon(clip), self._caption(clip))
            item.setData(ROLE_ID, clip.id)
            item.setToolTip(tooltip(self._describe(clip)))
            if self.list.viewMode() == QListView.ViewMode.IconMode:
                # Qt sizes the text by the UI font's line height; a CJK fallback font is taller and
                # the second line (length, size) would be elided: give the item the whole cell
                item.setSizeHint(self.list.gridSize())
            self.list.addItem(item)
            item.setSelected(clip.id in chosen)
        self._selection_changed()
        self.refreshed.emit(len(clips))

    def _caption(self, clip: Clip) -> str:
        if clip.status == "broken":
            return f"{clip.name}\n{tr('Broken')}"
        if clip.status == "missing":
            return f"{clip.name}\n{tr('Missing')}"
        return f"{clip.name}\n{_duration(clip.duration_s)} · {clip.resolution}"

    def _describe(self, clip: Clip) -> str:
        lines = [clip.name, clip.path]
        if clip.status == "ok":
            audio = tr("with sound") if clip.has_audio else tr("no sound")
            lines.append(f"{_duration(clip.duration_s)} · {clip.resolution} · {clip.fps:g} fps · {clip.codec} · {audio}")
        else:
            lines.append(f"{tr('Broken') if clip.status == 'broken' else tr('Missing')}: {clip.reason}")
        if clip.tags:
            lines.append(tr("Tags: {tags}").format(tags=", ".join(clip.tags)))
        return "\n".join(lines)

    def _icon(self, clip: Clip) -> QIcon:
        thumb = self.library.thumbnail_path(clip)
        # a re-probe (relink, a changed file) rewrites the same thumbnail file: its clip's facts are in the key
        key = (f"{thumb or ''}|{clip.path}|{clip.size}|{clip.mtime}", clip.status, tr("Broken") + tr("Missing"))
        icon = self._icons.get(key)
        if icon is None:
            icon = QIcon(self._badged(thumb, clip.status))
            self._icons[key] = icon
        return icon

    def _badged(self, thumb: Path | None, status: str) -> QPixmap:
        """The thumbnail (a grey card when there is none) with a red BROKEN / amber MISSING band."""
        pixmap = QPixmap(GRID_ICON)
        pixmap.fill(QColor(40, 40, 48))
        painter = QPainter(pixmap)
        if thumb is not None:
            image = QPixmap(str(thumb))
            if not image.isNull():
                scaled = image.scaled(GRID_ICON, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation)
                painter.drawPixmap((GRID_ICON.width() - scaled.width()) // 2,
                                   (GRID_ICON.height() - scaled.height()) // 2, scaled)
        color = BADGE_COLORS.get(status)
        if color is not None:
            band = GRID_ICON.height() // 3
            painter.fillRect(0, GRID_ICON.height() - band, GRID_ICON.width(), band, color)
            font = QFont(painter.font())
            font.setBold(True)
            font.setPixelSize(band - 8)
            painter.setFont(font)
            painter.setPen(QColor("white"))
            painter.drawText(0, GRID_ICON.height() - band, GRID_ICON.width(), band,
                             Qt.AlignmentFlag.AlignCenter, tr("Broken") if status == "broken" else tr("Missing"))
        painter.end()
        return pixmap

    def selected_ids(self) -> list[str]:
        return [str(i.data(ROLE_ID)) for i in self.list.selectedItems()]

    def selected_clips(self) -> list[Clip]:
        return [c for c in (self.library.get(i) for i in self.selected_ids()) if c is not None]

    def select(self, clip_id: str) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setSelected(item.data(ROLE_ID) == clip_id)

    def _selection_changed(self) -> None:
        clips = self.selected_clips()
        one = clips[0] if len(clips) == 1 else None
        self.details.setText(self._describe(one) if one is not None else "")
        self.tags_edit.setEnabled(one is not None)
        if not self.tags_edit.hasFocus():
            self.tags_edit.setText(", ".join(one.tags) if one is not None else "")
        self._set_busy(self._busy())

    # ---- tags ----

    def _tags_edited(self) -> None:
        clips = self.selected_clips()
        if len(clips) != 1:
            return
        tags = [t for t in self.tags_edit.text().split(",") if t.strip()]
        try:
            self.library.set_tags(clips[0].id, tags)
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self.save()

    def set_tags(self, clip_id: str, tags: list[str]) -> None:
        """What editing the tags field does, for one clip."""
        self.select(clip_id)
        self.tags_edit.setText(", ".join(tags))
        self._tags_edited()

    # ---- import ----

    def import_folder(self, folder: Path | None = None) -> bool:
        """Import ``folder`` (asks for one when None) on the worker; False when busy or not chosen."""
        if self._busy():
            return False
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, tr("Import Folder…"))
            if not chosen:
                return False
            folder = Path(chosen)
        self.progress.setValue(0)
        self.status.setText(tr("Looking for clips in {folder}…").format(folder=folder))
        self.import_job = ImportJob(self.library, folder,
                                    lambda p: self._bridge.progress.emit(p.done, p.total, p.name),
                                    self._bridge.imported.emit)
        self.import_job.start()
        self._set_busy(True)
        return True

    def cancel_import(self) -> None:
        if self.import_job is not None:
            self.import_job.cancel()
            self.status.setText(tr("Cancelling after the current file…"))

    def _on_progress(self, done: int, total: int, name: str) -> None:
        self.progress.setValue(int(100 * done / total) if total else 0)
        if name:
            self.status.setText(tr("Probing {done}/{total}: {name}").format(done=done, total=total, name=name))

    def _on_imported(self, result: ImportResult) -> None:
        job, self.import_job = self.import_job, None
        if job is not None:
            job.join()
        self.progress.setValue(100)
        self._set_busy(False)
        self.refresh()
        if result.error:
            self.status.setText(tr("Import failed: {error}").format(error=result.error))
        else:
            text = tr("{added} added, {updated} updated, {broken} broken").format(
                added=len(result.added), updated=len(result.updated), broken=len(result.broken))
            self.status.setText(text + (" · " + tr("cancelled") if result.cancelled else ""))
        self.import_finished.emit(result)

    # ---- other file work on the worker ----

    def _busy(self) -> bool:
        return self.import_job is not None or self._worker is not None

    def _set_busy(self, busy: bool) -> None:
        importing = self.import_job is not None
        one = len(self.list.selectedItems()) == 1
        self.import_button.setEnabled(not busy)
        self.cancel_button.setEnabled(importing)
        self.cancel_button.setVisible(importing)
        self.progress.setVisible(importing)
        self.check_button.setEnabled(not busy)
        self.relink_button.setEnabled(not busy and one)
        self.use_button.setEnabled(one and self.collection is not None)

    def _work(self, job: str, work: Callable[[], Any]) -> bool:
        if self._busy():
            return False

        def run() -> None:
            try:
                result: Any = work()
            except Exception as exc:  # a file that cannot be written or read: shown in the status line
                result = exc
            self._bridge.worked.emit(job, result)

        self._worker = threading.Thread(target=run, name="library-worker", daemon=True)
        self._worker.start()
        self._set_busy(True)
        return True

    def _on_worked(self, job: str, result: object) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.join()
        self._set_busy(False)
        self.refresh()
        if isinstance(result, Exception):
            self.status.setText(tr("Library: {error}").format(error=result))
            self.job_finished.emit("error")
            return
        if job == "check":
            assert isinstance(result, list)
            missing = sum(1 for c in self.library.clips() if c.status == "missing")
            self.status.setText(tr("{missing} missing").format(missing=missing))
        elif job in ("relink", "relink-folder"):
            self.status.setText(tr("Relinked"))
        self.job_finished.emit(job)

    def _then_save(self, work: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            result = work()
            self.library.save()
            return result

        return run

    def check_files(self) -> bool:
        """Flag clips whose file is gone (and re-probe those that came back), then save."""
        return self._work("check", self._then_save(self.library.check_files))

    def relink_selected(self, path: Path | None = None) -> bool:
        clips = self.selected_clips()
        if len(clips) != 1:
            return False
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, tr("Relink…"), str(Path(clips[0].path).parent))
            if not chosen:
                return False
            path = Path(chosen)
        clip_id, target = clips[0].id, path
        return self._work("relink", self._then_save(lambda: self.library.relink(clip_id, target)))

    def relink_folder(self, folder: Path | None = None) -> bool:
        """Find every missing clip by name and size under ``folder``."""
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, tr("Relink…"))
            if not chosen:
                return False
            folder = Path(chosen)
        target = folder
        return self._work("relink-folder", self._then_save(lambda: self.library.relink_folder(target)))

    def save(self) -> bool:
        return self._work("save", self.library.save)

    def add_demo_clips(self) -> bool:
        """First run: the demo's clips into the library (probing them on the worker)."""
        from studio.library.store import add_demo_clips

        return self._work("seed", self._then_save(lambda: add_demo_clips(self.library)))

    # ---- using a clip ----

    def media_sources(self) -> list[str]:
        if self.collection is None:
            return []
        with self.collection.lock:
            return sorted(n for n, cfg in self.collection.sources.items() if cfg.type_id == MEDIA_TYPE)

    def use_in_source(self, source: str, clip_id: str | None = None) -> bool:
        """Point the media source ``source`` at the selected clip (or ``clip_id``)."""
        clip = self.library.get(clip_id) if clip_id else next(iter(self.selected_clips()), None)
        if clip is None or self.collection is None:
            return False
        if not clip.usable:
            self.status.setText(tr("{name} cannot be used: {reason}").format(name=clip.name, reason=clip.reason))
            return False
        try:
            if self._update_source is None:
                use_clip_in_source(self.collection, source, clip)
            elif self.collection.source(source).type_id != MEDIA_TYPE:
                raise ValueError(f"{source!r} is not a media source")
            else:
                self._update_source(source, {"path": clip.path, "clip": clip.id})
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        self.status.setText(tr("{source} now plays {name}").format(source=source, name=clip.name))
        return True

    def _use_menu(self) -> None:
        menu = self._build_use_menu(self)
        menu.exec(self.use_button.mapToGlobal(self.use_button.rect().bottomLeft()))

    def _build_use_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(tr("Use in media source"), parent)
        sources = self.media_sources()
        for name in sources:
            action = menu.addAction(name)  # source names are the producer's own, still plain in menus
            action.triggered.connect(lambda _=False, n=name: self.use_in_source(n))
        if not sources:
            menu.addAction(tr("No media sources")).setEnabled(False)
        return menu

    def _usable_selection(self) -> list[Clip]:
        clips = self.selected_clips()
        bad = [c for c in clips if not c.usable]
        if bad:
            self.status.setText(tr("{name} cannot be used: {reason}").format(name=bad[0].name, reason=bad[0].reason))
        return [] if bad else clips

    def add_to_rundown(self) -> bool:
        """The selected clips as new drama segments, after the rundown's selected segment (else last)."""
        target = self.rundown_target
        clips = self._usable_selection()
        if target is None or not clips:
            return False
        try:
            target.add_clips(clips, target.index_after_selection())
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        self.status.setText(tr("Added to the rundown: {names}").format(names=", ".join(c.name for c in clips)))
        return True

    def replace_in_rundown(self) -> bool:
        """The rundown's selected drama segment plays the selected clip."""
        target = self.rundown_target
        clips = self._usable_selection()
        if target is None or len(clips) != 1:
            return False
        seg = target.selected_drama_segment()
        if seg is None:
            self.status.setText(tr("Select a drama segment in the rundown first"))
            return False
        try:
            target.replace_clip(seg.id, clips[0])
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        self.status.setText(tr("{segment} now plays {name}").format(segment=seg.title, name=clips[0].name))
        return True

    def _build_rundown_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(tr("Use in rundown…"), parent)
        menu.addAction(tr("Add as a new segment"), lambda: self.add_to_rundown())
        seg = self.rundown_target.selected_drama_segment() if self.rundown_target is not None else None
        replace = menu.addAction(tr("Replace the clip of {segment}").format(segment=seg.title) if seg is not None
                                 else tr("Replace the selected segment's clip"), lambda: self.replace_in_rundown())
        replace.setEnabled(seg is not None and len(self.selected_clips()) == 1)
        return menu

    def _context_menu(self, pos: Any) -> None:
        if not self.selected_clips():
            return
        menu = QMenu(self)
        if self.collection is not None and len(self.selected_clips()) == 1:
            menu.addMenu(self._build_use_menu(menu))
        if self.rundown_target is not None:
            menu.addMenu(self._build_rundown_menu(menu))
        menu.addAction(tr("Relink…"), lambda: self.relink_selected())
        menu.addAction(tr("Relink missing clips from a folder…"), lambda: self.relink_folder())
        menu.addAction(tr("Copy path"), self._copy_path)
        menu.addAction(tr("Remove from library"), self._remove_selected)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def _copy_path(self) -> None:
        QApplication.clipboard().setText("\n".join(c.path for c in self.selected_clips()))

    def _remove_selected(self) -> None:
        for clip_id in self.selected_ids():
            self.library.remove(clip_id)
        self.save()

    # ---- closing ----

    def shutdown(self) -> None:
        """Stop the import after the current file and wait for the worker (the window is closing)."""
        self._disconnect()
        self._disconnect = lambda: None
        if self.import_job is not None:
            self.import_job.cancel()
            self.import_job.join(30)
        if self._worker is not None:
            self._worker.join(30)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

