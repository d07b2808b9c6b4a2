"""Rundowns and media sources refer to clips by library id.

A drama segment keeps ``clip`` (the id) and ``path`` (where the clip was last found, the fallback
that older studios and a library without that clip still play); a media source keeps the id in its
``clip`` setting beside ``path``. Linking on load:

- a reference with an id the library knows gets the library's current path (a relinked clip plays
  from its new place in every rundown and scene);
- an id the library does not know (a show folder from another machine) adds the file under that id;
- an old file with a plain path (no id) adds the clip to the library and takes its id: that is the
  migration, done in memory; the next save writes the ids.

Probing a new file is file I/O: link where files are read anyway (loading, a worker thread).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scenes.model import SceneCollection
from studio.library.clip import Clip
from studio.library.library import Library, same_file
from studio.rundown.model import DramaSegment, Rundown

MEDIA_TYPE = "media"


@dataclass
class LinkReport:
    linked: int = 0  # references that already had an id the library knows
    added: list[str] = field(default_factory=list)  # clip ids added to the library while linking
    moved: list[str] = field(default_factory=list)  # references whose path followed a relinked clip
    unusable: list[tuple[str, str]] = field(default_factory=list)  # (what, reason): broken or missing clips

    @property
    def changed(self) -> bool:
        return bool(self.added or self.moved)


def clip_for(library: Library, clip_id: str | None, path: str) -> tuple[Clip | None, bool]:
    """The library clip for a reference, adding it when needed: (clip, added). None for no path."""
    if clip_id:
        known = library.get(clip_id)
        if known is not None:
            return known, False
    if not path:
        return None, False
    known = library.by_path(path)
    if known is not None:
        return known, False
    return library.add_file(path, clip_id), True


def _follow(report: LinkReport, what: str, clip: Clip, added: bool) -> None:
    if added:
        report.added.append(clip.id)
    else:
        report.linked += 1
    if not clip.usable:
        report.unusable.append((what, f"{clip.name}: {clip.reason}"))


def link_rundown(rundown: Rundown, library: Library) -> LinkReport:
    report = LinkReport()
    with rundown.lock:
        segments = [s for s in rundown.segments if isinstance(s, DramaSegment)]
    for seg in segments:
        clip, added = clip_for(library, seg.clip, seg.path)
        if clip is None:
            continue
        _follow(report, f"segment {seg.id}", clip, added)
        with rundown.lock:
            if seg.clip != clip.id:
                seg.clip = clip.id
            if not same_file(seg.path, clip.path) and clip.status != "missing":
                seg.path = clip.path
                report.moved.append(seg.id)
    return report


def link_collection(collection: SceneCollection, library: Library) -> LinkReport:
    report = LinkReport()
    with collection.lock:
        media = [(name, dict(cfg.settings)) for name, cfg in collection.sources.items() if cfg.type_id == MEDIA_TYPE]
    for name, settings in media:
        clip, added = clip_for(library, settings.get("clip") or None, str(settings.get("path", "")))
        if clip is None:
            continue
        _follow(report, f"source {name}", clip, added)
        update: dict[str, str] = {}
        if settings.get("clip") != clip.id:
            update["clip"] = clip.id
        if not same_file(str(settings.get("path", "")), clip.path) and clip.status != "missing":
            update["path"] = clip.path
            report.moved.append(name)
        if update:
            with collection.lock:
                collection.update_source(name, update)
    return report


def use_clip_in_source(collection: SceneCollection, source: str, clip: Clip) -> None:
    """Point the media source ``source`` at a library clip (the dock's "use in…" action)."""
    cfg = collection.source(source)
    if cfg.type_id != MEDIA_TYPE:
        raise ValueError(f"{source!r} is not a media source")
    collection.update_source(source, {"path": clip.path, "clip": clip.id})


def use_clip_in_segment(rundown: Rundown, segment_id: str, clip: Clip) -> None:
    """Point the drama segment ``segment_id`` at a library clip (through the segment's validated
    setters, so the rundown's listeners hear it). A clip too short for the segment's out point or
    its markers is refused: the show would jump past them."""
    with rundown.lock:
        seg = rundown.segment(segment_id)
        if not isinstance(seg, DramaSegment):
            raise ValueError(f"segment {segment_id} is not a drama segment")
        if clip.duration_s > 0:
            last = max([seg.out_s, seg.in_s] + [m.at_s for m in seg.markers])
            if last > clip.duration_s:
                raise ValueError(f"{clip.name} is {clip.duration_s:.1f} s long; segment {seg.title} "
                                 f"needs {last:.1f} s (its out point and markers)")
        seg.path = clip.path
        seg.clip = clip.id


def clip_segment(clip: Clip, title: str | None = None) -> DramaSegment:
    """A new drama segment playing the whole of a library clip (titled by its file name)."""
    return DramaSegment(title or Path(clip.name).stem or clip.name, clip.path, clip=clip.id)
