"""Several interaction sources as one: the hub page, Bilibili rooms, Douyin push receivers...

Each source runs in its own task and feeds one queue, so the service sees a single stream in
arrival order. A source that fails is logged and reported in ``failures``; the others go on (a
platform outage must not silence the viewer page). Host frames (announcements, poll states) go to
every source that can send them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

from studio.interaction.adapters import Adapter
from studio.interaction.messages import HostFrame, Message

log = logging.getLogger(__name__)
_DONE = object()


class MergedAdapter(Adapter):
    def __init__(self, adapters: Sequence[Adapter]) -> None:
        if not adapters:
            raise ValueError("a merged source needs at least one source")
        self.adapters = list(adapters)
        self.name = "+".join(a.name for a in self.adapters)
        self.failures: dict[str, str] = {}
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for adapter in self.adapters:
            await adapter.start()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _pump(self, adapter: Adapter) -> None:
        try:
            async for message in adapter:
                self._queue.put_nowait(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one platform failing leaves the others running
            self.failures[adapter.name] = f"{type(exc).__name__}: {exc}"[:200]
            log.warning("interaction source %s stopped: %s", adapter.name, self.failures[adapter.name])
        finally:
            self._queue.put_nowait(_DONE)

    async def _messages(self) -> AsyncIterator[Message]:
        await self.start()
        self._tasks = [asyncio.create_task(self._pump(a), name=f"source-{a.name}") for a in self.adapters]
        running = len(self._tasks)
        try:
            while running:
                item = await self._queue.get()
                if item is _DONE:
                    running -= 1
                    continue
                assert isinstance(item, Message)
                yield item
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def send(self, frame: HostFrame) -> bool:
        results = await asyncio.gather(*(a.send(frame) for a in self.adapters), return_exceptions=True)
        return any(r is True for r in results)

    async def close(self) -> None:
        await asyncio.gather(*(a.close() for a in self.adapters), return_exceptions=True)
