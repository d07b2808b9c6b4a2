"""The fake Bilibili room of `studio bench chat`, in a process of its own.

Building and compressing 2,000 messages a second costs the sender about a second of CPU in a 30 s
run; inside the measured process it competed with the studio for the GIL, so the bench measured
the fake room too. ``ChatRoomProcess`` starts ``python -m studio.bench._chat_room`` (a
``FakeBilibiliServer`` on 127.0.0.1 playing a ``ChatLoad``) and talks to it over its stdin/stdout,
one JSON line each way: the child says ``{"url": ...}``, waits for ``go``, sends the load and says
what it sent (``sent``, ``gifts_sent``, ``distinct_voters``); closing its stdin stops it.

``ChatLoad`` is the room's script; ``studio bench chat --path`` replays it in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import threading
import time
from typing import IO, Any

from studio.bench._fake_bilibili import FakeBilibiliServer, batched, danmu, gift
from studio.interaction.bilibili_codec import VER_BROTLI

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


class ChatRoomProcess:
    """The fake room as a child process (the parent's side)."""

    def __init__(self, users: int, rate: int, seconds: float, seed: int, *, start_timeout_s: float = 60.0) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "studio.bench._chat_room", "--users", str(users), "--rate", str(rate),
             "--seconds", str(seconds), "--seed", str(seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._child.stdout is not None
        self._ready = threading.Event()
        self.done = threading.Event()  # the load was sent (``result`` holds what)
        self.url = ""
        self.result: dict[str, Any] = {}
        self._reader = threading.Thread(target=self._read, args=(self._child.stdout,), name="bench-chat-room",
                                        daemon=True)
        self._reader.start()
        if not self._ready.wait(start_timeout_s):
            self.close()
            raise RuntimeError("bench chat: the fake Bilibili room did not start")

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            said = json.loads(line)
            if "url" in said:
                self.url = said["url"]
                self._ready.set()
            else:
                self.result = said
                self.done.set()
        self._ready.set()  # the child ended (maybe failed): nobody waits for ever

    def go(self) -> None:
        assert self._child.stdin is not None
        self._child.stdin.write("go\n")
        self._child.stdin.flush()

    def close(self) -> None:
        if self._child.stdin is not None and not self._child.stdin.closed:
            self._child.stdin.close()  # the child stops its server and exits
        try:
            self._child.wait(10)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait(10)
        self._reader.join(10)
        if self._child.stdout is not None:
            self._child.stdout.close()


async def _serve(load: ChatLoad) -> None:
    loop = asyncio.get_running_loop()
    async with FakeBilibiliServer() as server:
        print(json.dumps({"url": server.url}), flush=True)
        if (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "go":
            await load.run(server)
            print(json.dumps({"sent": load.sent, "gifts_sent": load.gifts_sent,
                              "distinct_voters": len(load.voters)}), flush=True)
            await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m studio.bench._chat_room")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--rate", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(_serve(ChatLoad(args.users, args.rate, args.seconds, args.seed)))


if __name__ == "__main__":
    main()
