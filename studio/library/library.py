"""The asset library: the show's drama clips, probed, tagged and searchable, kept as one JSON file.

Rundowns and media sources refer to a clip by its library id (``clip-…``), so a clip that moved can
be relinked once, here, instead of in every rundown. The library is thread-safe (one lock): the
import worker adds clips while the UI reads and tags them; ``changed`` is emitted on the thread
that made the change (widgets hop to the UI thread themselves).

On disk: ``{"schema_version", "kind", "clips": [...]}`` written atomically with a last known-good
``.bak`` (studio.storage); a damaged file raises DamagedFileError naming it and the backup.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scenes.events import Signal
from studio.library.clip import MAX_TAGS, Clip, clean_tag, new_clip_id
from studio.library.probe import ProbeResult, probe_file
from studio.paths import data_dir
from studio.storage import DamagedFileError, keep_known_good, read_json_bytes, valid_backup, write_json_atomic

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
KIND = "drama-live-studio/library"
MAX_CLIPS = 100_000


@dataclass(frozen=True)
class LibraryChanged:
    kind: Literal["added", "updated", "removed"]
    clip_ids: tuple[str, ...]


def library_dir() -> Path:
    return data_dir() / "library"


def default_library_path() -> Path:
    return library_dir() / "library.json"


def _key(path: str | Path) -> str:
    """Paths compare as absolute, normalised and (where the file system is) case-folded."""
    p = os.path.normpath(os.path.abspath(str(path)))
    return os.path.normcase(p)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file as the library compares them (no disk access)."""
    return _key(a) == _key(b)


class Library:
    def __init__(self, path: Path | None = None, thumbs_dir: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_library_path()
        self.thumbs_dir = thumbs_dir or self.path.parent / "thumbs"
        self.changed: Signal[LibraryChanged] = Signal()
        self._lock = threading.RLock()
        self._clips: dict[str, Clip] = {}
        self._by_path: dict[str, str] = {}

    # ---- files ----

    @classmethod
    def open(cls, path: Path | None = None) -> Library:
        """The library at ``path`` (an empty one when there is no file yet)."""
        library = cls(path)
        if library.path.exists():
            library._load()
        return library

    def _load(self) -> None:
        data, raw = read_json_bytes(self.path)
        try:
            clips = clips_from_dict(data)
        except ValueError as exc:
            raise DamagedFileError(self.path, str(exc), valid_backup(self.path)) from None
        with self._lock:
            self._clips = {c.id: c for c in clips}
            self._by_path = {_key(c.path): c.id for c in clips}
        keep_known_good(self.path, raw)

    def save(self) -> None:
        with self._lock:
            data = clips_to_dict(self._clips.values())
        write_json_atomic(self.path, data, validate=clips_from_dict)

    # ---- reading ----

    def __len__(self) -> int:
        with self._lock:
            return len(self._clips)

    def clips(self) -> list[Clip]:
        """Copies, by name."""
        with self._lock:
            found = [dataclasses.replace(c, tags=list(c.tags)) for c in self._clips.values()]
        return sorted(found, key=lambda c: (c.name.lower(), c.path))

    def get(self, clip_id: str) -> Clip | None:
        with self._lock:
            c = self._clips.get(clip_id)
            return None if c is None else dataclasses.replace(c, tags=list(c.tags))

    def by_path(self, path: str | Path) -> Clip | None:
        with self._lock:
            clip_id = self._by_path.get(_key(path))
            return None if clip_id is None else self.get(clip_id)

    def thumbnail_path(self, clip: Clip) -> Path | None:
        if not clip.thumbnail:
            return None
        path = self.thumbs_dir / clip.thumbnail
        return path if path.exists() else None

    def search(self, query: str) -> list[Clip]:
        """Clips matching every word of ``query``: a plain word matches the name, a tag, the codec,
        the resolution or the status; ``tag:x``, ``codec:x``, ``is:broken|missing|ok``, ``audio:yes|no``
        match one field."""
        terms = [t.lower() for t in query.replace(",", " ").split()]
        return [c for c in self.clips() if all(_matches(c, t) for t in terms)]

    # ---- adding and probing ----

    def _thumb_file(self, clip_id: str) -> Path:
        return self.thumbs_dir / f"{clip_id}.jpg"

    def probe(self, path: str | Path, clip_id: str) -> ProbeResult:
        """Probe ``path`` writing the thumbnail for ``clip_id`` (file I/O: call it off the UI thread)."""
        return probe_file(path, self._thumb_file(clip_id))

    def add_probed(self, path: str | Path, result: ProbeResult, clip_id: str | None = None) -> Clip:
        """Record what a probe found: a new clip, or the same clip (id and tags kept) re-probed."""
        abs_path = os.path.abspath(str(path))
        with self._lock:
            existing_id = clip_id if clip_id in self._clips else self._by_path.get(_key(abs_path))
            old = self._clips.get(existing_id) if existing_id else None
            if old is None and len(self._clips) >= MAX_CLIPS:
                raise ValueError(f"the library holds at most {MAX_CLIPS} clips")
            cid = old.id if old is not None else (clip_id or new_clip_id())
            clip = _clip_from_probe(cid, abs_path, result, old)
            if not result.thumbnail:
                # a missing file keeps its old picture: it helps to recognise what to relink
                clip.thumbnail = old.thumbnail if old is not None and clip.status == "missing" else ""
            else:
                clip.thumbnail = self._thumb_file(cid).name
            if old is not None:
                self._by_path.pop(_key(old.path), None)
            self._clips[cid] = clip
            self._by_path[_key(abs_path)] = cid
        self.changed.emit(LibraryChanged("updated" if old is not None else "added", (cid,)))
        return dataclasses.replace(clip, tags=list(clip.tags))

    def add_file(self, path: str | Path, clip_id: str | None = None) -> Clip:
        """The clip for ``path``: the known one, else probed and added now (blocking file I/O)."""
        known = self.by_path(path)
        if known is not None:
            return known
        cid = clip_id if clip_id and self.get(clip_id) is None else new_clip_id()
        return self.add_probed(path, self.probe(path, cid), cid)

    def needs_probe(self, path: str | Path) -> bool:
        """A new file, or a known one that changed on disk or was not usable."""
        known = self.by_path(path)
        if known is None or known.status != "ok":
            return True
        try:
            st = os.stat(path)
        except OSError:
            return True
        return st.st_size != known.size or abs(st.st_mtime - known.mtime) > 1e-3

    def remove(self, clip_id: str) -> None:
        with self._lock:
            clip = self._clips.pop(clip_id, None)
            if clip is None:
                return
            self._by_path.pop(_key(clip.path), None)
        if clip.thumbnail:
            (self.thumbs_dir / clip.thumbnail).unlink(missing_ok=True)
        self.changed.emit(LibraryChanged("removed", (clip_id,)))

    # ---- tags ----

    def set_tags(self, clip_id: str, tags: Iterable[str]) -> Clip:
        cleaned = sorted({clean_tag(t) for t in tags})
        if len(cleaned) > MAX_TAGS:
            raise ValueError(f"a clip has at most {MAX_TAGS} tags")
        return self._update(clip_id, tags=cleaned)

    def add_tag(self, clip_id: str, tag: str) -> Clip:
        clip = self._require(clip_id)
        return self.set_tags(clip_id, [*clip.tags, tag])

    def remove_tag(self, clip_id: str, tag: str) -> Clip:
        clip = self._require(clip_id)
        gone = clean_tag(tag)
        return self.set_tags(clip_id, [t for t in clip.tags if t != gone])

    def all_tags(self) -> list[str]:
        with self._lock:
            return sorted({t for c in self._clips.values() for t in c.tags})

    # ---- missing files ----

    def check_files(self) -> list[str]:
        """Flag clips whose file is gone as missing (and missing ones that came back for a re-probe):
        returns the ids that changed. Only ``stat`` calls; cheap enough for a refresh button."""
        changed: list[str] = []
        for clip in self.clips():
            exists = os.path.isfile(clip.path)
            if not exists and clip.status != "missing":
                self._update(clip.id, status="missing", reason=f"file not found: {clip.path}")
                changed.append(clip.id)
            elif exists and clip.status == "missing":
                self.add_probed(clip.path, self.probe(clip.path, clip.id), clip.id)
                changed.append(clip.id)
        return changed

    def relink(self, clip_id: str, new_path: str | Path) -> Clip:
        """Point a clip (keeping its id and tags) at another file; it is probed again."""
        self._require(clip_id)
        other = self.by_path(new_path)
        if other is not None and other.id != clip_id:
            raise ValueError(f"{new_path} is already in the library as {other.name} ({other.id})")
        return self.add_probed(new_path, self.probe(new_path, clip_id), clip_id)

    def relink_folder(self, folder: str | Path, progress: Callable[[int, int], None] | None = None) -> list[str]:
        """Relink every missing clip to a file of the same name and size under ``folder``."""
        missing = [c for c in self.clips() if c.status == "missing"]
        if not missing:
            return []
        found: dict[tuple[str, int], str] = {}
        for root, _dirs, files in os.walk(folder):
            for name in files:
                full = os.path.join(root, name)
                try:
                    found.setdefault((name.lower(), os.path.getsize(full)), full)
                except OSError:
                    continue
        relinked = []
        for i, clip in enumerate(missing):
            match = found.get((clip.name.lower(), clip.size))
            if match is not None and self.by_path(match) is None:
                self.relink(clip.id, match)
                relinked.append(clip.id)
            if progress is not None:
                progress(i + 1, len(missing))
        return relinked

    # ---- internals ----

    def _require(self, clip_id: str) -> Clip:
        clip = self.get(clip_id)
        if clip is None:
            raise ValueError(f"no clip {clip_id!r} in the library")
        return clip

    def _update(self, clip_id: str, **changes: Any) -> Clip:
        with self._lock:
            clip = self._clips.get(clip_id)
            if clip is None:
                raise ValueError(f"no clip {clip_id!r} in the library")
            updated = dataclasses.replace(clip, **changes)
            self._clips[clip_id] = updated
        self.changed.emit(LibraryChanged("updated", (clip_id,)))
        return dataclasses.replace(updated, tags=list(updated.tags))


def _clip_from_probe(cid: str, path: str, r: ProbeResult, old: Clip | None) -> Clip:
    if r.ok:
        status, reason = "ok", ""
    elif r.reason == "file not found":
        status, reason = "missing", f"file not found: {path}"
    else:
        status, reason = "broken", r.reason
    return Clip(id=cid, path=path, name=os.path.basename(path), size=r.size, mtime=r.mtime,
                status=status,  # type: ignore[arg-type]
                reason=reason, duration_s=round(r.duration_s, 3), width=r.width, height=r.height, fps=r.fps,
                codec=r.codec, has_audio=r.has_audio, audio_codec=r.audio_codec,
                tags=list(old.tags) if old is not None else [],
                added=old.added if old is not None else time.time())


def _matches(clip: Clip, term: str) -> bool:
    field_name, sep, value = term.partition(":")
    if sep and value:
        if field_name == "tag":
            return any(value in t for t in clip.tags)
        if field_name == "codec":
            return value in clip.codec.lower() or value in clip.audio_codec.lower()
        if field_name == "is":
            return clip.status == value
        if field_name == "audio":
            return clip.has_audio == (value in ("yes", "y", "1", "true", "有"))
    haystack = (clip.name.lower(), *clip.tags, clip.codec.lower(), clip.audio_codec.lower(), clip.resolution,
                clip.status)
    return any(term in h for h in haystack)


def clips_to_dict(clips: Iterable[Clip]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "kind": KIND,
            "clips": [c.to_dict() for c in sorted(clips, key=lambda c: c.id)]}


def clips_from_dict(data: Any) -> list[Clip]:
    if not isinstance(data, dict):
        raise ValueError("the library file is not a JSON object")
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError("missing or bad schema_version")
    if version > SCHEMA_VERSION:
        raise ValueError(f"schema_version {version} is newer than this studio understands ({SCHEMA_VERSION})")
    if data.get("kind", KIND) != KIND:
        raise ValueError(f"this is not an asset library (kind {data.get('kind')!r})")
    raw = data.get("clips", [])
    if not isinstance(raw, list):
        raise ValueError("clips must be a list")
    clips = [Clip.from_dict(c, f"clip {i + 1}") for i, c in enumerate(raw)]
    ids = [c.id for c in clips]
    if len(set(ids)) != len(ids):
        raise ValueError("two clips share one id")
    return clips
