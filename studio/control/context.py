"""What request handlers work on: the running show, read under the collection's lock, plus the
names obs-websocket clients use for our things (UUIDs, numeric scene item ids)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scenes.model import Scene, SceneItem
from studio import commands as cmd
from studio.control.protocol import EventSubscription, RequestError, RequestStatus

if TYPE_CHECKING:
    from studio.show import Show

_NAMESPACE = uuid.UUID("8f4c2a8e-5d0b-4c8e-9a51-d7a0c0b4e1f3")

# emit(eventType, intent, data): broadcast an event to the sessions subscribed to ``intent``
Emit = Callable[[str, EventSubscription, "dict[str, Any] | None"], None]


def stable_uuid(kind: str, name: str) -> str:
    """A UUID that stays the same for the same name across sessions and restarts."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


class ControlContext:
    """Shared by every session of one server. Lives on the net thread."""

    def __init__(self, show: Show, emit: Emit) -> None:
        self.show = show
        self.emit = emit
        self._item_numbers: dict[str, int] = {}
        self._items_by_number: dict[int, str] = {}

    @property
    def studio(self) -> Any:
        return self.show.studio

    def submit(self, command: cmd.Command) -> None:
        """State changes go through the engine's command queue (applied on the clock thread)."""
        self.show.studio.submit(command)

    async def applied(self, timeout_s: float = 1.0) -> None:
        """Wait until commands submitted so far are applied: the clock runs its frame hooks right
        after applying the queue. For changes later requests depend on (studio mode)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not done.done():
                done.set_result(None)

        def on_frame(_frame: tuple[int, int]) -> None:
            loop.call_soon_threadsafe(settle)

        disconnect = self.show.studio.frame_hooks.connect(on_frame)
        try:
            await asyncio.wait_for(done, timeout_s)
        except TimeoutError:
            raise RequestError(RequestStatus.NOT_READY, "The engine did not apply the change in time.") from None
        finally:
            disconnect()

    # ---- scenes ----
    def scene_names(self) -> list[str]:
        col = self.show.collection
        with col.lock:
            return [s.name for s in col.scenes]

    def resolve_scene(self, name: str | None, scene_uuid: str | None) -> str:
        col = self.show.collection
        with col.lock:
            for scene in col.scenes:
                if scene.name == name or (scene_uuid is not None and stable_uuid("scene", scene.name) == scene_uuid):
                    return scene.name
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, f"No scene was found by the name of `{name or scene_uuid}`.")

    def scene(self, name: str) -> Scene:
        return self.show.collection.scene(name)

    # ---- scene items: OBS numbers them; ours carry string ids ----
    def item_number(self, item_id: str) -> int:
        number = self._item_numbers.get(item_id)
        if number is None:
            number = len(self._item_numbers) + 1
            self._item_numbers[item_id] = number
            self._items_by_number[number] = item_id
        return number

    def item(self, scene_name: str, number: int) -> SceneItem:
        item_id = self._items_by_number.get(number)
        col = self.show.collection
        with col.lock:
            scene = col.scene(scene_name)
            for item in scene.items:
                if item.id == item_id:
                    return item
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND,
                           f"No scene items were found in scene `{scene_name}` with the ID `{number}`.")

    # ---- inputs: our sources, plus mixer strips that are not sources (microphones, tones) ----
    def input_names(self) -> list[str]:
        col = self.show.collection
        with col.lock:
            names = list(col.sources)
        names += [s.name for s in self.show.mixer.inputs if s.name not in names]
        return names

    def resolve_input(self, name: str | None, input_uuid: str | None) -> str:
        for candidate in self.input_names():
            if candidate == name or (input_uuid is not None and stable_uuid("input", candidate) == input_uuid):
                return candidate
        raise RequestError(RequestStatus.RESOURCE_NOT_FOUND, f"No source was found by the name of `{name or input_uuid}`.")

    def input_kind(self, name: str) -> str:
        col = self.show.collection
        with col.lock:
            cfg = col.sources.get(name)
            return cfg.type_id if cfg is not None else "audio_input"

    def audio_input(self, name: str) -> Any:
        for state in self.show.mixer.inputs:
            if state.name == name:
                return state
        raise RequestError(RequestStatus.INVALID_RESOURCE_STATE, f"The input `{name}` does not have audio.")
