"""One clip of the asset library: where it is, what the probe found, the producer's tags.

Plain data: the library (``studio.library.library``) owns the clips and changes them under its
lock; everything else gets copies (``dataclasses.replace``), so a worker thread never sees a clip
change under it.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

ClipStatus = Literal["ok", "broken", "missing"]
STATUSES: tuple[ClipStatus, ...] = ("ok", "broken", "missing")
MAX_TAG = 40
MAX_TAGS = 50


def new_clip_id() -> str:
    return f"clip-{uuid.uuid4().hex[:10]}"


def clean_tag(tag: str) -> str:
    """Tags are case-insensitive words: trimmed, lower-cased, no commas (the search box splits on them)."""
    if not isinstance(tag, str):
        raise ValueError(f"a tag is text, not {type(tag).__name__}")
    tag = " ".join(tag.replace(",", " ").split()).lower()
    if not tag:
        raise ValueError("a tag cannot be empty")
    if len(tag) > MAX_TAG:
        raise ValueError(f"a tag is at most {MAX_TAG} characters")
    return tag


@dataclass
class Clip:
    id: str
    path: str  # absolute
    name: str  # the file name, shown and searched
    size: int = 0
    mtime: float = 0.0
    status: ClipStatus = "ok"
    reason: str = ""  # why it is broken or missing, in words
    duration_s: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    codec: str = ""
    has_audio: bool = False
    audio_codec: str = ""
    thumbnail: str = ""  # file name in the library's thumbnails folder ("" = none)
    tags: list[str] = field(default_factory=list)
    added: float = 0.0

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}" if self.width and self.height else ""

    @property
    def usable(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Clip:
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        for key in ("id", "path", "name"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ValueError(f"{where}: missing or bad field {key!r}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}  # unknown keys: a newer studio's extras
        if values.get("status", "ok") not in STATUSES:
            raise ValueError(f"{where}: unknown status {values['status']!r}")
        tags = values.get("tags", [])
        if not isinstance(tags, list):
            raise ValueError(f"{where}: tags must be a list")
        try:
            values["tags"] = sorted({clean_tag(t) for t in tags})
            for key, kind in (("size", int), ("width", int), ("height", int)):
                values[key] = kind(values.get(key, 0))
            for key in ("mtime", "duration_s", "fps", "added"):
                values[key] = float(values.get(key, 0.0))
            values["has_audio"] = bool(values.get("has_audio", False))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        return cls(**values)
