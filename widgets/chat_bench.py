"""Platform chat at platform rates into the running studio (``studio bench chat``).

The window as ``studio`` opens it (offscreen): a Show on the 1080p30 demo with its hub, plus a
Bilibili room whose ``/sub`` server is a fake on loopback (``studio.bench._fake_bilibili``), on its
own loop like a remote server. With a poll open, the fake room sends ``rate`` messages a second for
``seconds`` from ``users`` distinct users, in brotli batches every 50 ms: each user's first line is a
vote ("1" or "2"; one user in five never votes), later lines are chatter, and one message in a
hundred is a gift. Reported: messages received by the adapter, votes counted (must equal the
distinct voters), gifts lost (must be 0), the Qt event loop's longest gap, the engine's lagged
frames and the most bullet comments the overlay had on screen at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from scenes.sources.danmaku_overlay import DanmakuOverlaySource
from studio.bench._fake_bilibili import FakeBilibiliServer, batched, danmu, gift
from studio.interaction.bilibili import BilibiliAdapter
from studio.interaction.bilibili_codec import VER_BROTLI
from studio.net.loop import NetLoop
from studio.show import Show
from widgets.bench_window import GapProbe, _open, _percentile, _wait, running_window
from widgets.theme import apply_theme

BATCH_S = 0.05


class ChatLoad:
    """The fake room's script: who says what, and what was sent (gifts, distinct voters)."""

    def __init__(self, users: int, rate: int, seconds: float, seed: int) -> None:
        self.users, self.rate, self.seconds = users, rate, seconds
        self.rng = random.Random(seed)
        self.next_user = 0
        self.sent = 0
        self.gifts_sent = 0
        self.voters: set[int] = set()

    def batch(self, n: int) -> bytes:
        objs: list[dict[str, Any]] = []
        for _ in range(n):
            self.sent += 1
            if self.sent % 100 == 0:
                self.gifts_sent += 1
                objs.append(gift(1 + self.rng.randrange(self.users), "送礼", "辣条", 1, 100))
                continue
            if self.next_user < self.users:  # everyone's first line: a vote (one in five abstains)
                self.next_user += 1
                uid = self.next_user  # Bilibili user ids start at 1 (0 is an anonymous viewer)
                if uid % 5:
                    self.voters.add(uid)
                    objs.append(danmu(uid, f"观众{uid}", "2" if self.rng.random() < 0.6 else "1"))
                    continue
            else:
                uid = 1 + self.rng.randrange(self.users)
            objs.append(danmu(uid, f"观众{uid}", f"主播好看 {self.sent}"))
        return batched(objs, VER_BROTLI)

    async def run(self, server: FakeBilibiliServer) -> None:
        per_batch = max(1, round(self.rate * BATCH_S))
        start = time.perf_counter()
        k = 0
        while time.perf_counter() - start < self.seconds:
            await server.push(self.batch(per_batch))
            k += 1
            delay = start + k * BATCH_S - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)


def measure(seconds: float = 30.0, rate: int = 2000, users: int = 10_000, seed: int = 7,
            collection: Path | None = None, colors: bool = False) -> dict[str, Any]:
    app = QApplication.instance()
    if app is None:
        app = QApplication([])
        assert isinstance(app, QApplication)
        apply_theme(app)
    col, note = _open(collection, colors)
    platform = NetLoop("bench-fake-bilibili")
    platform.start()
    server = FakeBilibiliServer()
    platform.run(server.start())
    adapter = BilibiliAdapter(4242, url=server.url, backoff=(0.05, 0.5))
    show = Show(col, studio_mode=True, relay_port=0, hub_port=0, chat=[adapter])
    load = ChatLoad(users, rate, seconds, seed)
    on_screen = [0]

    def sample_overlay() -> None:
        for source in list(show.studio.sources.values()):
            if isinstance(source, DanmakuOverlaySource):
                on_screen[0] = max(on_screen[0], source.stats().on_screen)

    probe = GapProbe(on_tick=sample_overlay)
    try:
        with running_window(show, "chat") as (window, outputs, _start_s):
            binding = window.binding
            assert binding is not None
            interaction = show.interaction
            assert interaction is not None
            if not _wait(adapter.connected.is_set, 20):
                raise RuntimeError("bench chat: the studio did not connect to the fake Bilibili room")
            poll = interaction.open_poll("她应该买吗?", ("买", "不买"), 600.0)
            frames0, lagged0 = show.studio.frames, show.studio.lagged
            probe.measuring = True
            sending = platform.submit(load.run(server))
            _wait(sending.done, seconds + 60)
            sending.result()
            # drain: everything sent has been received and handled (or 20 s have passed)
            _wait(lambda: adapter.stats.messages >= load.sent
                  and interaction.counters().gifts >= load.gifts_sent, 20)
            loop = QEventLoop()
            QTimer.singleShot(500, loop.quit)  # the last coalesced poll update
            loop.exec()
            probe.measuring = False
            frames, lagged = show.studio.frames - frames0, show.studio.lagged - lagged0
            counters = interaction.counters()
            counted = sum(poll.counts)
            by_source = dict(poll.snapshot().by_source)
            dock_sampled = next((d.sampled_out for d in binding.interaction_docks if hasattr(d, "sampled_out")),
                                None)
        window.deleteLater()
    finally:
        probe.stop()
        platform.run(server.stop())
        platform.stop()
    result: dict[str, Any] = {
        "canvas": f"{show.studio.width}x{show.studio.height}@{show.studio.fps}",
        "configuration": "MainWindow (offscreen) with a Show on the demo, its hub, and a fake Bilibili room "
                         "sending brotli batches every 50 ms",
        "seconds": seconds, "rate_per_s": rate, "users": users,
        "sent": load.sent,
        "received": adapter.stats.messages,
        "malformed": adapter.stats.malformed,
        "distinct_voters": len(load.voters),
        "votes_counted": counted,
        "votes_by_source": {k: sum(v) for k, v in by_source.items()},
        "gifts_sent": load.gifts_sent,
        "gifts_lost": load.gifts_sent - counters.gifts,
        "ui_max_gap_ms": round(max(probe.gaps, default=0.0), 1),
        "ui_p99_gap_ms": round(_percentile(probe.gaps, 0.99), 1),
        # the share of the clock's frame slots it missed while the chat ran
        "lagged_pct": round(100.0 * lagged / (frames + lagged), 2) if frames + lagged else None,
        "frames": frames,
        "overlay_max_on_screen": on_screen[0],
        "dock_sampled_out": dock_sampled,
        "target": {"votes_counted": "= distinct_voters", "gifts_lost": 0, "ui_max_gap_ms": 50, "lagged_pct": 0.5},
    }
    if note:
        result["note"] = note
    return result
