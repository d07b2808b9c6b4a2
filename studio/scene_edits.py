"""Apply one scene edit command to a collection and say how to take it back.

``apply_edit`` runs on the clock thread under the collection lock. It returns the edit as it was
really done (ids and names resolved, so a redo recreates the same thing) and its inverse, built
from the state just before the change — so an undo puts back exactly what was there, down to the
order of sources and items (the saved file comes back byte for byte).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from scenes.model import Scene, SceneCollection, SceneItem
from studio import commands as cmd


@dataclass(frozen=True)
class Applied:
    forward: cmd.EditCommand
    inverse: cmd.EditCommand


def item_copy(item: SceneItem) -> cmd.ItemCopy:
    return cmd.ItemCopy(item.source, item.id, item.state())


def apply_edit(col: SceneCollection, c: cmd.EditCommand) -> Applied | None:
    """Do ``c``; None when it changed nothing. Raises ValueError (nothing changed) when it cannot."""
    with col.lock:
        return _apply(col, c)


def _apply(col: SceneCollection, c: cmd.EditCommand) -> Applied | None:
    match c:
        case cmd.UpdateItem(scene=where, item_id=item_id, fields=fields):
            item = col.scene(where).item(item_id)
            before = item.state()
            unknown = set(fields) - set(before)
            if unknown:
                raise ValueError(f"unknown scene item fields: {', '.join(sorted(unknown))}")
            item.update(**fields)
            after = item.state()
            changed = {k: after[k] for k in fields if after[k] != before[k]}
            if not changed:
                return None
            return Applied(cmd.UpdateItem(where, item_id, changed),
                           cmd.UpdateItem(where, item_id, {k: before[k] for k in changed}))
        case cmd.UpdateSource(name=name, settings=settings):
            old_settings = dict(col.source(name).settings)
            col.update_source(name, settings)
            new_settings = dict(col.source(name).settings)
            if new_settings == old_settings and list(new_settings) == list(old_settings):
                return None
            if list(new_settings) == list(old_settings):
                # only what changed, both ways: undoing this edit leaves later changes to other
                # settings (a product card the show switched meanwhile) alone
                keys = [k for k in new_settings if new_settings[k] != old_settings[k]]
                return Applied(cmd.UpdateSource(name, {k: new_settings[k] for k in keys}),
                               cmd.UpdateSource(name, {k: old_settings[k] for k in keys}))
            return Applied(cmd.UpdateSource(name, new_settings), cmd.UpdateSource(name, old_settings))
        case cmd.SetSourceFilters(name=name, filters=filters):
            old = col.source(name).filters
            col.set_filters(name, filters)
            new = col.source(name).filters
            if new == old:
                return None
            return Applied(cmd.SetSourceFilters(name, new), cmd.SetSourceFilters(name, old))
        case cmd.AddScene():
            return _add_scene(col, c)
        case cmd.RemoveScene(name=name):
            scene = col.scene(name)
            index = col.scenes.index(scene)
            was_preview = col.preview_scene == name and col.program_scene != name
            col.remove_scene(name)
            copies = tuple(item_copy(it) for it in scene.items)
            return Applied(c, cmd.AddScene(name, index, copies, was_preview))
        case cmd.RenameScene(old=old, new=new):
            col.rename_scene(old, new)
            resolved = col.scenes[[s.name for s in col.scenes].index(new.strip())].name
            if resolved == old:
                return None
            return Applied(cmd.RenameScene(old, resolved), cmd.RenameScene(resolved, old))
        case cmd.MoveScene(name=name, index=to):
            was = [s.name for s in col.scenes].index(name)
            col.move_scene(name, to)  # validates the position
            return None if was == to else Applied(c, cmd.MoveScene(name, was))
        case cmd.DuplicateScene(name=name, new_name=new_name):
            src = col.scene(name)
            chosen = new_name
            if chosen is None:
                n = 2
                while col.has_scene(f"{name} {n}"):
                    n += 1
                chosen = f"{name} {n}"
            copies = tuple(cmd.ItemCopy(it.source, uuid.uuid4().hex[:12], it.state()) for it in src.items)
            return _add_scene(col, cmd.AddScene(chosen, col.scenes.index(src) + 1, copies))
        case cmd.AddSource(name=name, type_id=type_id, settings=settings, filters=filters, index=index):
            cfg = col.add_source(name, type_id, settings)
            try:
                col.set_filters(cfg.name, filters)
            except ValueError:
                col.remove_source(cfg.name)
                raise
            if index is not None:
                _place_source(col, cfg.name, index)
            done = cmd.AddSource(cfg.name, type_id, dict(cfg.settings), cfg.filters, index)
            return Applied(done, cmd.RemoveSource(cfg.name))
        case cmd.RemoveSource(name=name):
            cfg = col.source(name)
            index = list(col.sources).index(name)
            # every item that shows it, by scene, bottom first: re-added in this order, each lands
            # back at its own index
            restore: list[cmd.EditCommand] = [
                cmd.AddSource(name, cfg.type_id, dict(cfg.settings), cfg.filters, index)]
            for scene in col.scenes:
                for i, it in enumerate(scene.items):
                    if it.source == name:
                        restore.append(cmd.AddItem(scene.name, it.source, it.id, it.state(), i))
            col.remove_source(name)
            return Applied(c, cmd.EditBatch(tuple(restore)))
        case cmd.AddItem() | cmd.RemoveItem() | cmd.MoveItem():
            return _item_edit(col, c)
        case cmd.EditBatch():
            return _apply_batch(col, c)
    raise ValueError(f"not a scene edit: {c!r}")


def _item_edit(col: SceneCollection, c: cmd.AddItem | cmd.RemoveItem | cmd.MoveItem) -> Applied | None:
    scene = col.scene(c.scene)
    if isinstance(c, cmd.AddItem):
        if c.index is not None and not 0 <= c.index <= len(scene.items):
            raise ValueError(f"position {c.index} is outside 0..{len(scene.items)}")
        item = scene.add_item(SceneItem(c.source, c.item_id or uuid.uuid4().hex[:12], **c.fields), c.index)
        done = cmd.AddItem(c.scene, c.source, item.id, item.state(), scene.items.index(item))
        return Applied(done, cmd.RemoveItem(c.scene, item.id))
    item = scene.item(c.item_id)
    index = scene.items.index(item)
    if isinstance(c, cmd.RemoveItem):
        scene.remove_item(c.item_id)
        return Applied(c, cmd.AddItem(c.scene, item.source, item.id, item.state(), index))
    scene.move_item(c.item_id, c.index)
    return None if index == c.index else Applied(c, cmd.MoveItem(c.scene, c.item_id, index))


def _add_scene(col: SceneCollection, c: cmd.AddScene) -> Applied:
    if c.index is not None and not 0 <= c.index <= len(col.scenes):
        raise ValueError(f"position {c.index} is outside 0..{len(col.scenes)}")
    items = [SceneItem(copy.source, copy.item_id, **copy.fields) for copy in c.items]
    scene = col.add_scene(Scene(c.name, items), c.index)
    if c.preview:
        col.preview_scene = scene.name
    done = replace(c, name=scene.name, index=col.scenes.index(scene),
                   items=tuple(item_copy(it) for it in scene.items))
    return Applied(done, cmd.RemoveScene(scene.name))


def _place_source(col: SceneCollection, name: str, index: int) -> None:
    # sources are a dict kept in insertion order (the order they are saved in): rebuild it in
    # place so every holder of the dict sees the new order
    entries = list(col.sources.items())
    moved = next(e for e in entries if e[0] == name)
    entries.remove(moved)
    entries.insert(max(0, min(index, len(entries))), moved)
    col.sources.clear()
    col.sources.update(entries)


def _apply_batch(col: SceneCollection, c: cmd.EditBatch) -> Applied | None:
    done: list[Applied] = []
    try:
        for sub in c.commands:
            applied = _apply(col, sub)
            if applied is not None:
                done.append(applied)
    except Exception:
        for applied in reversed(done):  # all or nothing
            _apply(col, applied.inverse)
        raise
    if not done:
        return None
    forward = cmd.EditBatch(coalesce([a.forward for a in done]), c.gesture, c.label)
    inverse = cmd.EditBatch(coalesce([a.inverse for a in reversed(done)]), c.gesture, c.label)
    return Applied(forward, inverse)


def coalesce(commands: list[cmd.EditCommand]) -> tuple[cmd.EditCommand, ...]:
    """Flatten nested batches and fold runs of UpdateItem on one item into one (later values win,
    which is what applying them in order does): a 60-frame drag keeps one command each way."""
    flat: list[cmd.EditCommand] = []
    for c in commands:
        flat.extend(c.commands if isinstance(c, cmd.EditBatch) else (c,))
    out: list[cmd.EditCommand] = []
    for c in flat:
        last = out[-1] if out else None
        if isinstance(c, cmd.UpdateItem) and isinstance(last, cmd.UpdateItem) \
                and (last.scene, last.item_id) == (c.scene, c.item_id):
            out[-1] = cmd.UpdateItem(c.scene, c.item_id, _merged(last.fields, c.fields))
        else:
            out.append(c)
    return tuple(out)


def _merged(first: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    return {**first, **then}
