"""Pre-flight: before going live, open every clip and image the show can reach and list what is wrong.

A clip that is missing or damaged in one branch of the drama would otherwise be found only when the
audience votes for that branch, on air. So the rundown is walked over every branch (every segment
any vote can lead to, not one path), and with it the files the collection's scenes show: media
clips, images, product images, fallback images. Each clip is opened with PyAV, must have the
streams its use needs (a drama segment needs pictures), and must decode a frame at its in point.

All of this is file I/O and decoding: call it on a worker thread, never on the UI or video clock.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from scenes.model import SceneCollection
from scenes.properties import PropertyKind
from scenes.registry import get_type
from scenes.sources.image import load_image
from studio.rundown.markers import ProductMoment
from studio.rundown.model import DramaSegment, Rundown, Segment
from studio.rundown.persistence import load_rundown

MAX_PACKETS = 2000  # demuxed while looking for a first decodable frame; a clip needing more is broken


@dataclass(frozen=True)
class Problem:
    """One file the show cannot use: which file, why, and where the show uses it."""

    path: str
    reason: str
    where: str  # e.g. "segment ending-a (结局 A)" or "source 商品图 (image)"

    def __str__(self) -> str:
        return f"{self.where}: {self.path or '(no file)'}: {self.reason}"


@dataclass(frozen=True)
class _Use:
    """A file to check and what it must hold."""

    path: str
    kind: str  # "clip" | "image"
    where: str
    need_video: bool = False
    in_s: float = 0.0
    out_s: float = 0.0


def reachable_segments(rundown: Rundown, start: str | None = None) -> list[Segment]:
    """Every segment the show can reach from ``start`` (the first segment): its ``then`` (or the next
    in order) and, at a branch point, every target, whichever way the audience votes."""
    with rundown.lock:
        segments = rundown.segments
        if not segments:
            return []
        ids = {s.id for s in segments}
        order: list[Segment] = []
        seen: set[str] = set()
        todo = [start or segments[0].id]
        while todo:
            current = todo.pop(0)
            if current in seen or current not in ids:
                continue  # unknown ids are the model's own problems (Rundown.problems)
            seen.add(current)
            segment = rundown.segment(current)
            order.append(segment)
            branch = segment.branch
            if branch is not None:
                todo.extend(branch.targets)
            else:
                following = rundown.following(current)
                if following is not None:
                    todo.append(following)
        return order


def _rundown_uses(rundown: Rundown) -> list[_Use]:
    uses: list[_Use] = []
    for segment in reachable_segments(rundown):
        if isinstance(segment, DramaSegment):
            uses.append(_Use(segment.path, "clip", f"segment {segment.id} ({segment.title})", need_video=True,
                             in_s=segment.in_s, out_s=segment.out_s))
    return uses


def _collection_uses(collection: SceneCollection) -> list[_Use]:
    """Files behind every source a scene shows (sources in no scene never go on air)."""
    with collection.lock:
        shown = {item.source for scene in collection.scenes for item in scene.items}
        configs = [(name, cfg.type_id, dict(cfg.settings)) for name, cfg in collection.sources.items()
                   if name in shown]
    uses: list[_Use] = []
    for name, type_id, settings in configs:
        try:
            specs = get_type(type_id).properties
        except ValueError:
            continue  # an unknown type already fails when the collection loads
        where = f"source {name} ({type_id})"
        for spec in specs:
            if spec.kind is not PropertyKind.PATH:
                continue
            path = str(settings.get(spec.name) or "")
            main = spec.name == "path"  # the file the source exists to show; others are optional
            if not path and not main:
                continue
            if type_id == "media" and main:
                uses.append(_Use(path, "clip", where, in_s=_float(settings, "in_point"),
                                 out_s=_float(settings, "out_point")))
            else:
                uses.append(_Use(path, "image", where if main else f"{where} {spec.name}"))
    return uses


@dataclass(frozen=True)
class MissingProduct:
    """A product card or a rundown product moment naming a product the catalogue does not have: the
    card would go on air with whatever it showed last (or nothing)."""

    product: str
    where: str  # e.g. "product card 卡B" or "product moment bag-moment (segment live, card 卡B)"

    def __str__(self) -> str:
        return f"{self.where}: product {self.product!r} is not in the catalogue"


def missing_products(rundown: Rundown | None, collection: SceneCollection | None,
                     products: Collection[str]) -> list[MissingProduct]:
    """Cards in the scenes and product moments of every reachable segment whose product id is not
    in ``products`` (the catalogue's ids). Cards and moments with no product id are not checked."""
    missing: list[MissingProduct] = []
    if collection is not None:
        with collection.lock:
            shown = {item.source for scene in collection.scenes for item in scene.items}
            cards = [(name, str(cfg.settings.get("product_id") or "")) for name, cfg in collection.sources.items()
                     if cfg.type_id == "product_card" and name in shown]
        missing += [MissingProduct(pid, f"product card {name}") for name, pid in cards if pid and pid not in products]
    if rundown is not None:
        for segment in reachable_segments(rundown):
            for m in segment.markers:
                if isinstance(m, ProductMoment) and m.product and m.product not in products:
                    missing.append(MissingProduct(
                        m.product, f"product moment {m.id} (segment {segment.id} {segment.title}, card {m.source})"))
    return missing


def _float(settings: dict[str, Any], key: str) -> float:
    try:
        return float(settings.get(key) or 0.0)
    except (TypeError, ValueError):
        return 0.0


def preflight(rundown: Rundown | None, collection: SceneCollection | None,
              cancelled: Callable[[], bool] = lambda: False, rundown_path: str = "") -> list[Problem]:
    """Every problem the show can run into, in show order: the rundown's own cross-references (a
    branch to a missing segment, a scene the collection lacks), its clips, then the scenes' files."""
    problems: list[Problem] = []
    if rundown is not None:
        scenes = sources = None
        if collection is not None:
            with collection.lock:
                scenes = {scene.name for scene in collection.scenes}
                sources = set(collection.sources)
        problems += [Problem(rundown_path, text, "rundown") for text in rundown.problems(scenes, sources)]
    uses = (_rundown_uses(rundown) if rundown is not None else []) + \
        (_collection_uses(collection) if collection is not None else [])
    return problems + check_uses(uses, cancelled)


def preflight_file(path: Path, collection: SceneCollection | None,
                   cancelled: Callable[[], bool] = lambda: False) -> list[Problem]:
    """``preflight`` of the rundown saved at ``path``; a file that does not load is the problem."""
    try:
        rundown = load_rundown(Path(path))
    except (OSError, ValueError) as exc:
        return [Problem(str(path), str(exc), "rundown")]
    return preflight(rundown, collection, cancelled, str(path))


def check_uses(uses: Iterable[_Use], cancelled: Callable[[], bool] = lambda: False) -> list[Problem]:
    problems: list[Problem] = []
    verdicts: dict[tuple[Any, ...], str | None] = {}  # a clip used twice the same way is opened once
    for use in uses:
        if cancelled():
            break
        key = (use.path, use.kind, use.need_video, use.in_s, use.out_s)
        if key not in verdicts:
            verdicts[key] = check_clip(use.path, use.need_video, use.in_s, use.out_s) if use.kind == "clip" \
                else check_image(use.path)
        reason = verdicts[key]
        if reason is not None:
            problems.append(Problem(use.path, reason, use.where))
    return problems


def check_image(path: str) -> str | None:
    """None when the image decodes; else why not."""
    if not path:
        return "no file chosen"
    try:
        load_image(path)
    except ValueError as exc:
        return _reason(str(exc), path)
    return None


def check_clip(path: str, need_video: bool = False, in_s: float = 0.0, out_s: float = 0.0) -> str | None:
    """None when the clip plays as used: it opens, has the streams needed, and decodes a frame at
    ``in_s``; else why not (one short reason)."""
    if not path:
        return "no file chosen"
    if not os.path.exists(path):
        return "file not found"
    if not os.path.isfile(path):
        return "not a file"
    try:
        container = av.open(path, "r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        return f"not a playable media file ({getattr(exc, 'strerror', None) or exc})"
    try:
        return _check_container(container, need_video, in_s, out_s)
    except (av.FFmpegError, OSError, ValueError) as exc:
        return f"cannot be decoded ({type(exc).__name__}: {exc})"
    finally:
        container.close()


def _check_container(container: Any, need_video: bool, in_s: float, out_s: float) -> str | None:
    video = container.streams.video[0] if container.streams.video else None
    audio = container.streams.audio[0] if container.streams.audio else None
    if video is None and audio is None:
        return "no audio or video stream"
    if need_video and video is None:
        return "no video stream (a drama segment needs pictures)"
    if video is not None and (video.codec_context.width <= 0 or video.codec_context.height <= 0):
        return "the video stream has no picture size"
    duration_s = container.duration / 1_000_000 if container.duration else None
    if duration_s is not None and in_s >= duration_s:
        return f"the in point ({in_s:g} s) is past the clip's end ({duration_s:.1f} s)"
    if duration_s is not None and out_s and in_s < duration_s < out_s - 0.5:
        return f"the out point ({out_s:g} s) is past the clip's end ({duration_s:.1f} s)"
    main: Any = video if video is not None else audio
    if in_s > 0 and main.time_base:
        start = main.start_time or 0
        container.seek(start + int(in_s / float(main.time_base)), stream=main, backward=True)
    for n, packet in enumerate(container.demux(main)):
        if n >= MAX_PACKETS:
            break
        try:
            if packet.decode():
                return None
        except (av.FFmpegError, ValueError):
            continue  # one damaged packet is survivable; a clip with no good one is not
    what = "picture" if main is video else "sound"
    return f"no decodable {what}" + (f" at the in point ({in_s:g} s)" if in_s > 0 else "")


def _reason(message: str, path: str) -> str:
    """load_image's messages name the file; the problem line names it already."""
    name = os.path.basename(path) or path
    for prefix in (f"{name}: ", f"image file not found: {path}"):
        if message.startswith(prefix):
            return message[len(prefix):] or "file not found"
    return message
