"""Dropped clips: what a drop carries (library ids from the library dock, or plain video files from
the desktop) turned into library clips, and the edits that put a clip into a scene.

The library dock's drags carry ``MIME_CLIP`` (library ids) beside the files' URLs: those are used at
once. A drop from the desktop carries only URLs, so those files are added to the library first,
probed on a ``clip-drop`` worker thread (a file on a stalled share must not freeze the window), and
then used the same way on the UI thread. A file that is not a video or cannot be played is refused
with a message and changes nothing: its clip is not kept.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, Signal

from scenes.model import SceneCollection
from studio import commands as cmd
from studio.library.clip import Clip, new_clip_id
from studio.library.library import Library
from studio.library.links import MEDIA_TYPE
from studio.library.probe import is_video_name
from widgets.i18n import tr
from widgets.library_dock import MIME_CLIP

MAX_DROPPED = 20  # files in one drop: each is probed on the UI thread


@dataclass
class DroppedClips:
    clips: list[Clip] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # plain text, one per refused file or id

    @property
    def message(self) -> str:
        return "; ".join(self.problems)


def carries_clips(mime: QMimeData) -> bool:
    """A drop this studio can turn into clips: library ids, or local files."""
    return mime.hasFormat(MIME_CLIP) or any(u.isLocalFile() for u in mime.urls())


def clips_from_ids(library: Library, mime: QMimeData) -> DroppedClips:
    """The usable library clips a drag from the library dock carries (no file I/O)."""
    found = DroppedClips()
    for clip_id in bytes(mime.data(MIME_CLIP).data()).decode("utf-8", "replace").split():
        _keep(found, library.get(clip_id), clip_id)
    return found


def clips_from_files(library: Library, files: list[Path]) -> DroppedClips:
    """Dropped files as usable library clips, probed and added (and saved) when new: file I/O."""
    found = DroppedClips()
    for path in files[:MAX_DROPPED]:
        _keep(found, _add_file(library, path, found), path.name)
    if len(files) > MAX_DROPPED:
        found.problems.append(tr("only the first {count} files were used").format(count=MAX_DROPPED))
    return found


def _keep(found: DroppedClips, clip: Clip | None, what: str) -> None:
    if clip is None:
        if what:
            found.problems.append(tr("{name}: not in the asset library").format(name=what))
    elif not clip.usable:
        found.problems.append(tr("{name} cannot be used: {reason}").format(name=clip.name, reason=clip.reason))
    else:
        found.clips.append(clip)


def _add_file(library: Library, path: Path, found: DroppedClips) -> Clip | None:
    """The library's clip for a dropped file, probed and added when new (and only if it plays)."""
    if path.is_dir() or not is_video_name(path):
        found.problems.append(tr("{name} is not a video file").format(name=path.name))
        return None
    known = library.by_path(path)
    if known is not None and known.usable:
        return known
    cid = known.id if known is not None else new_clip_id()
    result = library.probe(path, cid)
    if not result.ok:
        found.problems.append(tr("{name} cannot be used: {reason}").format(name=path.name, reason=result.reason))
        return None
    clip = library.add_probed(path, result, cid)
    try:
        library.save()
    except (OSError, ValueError) as exc:  # the clip is in use; the library file is saved next time
        found.problems.append(tr("Library: {error}").format(error=exc))
    return clip


class _Finished(QObject):
    done = Signal(object, object)  # (DroppedClips, what to do with them), to the UI thread


class DropResolver(QObject):
    """Turns a drop into clips for ``then`` (always called on the UI thread): library ids at once,
    desktop files after the worker has probed them. One drop's files at a time."""

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self._worker: threading.Thread | None = None
        self._finished = _Finished(self)
        self._finished.done.connect(self._finish)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def resolve(self, mime: QMimeData, then: Callable[[DroppedClips], object]) -> None:
        if mime.hasFormat(MIME_CLIP):  # ids from the library dock win over the URLs beside them
            then(clips_from_ids(self.library, mime))
            return
        if self._worker is not None:
            then(DroppedClips(problems=[tr("Still adding the files dropped before; try again in a moment")]))
            return
        files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]  # the drag data is gone later

        def work() -> None:
            try:
                found = clips_from_files(self.library, files)
            except Exception as exc:  # a library full or unwritable: said, never a crash
                found = DroppedClips(problems=[tr("Library: {error}").format(error=exc)])
            self._finished.done.emit(found, then)

        self._worker = threading.Thread(target=work, name="clip-drop", daemon=True)
        self._worker.start()

    def _finish(self, found: DroppedClips, then: Callable[[DroppedClips], object]) -> None:
        self.wait()
        then(found)

    def wait(self, timeout: float = 30.0) -> None:
        """Let the worker finish (the window is closing)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.join(timeout)


# ---- a clip as a new media source in a scene ----------------------------------------------------


def source_name_for(collection: SceneCollection, clip: Clip, taken: set[str] | None = None) -> str:
    """The clip's name without its extension, numbered when a source (or ``taken``) has it already."""
    base = Path(clip.name).stem.strip() or "Media"
    taken = taken or set()
    with collection.lock:
        name, n = base, 1
        while name in collection.sources or name in taken:
            n += 1
            name = f"{base} {n}"
    return name


def fitted_scale(collection: SceneCollection, clip: Clip) -> float:
    """Native size, shrunk to fit the canvas when the clip is bigger."""
    if not clip.width or not clip.height:
        return 1.0
    return min(1.0, collection.video.width / clip.width, collection.video.height / clip.height)


def add_clips_batch(collection: SceneCollection, scene: str, clips: list[Clip],
                    centre: tuple[float, float] | None = None, index: int | None = None) -> tuple[cmd.EditBatch, list[str]]:
    """One undo step adding each clip as a new media source (``clip`` = its library id) shown in
    ``scene``, centred on ``centre`` (canvas pixels; None: the canvas centre), at stack ``index``
    (None: on top). Returns the batch and the new items' ids."""
    cx, cy = centre if centre is not None else (collection.video.width / 2, collection.video.height / 2)
    edits: list[cmd.EditCommand] = []
    taken: set[str] = set()
    ids: list[str] = []
    for clip in clips:
        name = source_name_for(collection, clip, taken)
        taken.add(name)
        item_id = uuid.uuid4().hex[:12]
        scale = fitted_scale(collection, clip)
        fields = {"x": float(round(cx - clip.width * scale / 2)), "y": float(round(cy - clip.height * scale / 2)),
                  "scale_x": scale, "scale_y": scale}
        edits += [cmd.AddSource(name, MEDIA_TYPE, {"path": clip.path, "clip": clip.id}),
                  cmd.AddItem(scene, name, item_id, fields, index)]
        ids.append(item_id)
    return cmd.EditBatch(tuple(edits), label="Add Clip"), ids
