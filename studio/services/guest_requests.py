"""Viewers' "ask to join" (申请连麦) between the interaction source and the co-host model.

:class:`GuestRequestRouter` wraps the show's interaction source (as the session recorder does):
each ``guest_request`` a viewer sends is queued in :class:`~studio.services.guests.CoHost` under
the viewer's signed identity, and each request the host accepts goes back through the same source
as a ``guest_invite`` frame, which the hub delivers to that viewer's connections only. Messages
pass on unchanged (the interaction service ignores requests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from studio.interaction.adapters import Adapter
from studio.interaction.messages import GuestInvite, GuestRequest, HostFrame, Message
from studio.services.guests import CoHost, ViewerInvite

log = logging.getLogger(__name__)


class GuestRequestRouter(Adapter):
    def __init__(self, inner: Adapter, cohost: CoHost) -> None:
        self.inner = inner
        self.name = inner.name
        self._cohost = cohost
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sending: set[asyncio.Task[bool]] = set()
        self._disconnect = cohost.viewer_invited.connect(self._invited)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.inner.start()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        self._loop = asyncio.get_running_loop()
        async for message in self.inner:
            if isinstance(message, GuestRequest):
                self._cohost.add_request(message.user, message.nick)
            yield message

    async def send(self, frame: HostFrame) -> bool:
        return await self.inner.send(frame)

    async def close(self) -> None:
        self._disconnect()
        await self.inner.close()

    def _invited(self, invite: ViewerInvite) -> None:
        """From the co-host model's thread: send the invite on the source's own loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            log.warning("co-host: an accepted request could not be sent: the interaction source is not running")
            return
        loop.call_soon_threadsafe(self._send_invite, GuestInvite(viewer=invite.viewer, url=invite.url))

    def _send_invite(self, frame: GuestInvite) -> None:
        task = asyncio.ensure_future(self.send(frame))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)


__all__ = ["GuestRequestRouter"]
