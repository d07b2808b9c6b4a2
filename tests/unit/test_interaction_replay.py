"""Replay adapter: JSONL load with clear errors, timing by speed factor, fresh ids, close."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from pathlib import Path

import pytest

from studio.interaction.messages import Danmaku, Gift, Like, Message
from studio.interaction.moderation import DanmakuEvent
from studio.interaction.replay import ReplayAdapter, ReplayItem, load_replay, write_replay
from studio.interaction.service import GiftReceived, InteractionService, SourceStatus

LINES = [
    '# rehearsal for episode 3',
    '{"t": 0.5, "type": "danmaku", "user": "u1", "text": "开始了"}',
    '',
    '{"t": 0.0, "type": "enter", "user": "u1", "nick": "小明"}',
    '{"t": 1.0, "type": "gift", "user": "u2", "name": "火箭", "count": 2, "value": 50}',
    '{"t": 1.2, "type": "like", "user": "u3", "count": 5}',
]


@pytest.fixture
def replay_file(tmp_path: Path) -> Path:
    path = tmp_path / "show.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def test_load_sorts_by_time(replay_file: Path) -> None:
    items = load_replay(replay_file)
    assert [i.t for i in items] == [0.0, 0.5, 1.0, 1.2]
    assert [type(i.message).TYPE for i in items] == ["enter", "danmaku", "gift", "like"]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('{"type": "danmaku", "user": "u", "text": "x"}', '"t"'),
        ('{"t": -1, "type": "like", "user": "u"}', '"t"'),
        ('{"t": 1, "type": "danmaku", "text": "x"}', "user"),
        ('{"t": 1, "type": "boom", "user": "u"}', "unknown"),
        ("not json", "JSON"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path: Path, line: str, match: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(LINES[1] + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=match) as info:
        load_replay(path)
    assert str(info.value).startswith(f"{path}:2:")


def test_missing_file_and_bad_speed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_replay(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="speed"):
        ReplayAdapter([], speed=0)


def test_timing_follows_speed_with_injected_clock(replay_file: Path) -> None:
    """Virtual clock: the adapter waits exactly t / speed (waits are recorded, not slept)."""
    now = [0.0]
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    adapter = ReplayAdapter(replay_file, speed=2.0, clock=lambda: now[0], sleep=fake_sleep)

    async def collect() -> list[Message]:
        return [m async for m in adapter]

    got = asyncio.run(collect())
    assert waits == pytest.approx([0.25, 0.25, 0.1])
    assert len(got) == 4 and isinstance(got[2], Gift) and got[2].value == 50
    ids = {m.id for m in got}
    now[0] = 0.0
    again = asyncio.run(collect())
    assert ids.isdisjoint(m.id for m in again)  # fresh ids on every replay


def test_close_stops_a_waiting_replay() -> None:
    adapter = ReplayAdapter([ReplayItem(0, Like(user="a")), ReplayItem(3600, Like(user="b"))])

    async def run() -> list[Message]:
        got: list[Message] = []

        async def consume() -> None:
            async for m in adapter:
                got.append(m)
                await adapter.close()

        await asyncio.wait_for(consume(), 10)
        return got

    assert [m.user for m in asyncio.run(run())] == ["a"]  # type: ignore[attr-defined]


def test_write_then_load_round_trip(tmp_path: Path) -> None:
    items = [ReplayItem(0.25, Danmaku(user="u", text="好", colour="#00FF00", mode="bottom"))]
    write_replay(tmp_path / "w.jsonl", items)
    assert load_replay(tmp_path / "w.jsonl") == items
    assert json.loads((tmp_path / "w.jsonl").read_text("utf-8"))["t"] == 0.25


def test_service_runs_replay_as_fast_as_possible(replay_file: Path) -> None:
    """The InteractionService over a replay: typed events arrive on the net-interaction thread."""
    service = InteractionService(ReplayAdapter(replay_file, speed=math.inf))
    danmaku: list[DanmakuEvent] = []
    gifts: list[GiftReceived] = []
    ended = threading.Event()
    service.danmaku.connect(danmaku.append)
    service.gifts.connect(gifts.append)
    service.status.connect(lambda s: ended.set() if s.state == "ended" else None)
    statuses: list[SourceStatus] = []
    service.status.connect(statuses.append)
    with service:
        assert ended.wait(10)
        counters = service.counters()
    assert [e.message.text for e in danmaku] == ["开始了"] and danmaku[0].visible
    assert gifts[0].total_value == 100 and gifts[0].total_count == 2
    assert counters.likes == 5 and counters.enters == 1
    assert [s.state for s in statuses] == ["running", "ended", "stopped"]
