"""Replay a recorded or hand-written show: JSONL, one message per line with a relative time ``t``.

Each line is a full message as the hub sends it to the host, plus ``t`` (seconds from the start),
e.g. ``{"t": 1.5, "type": "danmaku", "user": "u1", "text": "好看"}``. ``id`` and ``received_at``
may be left out; replayed messages always get fresh ones, so replaying twice never repeats ids.
Blank lines and lines starting with ``#`` are skipped. A bad line fails the load naming file:line.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from studio.interaction.adapters import Adapter
from studio.interaction.messages import HostFrame, Message, new_id
from studio.interaction.protocol import (
    DEFAULT_LIMITS,
    Limits,
    ProtocolError,
    decode_frame,
    encode,
    message_from_wire,
    message_to_wire,
)
from studio.interaction.ratelimit import Clock

MAX_REPLAY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ReplayItem:
    t: float
    message: Message


def parse_replay_line(line: str, limits: Limits = DEFAULT_LIMITS) -> ReplayItem:
    obj = decode_frame(line, limits)
    t = obj.pop("t", None)
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
        raise ProtocolError("bad_field", 'needs "t": seconds from the start, a number >= 0')
    return ReplayItem(float(t), message_from_wire(obj, limits))


def load_replay(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> list[ReplayItem]:
    """All items of a replay file, sorted by time. Raises ValueError naming the file and line."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_REPLAY_BYTES:
            raise ValueError(f"{path}: replay file is {size} bytes, over {MAX_REPLAY_BYTES}")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read replay file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: replay file is not UTF-8 ({exc.reason})") from None
    items: list[ReplayItem] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            items.append(parse_replay_line(line, limits))
        except ProtocolError as exc:
            raise ValueError(f"{path}:{lineno}: {exc.message}") from None
    items.sort(key=lambda item: item.t)
    return items


def replay_line(t: float, message: Message) -> str:
    return encode({"t": round(t, 3), **message_to_wire(message)})


def write_replay(path: Path | str, items: Iterable[ReplayItem]) -> None:
    with Path(path).open("w", encoding="utf-8") as f:
        for item in items:
            f.write(replay_line(item.t, item.message) + "\n")


class ReplayAdapter(Adapter):
    """Yields the file's messages at ``t / speed`` seconds after iteration starts."""

    name = "replay"

    def __init__(
        self,
        source: Path | str | list[ReplayItem],
        *,
        speed: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if isinstance(speed, bool) or not isinstance(speed, int | float) or math.isnan(speed) or speed <= 0:
            raise ValueError(f"replay speed must be > 0 (inf: as fast as possible), got {speed!r}")
        self.items = list(source) if isinstance(source, list) else load_replay(source)
        self.speed = float(speed)
        self.sent: list[HostFrame] = []  # frames "sent to viewers" during a rehearsal
        self._clock = clock
        self._sleep = sleep or self._wait_or_close
        self._closed = asyncio.Event()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        start = self._clock()
        for item in self.items:
            delay = start + item.t / self.speed - self._clock()
            if delay > 0:
                await self._sleep(delay)
            if self._closed.is_set():
                return
            yield dataclasses.replace(item.message, id=new_id(), received_at=time.time())

    async def _wait_or_close(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), delay)

    async def send(self, frame: HostFrame) -> bool:
        self.sent.append(frame)
        return True

    async def close(self) -> None:
        self._closed.set()
