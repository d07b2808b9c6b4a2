"""Binds a running show to a :class:`SessionWriter`: what viewers send (every source, before
moderation), poll results as they change, the rundown's segments, branches and product moments,
and a stream health sample every few seconds.

Every listener only queues a row (``SessionWriter.add``): nothing here waits on the disk, so the
clock thread (rundown events) and the net loop (messages) run as before. Viewer messages are
queued once per turn of the net loop (one network read's messages together), as the interaction
service batches them: a busy room costs one queue operation per read, and a row waits at most
that loop turn before the writer's next commit (kill -9 still loses under a second).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from studio.interaction.adapters import Adapter
from studio.interaction.messages import (
    Danmaku,
    Enter,
    Gift,
    HostFrame,
    Leave,
    Like,
    Message,
    ProductClick,
    SuperChat,
    ViewerMessage,
    Vote,
)
from studio.interaction.polls import PollUpdated
from studio.rundown.events import BranchTaken, MarkerFired, RundownEvents, RundownFinished, SegmentStarted
from studio.sessiondata.writer import Event, SessionWriter

HEALTH_EVERY_S = 2.0
TEXT_MAX = 500  # a danmaku is far shorter; platforms' long texts are cut, not refused


def message_event(message: ViewerMessage) -> Event | None:
    """The row for a viewer message (None for kinds the session does not keep)."""
    common = (message.received_at,)
    who = (message.platform, message.user, message.nick)
    if isinstance(message, SuperChat):
        return Event(*common, "gift", *who, "SC", message.value, message.text[:TEXT_MAX])
    if isinstance(message, Danmaku):
        return Event(*common, "danmaku", *who, "", 1, message.text[:TEXT_MAX])
    if isinstance(message, Like):
        return Event(*common, "like", *who, "", message.count)
    if isinstance(message, Gift):
        return Event(*common, "gift", *who, message.name, message.value * message.count, str(message.count))
    if isinstance(message, Vote):
        return Event(*common, "vote", *who, message.poll, message.option)
    if isinstance(message, ProductClick):
        return Event(*common, "product_click", *who, message.product)
    if isinstance(message, Enter):
        return Event(*common, "enter", *who)
    if isinstance(message, Leave):
        return Event(*common, "leave", *who)
    return None


class RecordingAdapter(Adapter):
    """Passes a source's messages on unchanged and writes each viewer message to the session."""

    def __init__(self, inner: Adapter, writer: SessionWriter) -> None:
        self.inner = inner
        self.writer = writer
        self.name = inner.name
        self._pending: list[Event] = []  # this loop turn's rows

    async def start(self) -> None:
        await self.inner.start()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        loop = asyncio.get_running_loop()
        try:
            async for message in self.inner:
                if isinstance(message, ViewerMessage):
                    event = message_event(message)
                    if event is not None:
                        if not self._pending:  # the first of this read: hand them over when the loop turns
                            loop.call_soon(self._hand_over)
                        self._pending.append(event)
                yield message
        finally:
            self._hand_over()

    def _hand_over(self) -> None:
        pending, self._pending = self._pending, []
        self.writer.add_events(pending)

    async def send(self, frame: HostFrame) -> bool:
        return await self.inner.send(frame)

    async def close(self) -> None:
        await self.inner.close()


@dataclass(frozen=True)
class HealthSample:
    bitrate_bps: int
    lagged: int
    viewers: int


class HealthSampler:
    """A ``session-health`` thread: one sample of ``probe()`` every ``every_s`` seconds."""

    def __init__(self, writer: SessionWriter, probe: Callable[[], HealthSample], every_s: float = HEALTH_EVERY_S):
        self._writer = writer
        self._probe = probe
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="session-health", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                sample = self._probe()
            except Exception:  # a probe failing must not end sampling (the next one may work)
                continue
            self._writer.health(sample.bitrate_bps, sample.lagged, sample.viewers)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def record_poll(writer: SessionWriter, update: PollUpdated) -> None:
    """Each poll's counts as they change (the report plots every poll's result over time)."""
    writer.add("poll", ref=update.poll, value=update.total, nick=update.question[:120],
               text=json.dumps({"options": update.options, "counts": update.counts, "state": update.state},
                               ensure_ascii=False))


class RundownRecorder:
    """Segments, branches and product moments from a rundown executor's events (clock thread)."""

    def __init__(self, writer: SessionWriter, events: RundownEvents) -> None:
        self._writer = writer
        self._links = [
            events.segment_started.connect(self._segment),
            events.branch_taken.connect(self._branch),
            events.marker_fired.connect(self._marker),
            events.finished.connect(self._finished),
        ]

    def _segment(self, e: SegmentStarted) -> None:
        self._writer.add("segment", ref=e.segment, nick=e.title[:120], text=e.kind)

    def _branch(self, e: BranchTaken) -> None:
        self._writer.add("branch", ref=e.branch, nick=e.option[:120], value=e.winner,
                         text=json.dumps({"segment": e.segment, "target": e.target, "decided_by": e.decided_by,
                                          "counts": list(e.counts)}, ensure_ascii=False))

    def _marker(self, e: MarkerFired) -> None:
        if e.kind == "product":
            self._writer.add("product_shown" if e.action == "show" else "product_hidden", ref=e.marker,
                             text=e.detail, nick=e.segment)

    def _finished(self, e: RundownFinished) -> None:
        self._writer.add("rundown_finished")

    def close(self) -> None:
        for disconnect in self._links:
            disconnect()
