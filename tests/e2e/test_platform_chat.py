"""Platform chat in the studio: the hub page, a fake Bilibili room and a Douyin push sender merged
into one interaction service; chat votes from many users, one per platform user per poll, counted
by source; blocks per platform user; gifts and super chats counted and logged with their platform."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from studio.bench._fake_bilibili import FakeBilibiliServer, batched, danmu, gift
from studio.interaction.adapters import EmbeddedHubAdapter
from studio.interaction.bilibili import BilibiliAdapter
from studio.interaction.bilibili_codec import VER_BROTLI, VER_ZLIB
from studio.interaction.douyin import DouyinPushAdapter, signature
from studio.interaction.hub import HubConfig
from studio.interaction.merged import MergedAdapter
from studio.interaction.polls import PollUpdated
from studio.interaction.service import InteractionService
from studio.interaction.showlog import ShowLog
from studio.net.loop import NetLoop
from studio.secrets import Secret

SECRET = "douyin-secret-for-tests"


class Platforms:
    def __init__(self, showlog: ShowLog) -> None:
        self.net = NetLoop("test-platforms")
        self.net.start()
        self.server = FakeBilibiliServer()
        self.net.run(self.server.start())
        self.hub = EmbeddedHubAdapter(HubConfig())
        self.bili = BilibiliAdapter(77, url=self.server.url, backoff=(0.01, 0.05))
        self.douyin = DouyinPushAdapter(Secret(SECRET), port=0)
        self.service = InteractionService(MergedAdapter([self.hub, self.bili, self.douyin]), net=self.net,
                                          showlog=showlog)
        self.updates: list[PollUpdated] = []
        self._cond = threading.Condition()
        self.service.poll_updated.connect(self._update)

    def _update(self, update: PollUpdated) -> None:
        with self._cond:
            self.updates.append(update)
            self._cond.notify_all()

    def wait_total(self, total: int, timeout: float = 20.0) -> PollUpdated:
        with self._cond:
            assert self._cond.wait_for(lambda: self.updates and self.updates[-1].total >= total, timeout), \
                f"poll total stayed at {self.updates[-1].total if self.updates else None}, wanted {total}"
            return self.updates[-1]

    def start(self) -> None:
        self.service.start()
        self.service.wait_ready()
        self.net.run(asyncio.wait_for(self.bili.connected.wait(), 10))

    def stop(self) -> None:
        self.service.stop()
        self.net.run(self.server.stop())
        self.net.stop()


@pytest.fixture
def platforms(tmp_path: Path) -> Iterator[Platforms]:
    showlog = ShowLog(tmp_path / "show.jsonl")
    p = Platforms(showlog)
    p.start()
    yield p
    p.stop()
    showlog.close()


async def _douyin_post(url: str, kind: str, items: list[dict[str, Any]]) -> int:
    body = json.dumps(items, ensure_ascii=False).encode()
    headers = {"x-msg-type": kind, "x-nonce-str": "n", "x-roomid": "1", "x-timestamp": "1"}
    headers["x-signature"] = signature(headers, body, SECRET)
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def _hub_votes(url: str, poll: str, options: list[int]) -> None:
    async def one(option: int) -> None:
        async with connect(url, proxy=None) as ws:
            while json.loads(await ws.recv())["type"] != "welcome":
                pass
            await ws.send(json.dumps({"type": "vote", "poll": poll, "option": option, "ref": "v"}))
            while json.loads(await ws.recv())["type"] != "ack":
                pass

    await asyncio.gather(*(one(o) for o in options))


def test_chat_votes_from_every_platform_merge_into_one_tally(platforms: Platforms, tmp_path: Path) -> None:
    service = platforms.service
    service.moderator.block("bilibili:999", label="troll")
    poll = service.open_poll("她应该买吗?", ("买", "不买"), 60.0)

    # Bilibili: 40 users for 不买 ("2", "b", the text, full-width "２"), 10 for 买, repeats, chatter, a block
    for_b = [danmu(1000 + i, f"b{i}", ("2", "B", "不买", "２")[i % 4]) for i in range(40)]
    for_a = [danmu(2000 + i, f"a{i}", "1" if i % 2 else "买") for i in range(10)]
    repeats = [danmu(1000 + i, f"b{i}", "1") for i in range(5)]  # the same users again: not counted
    chatter = [danmu(3000 + i, f"c{i}", "主播好看 2") for i in range(5)]  # not exactly an option
    blocked = [danmu(999, "troll", "1")]
    platforms.net.run(platforms.server.push(
        batched(for_b[:20] + for_a[:5], VER_BROTLI), batched(for_b[20:] + for_a[5:] + repeats, VER_ZLIB),
        batched(chatter + blocked + [gift(5, "阿强", "辣条", 2, 100)], VER_BROTLI)))
    # Douyin: 6 users for 买, 3 for 不买, one push delivered twice
    comments = [{"msg_id": f"d{i}", "sec_openid": f"open-{i}", "nickname": f"抖{i}",
                 "content": "1" if i < 6 else "不买"} for i in range(9)]
    assert platforms.net.run(_douyin_post(platforms.douyin.url, "live_comment", comments)) == 200
    assert platforms.net.run(_douyin_post(platforms.douyin.url, "live_comment", comments)) == 200
    # the hub page: 2 viewers for 买
    asyncio.run(_hub_votes(platforms.hub.hub.viewer_url, poll.id, [0, 0]))

    update = platforms.wait_total(40 + 10 + 9 + 2)
    assert update.counts == (10 + 6 + 2, 40 + 3)
    assert dict(update.by_source) == {"bilibili": (10, 40), "douyin": (6, 3), "hub": (2, 0)}
    counters = service.counters()
    assert counters.chat_votes == 59 and counters.gifts == 2
    result = service.close_poll()
    assert result is not None and result.winner_option == "不买"
    service.showlog.flush()  # type: ignore[union-attr]
    records = [json.loads(line) for line in (tmp_path / "show.jsonl").read_text().splitlines()]
    gift_record = next(r for r in records if r["kind"] == "gift")
    assert gift_record["platform"] == "bilibili" and gift_record["user"] == "bilibili:5"
    closed = next(r for r in records if r["kind"] == "poll_closed")
    assert closed["by_source"] == {"bilibili": [10, 40], "douyin": [6, 3], "hub": [2, 0]}


def test_chat_votes_from_many_users_decide_the_demo_branch(studio_home: Path) -> None:
    """The demo rundown's vote "她应该买吗?" (default 买) on the engine's frames, decided by 300
    Bilibili users typing in chat: 不买 wins and the show takes ending B."""
    from scenes.text_raster import ensure_gui_app
    from studio.collections import load_collection
    from studio.demo_rundown import ensure_demo_rundown
    from studio.engine import Studio
    from studio.rundown import BranchTaken, RundownExecutor, load_rundown

    ensure_gui_app()
    rundown = load_rundown(ensure_demo_rundown(size=(1280, 720)))
    assert rundown.collection is not None
    studio = Studio(load_collection(Path(rundown.collection)))
    net = NetLoop("test-demo-chat")
    net.start()
    server = FakeBilibiliServer()
    net.run(server.start())
    bili = BilibiliAdapter(99, url=server.url, backoff=(0.01, 0.05))
    service = InteractionService(bili, net=net)
    branches: list[BranchTaken] = []
    counted = threading.Event()
    try:
        service.start()
        net.run(asyncio.wait_for(bili.connected.wait(), 10))
        service.poll_updated.connect(lambda u: counted.set() if u.total >= 300 else None)
        executor = RundownExecutor(studio, rundown, service, offline=True)
        executor.events.branch_taken.connect(branches.append)
        executor.start()
        frame = 0
        while executor.poll_for("vote-buy") is None:
            studio.render_offline(frame)
            frame += 1
        voters = [danmu(10_000 + i, f"v{i}", ("2", "不买")[i % 2]) for i in range(200)]
        voters += [danmu(20_000 + i, f"w{i}", ("1", "买")[i % 2]) for i in range(100)]
        voters += [danmu(10_000 + i, f"v{i}", "1") for i in range(50)]  # second votes: ignored
        net.run(server.push(*(batched(voters[i:i + 50], VER_BROTLI) for i in range(0, len(voters), 50))))
        assert counted.wait(20), "the chat votes were not all counted"
        while not branches and frame < 40 * 30:
            studio.render_offline(frame)
            frame += 1
        executor.stop()
    finally:
        service.stop()
        net.run(server.stop())
        net.stop()
        studio.stop()
    assert [(b.option, b.decided_by, b.counts) for b in branches] == [("不买", "votes", (100, 200))]
    assert branches[0].target == "ending-b"


def test_headless_chat_source_and_show_log(studio_home: Path, tmp_path: Path) -> None:
    """`studio headless --chat bilibili:ROOM?url=… --show-log FILE`: the room's gift and super chat
    land in the show log with their platform."""
    import os
    import subprocess
    import sys

    net = NetLoop("test-headless-chat")
    net.start()
    sc = {"cmd": "SUPER_CHAT_MESSAGE", "data": {"uid": 6, "price": 30, "message": "加油",
                                                "user_info": {"uname": "阿美"}}}
    server = FakeBilibiliServer([[batched([gift(5, "阿强", "辣条", 2, 100), sc], VER_BROTLI)]])
    net.run(server.start())
    log_file = tmp_path / "show.jsonl"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "studio.cli", "headless", "--chat", f"bilibili:21?url={server.url}",
             "--show-log", str(log_file), "--seconds", "6", "--control-port", "0"],
            capture_output=True, text=True, timeout=240, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            check=False)
    finally:
        net.run(server.stop())
        net.stop()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "studio: chat from bilibili:21" in proc.stdout
    assert json.loads(server.auths[0])["roomid"] == 21
    records = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    kinds = {r["kind"]: r for r in records}
    assert kinds["gift"]["platform"] == "bilibili" and kinds["gift"]["count"] == 2
    assert kinds["super_chat"]["platform"] == "bilibili" and kinds["super_chat"]["text"] == "加油"


def test_danmaku_cross_to_listeners_once_per_network_read() -> None:
    """A burst from the room (three brotli frames of 100 danmaku) reaches ``danmaku_batch`` in at
    most one batch per frame, in order, with nothing lost; ``danmaku`` still sees every message."""
    net = NetLoop("test-chat-batches")
    net.start()
    server = FakeBilibiliServer()
    net.run(server.start())
    bili = BilibiliAdapter(77, url=server.url, backoff=(0.01, 0.05))
    service = InteractionService(bili, net=net)
    batches: list[tuple[str, ...]] = []
    singles: list[str] = []
    done = threading.Event()

    def on_batch(events: Any) -> None:
        batches.append(tuple(e.message.text for e in events))
        if sum(map(len, batches)) >= 300:
            done.set()

    service.danmaku_batch.connect(on_batch)
    service.danmaku.connect(lambda e: singles.append(e.message.text))
    try:
        service.start()
        net.run(asyncio.wait_for(bili.connected.wait(), 10))
        frames = [batched([danmu(100 * f + i + 1, "u", f"m{100 * f + i}") for i in range(100)], VER_BROTLI)
                  for f in range(3)]
        net.run(server.push(*frames))
        assert done.wait(20), "the burst did not arrive"
    finally:
        service.stop()
        net.run(server.stop())
        net.stop()
    assert [t for batch in batches for t in batch] == [f"m{i}" for i in range(300)] == singles
    assert 1 <= len(batches) <= 3
