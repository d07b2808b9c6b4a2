"""Co-host layouts: side by side, picture in picture, full — one command, one undo step.

``guest_layout`` reads the scene and returns an :class:`EditBatch` that places the host's item and
the guests' items (adding guest sources and items the scene lacks), so a director applies a layout
in one action through the command path (``Studio.submit``) and undoes it in one step.

A guest source is resized to the box it is shown in (its item at scale 1): the guest's decoder worker
then scales the picture once, to the size on air, and the clock only copies it (a 1280x720 guest
shown at 640x360 would otherwise be resized on the clock every frame).
"""

from __future__ import annotations

from typing import Literal

from scenes.model import SceneCollection, SceneItem
from studio.commands import AddItem, AddSource, EditBatch, EditCommand, MoveItem, UpdateItem, UpdateSource

LayoutKind = Literal["side_by_side", "pip", "full"]
LAYOUTS: tuple[LayoutKind, ...] = ("side_by_side", "pip", "full")
PIP_FRACTION = 0.3  # a picture-in-picture window is this share of the canvas width
PIP_MARGIN = 0.03  # of the canvas width


def guest_source_name(slot: int) -> str:
    return f"Guest {slot}"


Box = tuple[float, float, float, float]  # x, y, width, height in canvas pixels


def _fit(size: tuple[int, int], box: Box) -> dict[str, float]:
    """Item fields that fit a source of ``size`` into ``box``, aspect kept, centred."""
    x, y, w, h = box
    scale = min(w / size[0], h / size[1])
    fw, fh = size[0] * scale, size[1] * scale
    return {"x": x + (w - fw) / 2, "y": y + (h - fh) / 2, "scale_x": scale, "scale_y": scale,
            "rotation": 0.0, "visible": True}


def _at_scale_one(size: tuple[int, int], box: Box) -> dict[str, float]:
    """Item fields that centre a source already sized for ``box`` in it, unscaled (pixel-aligned)."""
    x, y, w, h = box
    return {"x": float(round(x + (w - size[0]) / 2)), "y": float(round(y + (h - size[1]) / 2)),
            "scale_x": 1.0, "scale_y": 1.0, "rotation": 0.0, "visible": True}


def _boxes(kind: LayoutKind, canvas: tuple[int, int], host: bool, guests: int) -> tuple[Box | None, list[Box | None]]:
    cw, ch = canvas
    if kind == "side_by_side":
        n = guests + (1 if host else 0)
        panels: list[Box] = [(cw * i / n, 0.0, cw / n, float(ch)) for i in range(n)]
        return (panels[0] if host else None), list(panels[1:] if host else panels)
    if kind == "pip":
        w, m = cw * PIP_FRACTION, cw * PIP_MARGIN
        h = w * ch / cw
        windows: list[Box | None] = [(cw - m - (i + 1) * w - i * m, ch - m - h, w, h) for i in range(guests)]
        return (0.0, 0.0, float(cw), float(ch)), windows
    # full: the first guest fills the canvas; the host and the other guests are hidden
    return None, [(0.0, 0.0, float(cw), float(ch))] + [None] * (guests - 1)


def guest_layout(collection: SceneCollection, scene: str, kind: LayoutKind, guest_slots: tuple[int, ...],
                 host_source: str | None = None) -> EditBatch:
    """The edits that lay out ``scene`` as ``kind`` for the guests in ``guest_slots`` (in order)."""
    if kind not in LAYOUTS:
        raise ValueError(f"unknown co-host layout {kind!r} (one of {', '.join(LAYOUTS)})")
    if not guest_slots:
        raise ValueError("a co-host layout needs at least one guest")
    commands: list[EditCommand] = []
    with collection.lock:
        canvas = (collection.video.width, collection.video.height)
        items = collection.scene(scene).items
        first_item: dict[str, SceneItem] = {}
        for item in items:
            first_item.setdefault(item.source, item)
        sizes: dict[str, tuple[int, int]] = {}
        guest_names = [guest_source_name(s) for s in guest_slots]
        existing_guests: set[str] = set()
        for name in guest_names:
            cfg = collection.sources.get(name)
            if cfg is None:
                sizes[name] = canvas  # a camera's 16:9 until the guest is shown
            elif cfg.type_id != "guest":
                raise ValueError(f"source {name!r} is not a co-host guest source")
            else:
                sizes[name] = (int(cfg.settings["width"]), int(cfg.settings["height"]))
                existing_guests.add(name)
        host_size = None
        if host_source is not None:
            host_cfg = collection.sources.get(host_source)
            if host_cfg is None or host_source not in first_item:
                raise ValueError(f"the host source {host_source!r} is not in scene {scene!r}")
            host_size = _host_size(collection, host_source, canvas)
    host_box, guest_boxes = _boxes(kind, canvas, host_source is not None, len(guest_names))
    for slot, name, box in zip(guest_slots, guest_names, guest_boxes, strict=True):
        # from the canvas's shape (a camera's 16:9), not the source's last size: no rounding drift
        shown = _shown_size(canvas, box) if box is not None else sizes[name]
        if name in existing_guests:
            if shown != sizes[name]:
                commands.append(UpdateSource(name, {"width": shown[0], "height": shown[1]}))
        else:
            commands.append(AddSource(name, "guest", {"slot": slot, "width": shown[0], "height": shown[1]}))
        sizes[name] = shown
    if host_source is not None and host_size is not None:
        host_item = first_item[host_source]
        fields = _fit(host_size, host_box) if host_box is not None else {"visible": False}
        commands.append(UpdateItem(scene, host_item.id, fields))
    count = len(items)
    for name, box in zip(guest_names, guest_boxes, strict=True):
        fields = _at_scale_one(sizes[name], box) if box is not None else {"visible": False}
        existing = first_item.get(name)
        if existing is None:
            if box is not None:
                commands.append(AddItem(scene, name, fields=fields))  # on top
                count += 1
        else:
            commands.append(UpdateItem(scene, existing.id, fields))
            if kind == "pip" and box is not None:
                commands.append(MoveItem(scene, existing.id, count - 1))  # windows above the host
    return EditBatch(tuple(commands), label=f"Co-host layout: {kind.replace('_', ' ')}")


def _host_size(collection: SceneCollection, name: str, canvas: tuple[int, int]) -> tuple[int, int]:
    """The host source's picture size from its settings (width/height), else the canvas."""
    settings = collection.sources[name].settings
    w, h = settings.get("width"), settings.get("height")
    if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0:
        return w, h
    return canvas


def _shown_size(size: tuple[int, int], box: Box) -> tuple[int, int]:
    """The whole-pixel size ``size`` takes when fitted into ``box`` (even, as video sizes are)."""
    scale = min(box[2] / size[0], box[3] / size[1])
    return max(16, int(size[0] * scale) // 2 * 2), max(16, int(size[1] * scale) // 2 * 2)
