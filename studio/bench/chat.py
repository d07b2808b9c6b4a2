"""`studio bench chat`: platform chat at platform rates into the running studio.

A fake Bilibili room (loopback, a process of its own) sends ``--rate`` messages a second (default 2,000) for ``--seconds``
(default 30) from ``--users`` distinct users (default 10,000) while a poll is open, into the 1080p30
demo with the window (offscreen). Reports ``received``, ``votes_counted`` (must equal
``distinct_voters``), ``gifts_lost`` (0), ``ui_max_gap_ms`` (<= 50), ``lagged_pct`` (< 0.5) and
``overlay_max_on_screen``. The measuring lives in ``widgets.chat_bench`` (the engine packages never
import Qt widgets).

``--path``: the chat path alone, without the window's painting, the engine or other threads, so it
reads the same on a busy machine: the same messages as brotli batches through the Bilibili adapter's
frame decoding, the interaction service (moderation, counters, votes, one batch per read), the
overlay binding, a 1080p bullet overlay and the poll overlay ticked at 30 fps (sprites taken each
frame), the product-question queue (sorting each read, then matching what it lets through: in the
studio its own thread) and the danmaku dock (offscreen), all on one thread; reports the thread CPU
seconds each stage took.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "platform chat at 2,000 msg/s from 10,000 users into the running demo: votes, gifts, UI gaps, lag"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=30.0, help="sending time (default 30)")
    parser.add_argument("--rate", type=int, default=2000, help="messages a second (default 2000)")
    parser.add_argument("--users", type=int, default=10_000, help="distinct users (default 10000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--collection", type=Path, help="scene collection (default: the built-in demo)")
    parser.add_argument("--colors", action="store_true", help="use colour sources instead of the demo")
    parser.add_argument("--path", action="store_true",
                        help="the chat path alone (adapter, service, overlay, dock): CPU seconds per stage")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.seconds <= 0 or args.rate <= 0 or args.users <= 0:
        raise ValueError("--seconds, --rate and --users must be positive")
    if args.path:
        return measure_path(seconds=args.seconds, rate=args.rate, users=args.users, seed=args.seed)
    from widgets.chat_bench import measure

    return measure(seconds=args.seconds, rate=args.rate, users=args.users, seed=args.seed,
                   collection=args.collection, colors=args.colors)


def measure_path(seconds: float = 30.0, rate: int = 2000, users: int = 10_000, seed: int = 7) -> dict[str, Any]:
    import asyncio
    import time
    from types import SimpleNamespace

    from PySide6.QtWidgets import QApplication

    from scenes.registry import get_type
    from scenes.sources.danmaku_overlay import DanmakuOverlaySource
    from scenes.sources.poll_overlay import PollOverlaySource
    from studio.bench._chat_room import BATCH_S, ChatLoad
    from studio.catalogue.assistant import FaqAssistant
    from studio.catalogue.demo import demo_catalogue
    from studio.catalogue.question_queue import QuestionQueue
    from studio.interaction.bilibili import BilibiliAdapter
    from studio.interaction.overlays import OverlayBinding
    from studio.interaction.service import InteractionService
    from widgets.danmaku_dock import DanmakuDock
    from widgets.faq_panel import offer_batch

    app = QApplication.instance() or QApplication([])
    overlay = get_type("danmaku_overlay").create({})
    assert isinstance(overlay, DanmakuOverlaySource)
    poll_overlay = get_type("poll_overlay").create({})
    assert isinstance(poll_overlay, PollOverlaySource)
    service = InteractionService(vote_coalesce_s=0.0)  # a read stands for 50 ms: one poll update each
    binding = OverlayBinding(service, SimpleNamespace(sources={"danmaku": overlay, "poll": poll_overlay}))
    assistant = FaqAssistant(demo_catalogue())
    assistant.load_now()  # jieba's dictionary, before timing
    questions = QuestionQueue(assistant, start=False)  # matched below, on this thread
    service.danmaku_batch.connect(lambda events: offer_batch(questions, events))
    dock = DanmakuDock(service)
    dock.resize(500, 700)
    dock.show()
    adapter = BilibiliAdapter(1, url="ws://127.0.0.1:1/sub")  # never connects: frames are fed to it
    poll = service.open_poll("她应该买吗?", ("买", "不买"), 600.0)
    load = ChatLoad(users, rate, seconds, seed)
    per_read = max(1, round(rate * BATCH_S))
    reads = [load.batch(per_read) for _ in range(round(seconds / BATCH_S))]  # made before timing
    cpu = {"net": 0.0, "clock": 0.0, "faq": 0.0, "ui": 0.0}
    frame_ns = 1_000_000_000 // 30

    async def run() -> None:
        clock_ns, due_ns = 0, 0
        for raw in reads:
            t0 = time.thread_time()
            for message in adapter._frame(raw):
                service._dispatch(message)
            await asyncio.sleep(0)  # the loop turns: this read's batch goes out
            t1 = time.thread_time()
            due_ns += int(BATCH_S * 1e9)
            while clock_ns + frame_ns <= due_ns:  # the frames the clock renders meanwhile
                clock_ns += frame_ns
                overlay.tick(clock_ns)
                overlay.sprites()
                poll_overlay.tick(clock_ns)
            t2 = time.thread_time()
            while (asked := questions.take()) is not None:
                questions.match(asked)
            t3 = time.thread_time()
            app.processEvents()  # the dock's queued batch and its flush timer
            cpu["net"] += t1 - t0
            cpu["clock"] += t2 - t1
            cpu["faq"] += t3 - t2
            cpu["ui"] += time.thread_time() - t3

    try:
        asyncio.run(run())
    finally:
        dock.close_bridge()
        binding.close()
        questions.close()
        assistant.close()
        dock.deleteLater()
    stats = overlay.stats()
    return {
        "configuration": "the chat path alone on one thread: Bilibili frame decoding, interaction service, "
                         "overlay binding, 1080p bullet overlay and poll overlay at 30 fps, product-question "
                         "queue, danmaku dock (offscreen)",
        "seconds": seconds, "rate_per_s": rate, "users": users,
        "sent": load.sent, "received": adapter.stats.messages,
        "distinct_voters": len(load.voters), "votes_counted": sum(poll.counts),
        "gifts_sent": load.gifts_sent, "gifts_lost": load.gifts_sent - service.counters().gifts,
        "cpu_s": {"adapter+service+binding": round(cpu["net"], 2),
                  "overlays tick+sprites": round(cpu["clock"], 2),
                  "faq matching": round(cpu["faq"], 2), "dock": round(cpu["ui"], 2)},
        "cpu_s_total": round(sum(cpu.values()), 2),
        "overlay_shown": stats.shown, "overlay_max_on_screen_end": stats.on_screen, "overlay_not_shown": stats.dropped,
        "dock_rows": dock.model.rowCount(), "dock_sampled_out": dock.sampled_out,
        "poll_renders": poll_overlay.renders, "poll_panel_renders": poll_overlay.base_renders,
        "faq_offered": questions.offered, "faq_matched": questions.matched, "faq_skipped": questions.skipped,
    }
