"""Co-host layouts: side by side, picture in picture, full — one command, one undo step.

``guest_layout`` reads the scene and returns an :class:`EditBatch` that places the host's item and
the guests' items (adding guest sources and items the scene lacks), so a director applies a layout
in one action through the command path (``Studio.submit``) and undoes it in one step.
"""

from __future__ import annotations

from typing import Literal

from scenes.model import SceneCollection, SceneItem
from studio.commands import AddItem, AddSource, EditBatch, EditCommand, MoveItem, UpdateItem

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
        for slot, name in zip(guest_slots, guest_names, strict=True):
            cfg = collection.sources.get(name)
            if cfg is None:
                settings = {"slot": slot, "width": canvas[0], "height": canvas[1]}
                commands.append(AddSource(name, "guest", settings))
                sizes[name] = canvas
            elif cfg.type_id != "guest":
                raise ValueError(f"source {name!r} is not a co-host guest source")
            else:
                sizes[name] = (int(cfg.settings["width"]), int(cfg.settings["height"]))
        host_size = None
        if host_source is not None:
            host_cfg = collection.sources.get(host_source)
            if host_cfg is None or host_source not in first_item:
                raise ValueError(f"the host source {host_source!r} is not in scene {scene!r}")
            host_size = _host_size(collection, host_source, canvas)
    host_box, guest_boxes = _boxes(kind, canvas, host_source is not None, len(guest_names))
    if host_source is not None and host_size is not None:
        host_item = first_item[host_source]
        fields = _fit(host_size, host_box) if host_box is not None else {"visible": False}
        commands.append(UpdateItem(scene, host_item.id, fields))
    count = len(items)
    for name, box in zip(guest_names, guest_boxes, strict=True):
        fields = _fit(sizes[name], box) if box is not None else {"visible": False}
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
