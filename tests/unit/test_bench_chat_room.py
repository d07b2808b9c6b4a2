"""`studio bench chat`'s fake room runs in a process of its own and plays its load to a real
Bilibili adapter; the bench's per-thread CPU figures name the threads."""

from __future__ import annotations

import asyncio
import threading
import time

from studio.bench._chat_room import ChatRoomProcess
from studio.bench.thread_cpu import thread_cpu, thread_cpu_since
from studio.interaction.bilibili import BilibiliAdapter
from studio.interaction.messages import Danmaku, Gift


def test_the_room_process_sends_its_load_to_an_adapter_then_stops() -> None:
    room = ChatRoomProcess(users=50, rate=200, seconds=0.5, seed=3)
    try:
        assert room.url.startswith("ws://127.0.0.1:")
        adapter = BilibiliAdapter(4242, url=room.url, backoff=(0.05, 0.5))

        async def receive() -> list[object]:
            got: list[object] = []
            await adapter.start()

            async def consume() -> None:
                async for message in adapter:
                    got.append(message)

            consumer = asyncio.create_task(consume())
            loop = asyncio.get_running_loop()
            await asyncio.wait_for(adapter.connected.wait(), 30)
            room.go()
            assert await loop.run_in_executor(None, room.done.wait, 30)
            while len(got) < room.result["sent"]:  # the last read may still be on its way
                await asyncio.sleep(0.01)
            await adapter.close()
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)
            return got

        got = asyncio.run(receive())
    finally:
        room.close()
    assert room.result["sent"] == adapter.stats.messages == len(got) == 100
    assert sum(isinstance(m, Gift) for m in got) == room.result["gifts_sent"] == 1
    assert room.result["distinct_voters"] == 40  # one user in five does not vote
    assert all(isinstance(m, Danmaku | Gift) for m in got)
    assert room._child.returncode is not None  # the process ended with close()


def test_thread_cpu_names_python_threads() -> None:
    before = thread_cpu()
    done = threading.Event()

    def spin() -> None:
        while time.thread_time() < 0.05:
            pass
        done.set()
        release.wait(10)

    release = threading.Event()
    worker = threading.Thread(target=spin, name="cpu-test-spinner")
    worker.start()
    try:
        assert done.wait(30)
        spent = thread_cpu_since(before, top=100)
        assert spent.get("cpu-test-spinner", 0.0) >= 0.04  # /proc counts in clock ticks
        assert "MainThread" in thread_cpu()
    finally:
        release.set()
        worker.join(10)
