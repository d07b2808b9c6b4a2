"""Rundowns on disk: JSON with a schema_version, atomic write with a .bak, clear errors.

Like scene collections (studio/collections.py): a damaged or newer file raises DamagedFileError
naming the file and the problem (and the backup, when there is one); it is never silently replaced.
Clip and collection paths inside the folder of the rundown file are stored relative to it, so a
show folder can be moved as a whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.rundown.markers import BranchPoint, Marker, ProductMoment, VotePoint
from studio.rundown.model import DramaSegment, LiveSegment, Rundown, Segment
from studio.storage import (
    DamagedFileError,
    backup_path,
    path_for_file,
    path_from_file,
    read_json,
    write_json_atomic,
)

SCHEMA_VERSION = 1
KIND = "drama-live-studio/rundown"


# ---- to JSON ----------------------------------------------------------------------------------


def marker_to_dict(m: Marker) -> dict[str, Any]:
    base: dict[str, Any] = {"type": m.kind, "id": m.id, "at_s": m.at_s}
    if isinstance(m, ProductMoment):
        base.update(scene=m.scene, source=m.source, duration_s=m.duration_s)
        if m.product:  # files from before the catalogue have none: the card source's own product
            base["product"] = m.product
    elif isinstance(m, VotePoint):
        base.update(question=m.question, options=list(m.options), duration_s=m.duration_s,
                    tie_rule=m.tie_rule, default_option=m.default_option)
    else:
        base.update(vote=m.vote, targets=list(m.targets))
    return base


def segment_to_dict(s: Segment, base: Path | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": s.kind, "id": s.id, "title": s.title, "then": s.then}
    if isinstance(s, DramaSegment):
        out.update(path=path_for_file(s.path, base), in_s=s.in_s, out_s=s.out_s, scene=s.scene)
        if s.clip is not None:
            out["clip"] = s.clip  # the library id; "path" stays as the fallback (older files have only it)
    elif isinstance(s, LiveSegment):
        out.update(scene=s.scene, duration_s=s.duration_s)
    out["markers"] = [marker_to_dict(m) for m in s.markers]
    return out


def rundown_to_dict(rundown: Rundown, base: Path | None = None) -> dict[str, Any]:
    with rundown.lock:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": KIND,
            "name": rundown.name,
            "drama_source": rundown.drama_source,
            "drama_scene": rundown.drama_scene,
            "collection": None if rundown.collection is None else path_for_file(rundown.collection, base),
            "segments": [segment_to_dict(s, base) for s in rundown.segments],
        }


# ---- from JSON --------------------------------------------------------------------------------


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _get(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise ValueError(f"{where}: missing field {key!r}")
    return obj[key]


def marker_from_dict(data: Any, where: str) -> Marker:
    d = _obj(data, where)
    kind = _get(d, "type", where)
    mid = _get(d, "id", where)
    at = _get(d, "at_s", where)
    try:
        if kind == "product":
            return ProductMoment(at, _get(d, "scene", where), _get(d, "source", where),
                                 d.get("duration_s", 8.0), id=mid, product=d.get("product", ""))
        if kind == "vote":
            options = _get(d, "options", where)
            if not isinstance(options, list):
                raise ValueError("options must be a list")
            return VotePoint(at, _get(d, "question", where), tuple(options), d.get("duration_s", 30.0),
                             d.get("tie_rule", "default"), d.get("default_option", 0), id=mid)
        if kind == "branch":
            targets = _get(d, "targets", where)
            if not isinstance(targets, list):
                raise ValueError("targets must be a list")
            return BranchPoint(at, _get(d, "vote", where), tuple(targets), id=mid)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    raise ValueError(f"{where}: unknown marker type {kind!r}")


def segment_from_dict(data: Any, where: str, base: Path | None = None) -> Segment:
    d = _obj(data, where)
    kind = _get(d, "type", where)
    try:
        segment: Segment
        if kind == "drama":
            segment = DramaSegment(_get(d, "title", where), path_from_file(_get(d, "path", where), base),
                                   d.get("in_s", 0.0), d.get("out_s", 0.0), scene=d.get("scene"),
                                   segment_id=_get(d, "id", where), then=d.get("then"), clip=d.get("clip"))
        elif kind == "live":
            segment = LiveSegment(_get(d, "title", where), _get(d, "scene", where), d.get("duration_s", 0.0),
                                  segment_id=_get(d, "id", where), then=d.get("then"))
        else:
            raise ValueError(f"unknown segment type {kind!r}")
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    markers = d.get("markers", [])
    if not isinstance(markers, list):
        raise ValueError(f"{where}: markers must be a list")
    for i, m in enumerate(markers):
        marker = marker_from_dict(m, f"{where} marker {i + 1}")
        try:
            segment.add_marker(marker)
        except ValueError as exc:
            raise ValueError(f"{where} marker {i + 1}: {exc}") from None
    return segment


def rundown_from_dict(data: Any, base: Path | None = None) -> Rundown:
    d = _obj(data, "rundown")
    version = d.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError("rundown: missing or bad schema_version")
    if version > SCHEMA_VERSION:
        raise ValueError(f"schema_version {version} is newer than this studio understands ({SCHEMA_VERSION})")
    if version < 1:
        raise ValueError(f"schema_version {version} is not valid")
    if d.get("kind", KIND) != KIND:
        raise ValueError(f"this is not a rundown (kind {d.get('kind')!r})")
    collection = d.get("collection")
    rundown = Rundown(d.get("name", "Untitled show"), d.get("drama_source", "剧集 Episode"),
                      d.get("drama_scene", "Drama"),
                      None if collection is None else path_from_file(collection, base))
    segments = d.get("segments", [])
    if not isinstance(segments, list):
        raise ValueError("segments must be a list")
    for i, s in enumerate(segments):
        rundown.add_segment(segment_from_dict(s, f"segment {i + 1}", base))
    rundown.check()
    return rundown


# ---- files ------------------------------------------------------------------------------------


def save_rundown(rundown: Rundown, path: Path) -> None:
    path = Path(path)
    write_json_atomic(path, rundown_to_dict(rundown, path.parent))


def load_rundown(path: Path) -> Rundown:
    """Load a rundown or raise DamagedFileError naming the file, the problem and any backup."""
    path = Path(path)
    data = read_json(path)
    try:
        return rundown_from_dict(data, path.parent)
    except ValueError as exc:
        bak = backup_path(path)
        raise DamagedFileError(path, str(exc), bak if bak.exists() else None) from None


def load_rundown_backup(path: Path) -> Rundown:
    """The ``.bak`` copy, offered when the main file is damaged."""
    return load_rundown(backup_path(Path(path)))
