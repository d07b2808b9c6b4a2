"""The hub against a hostile audience, over real websockets on 127.0.0.1: many connections and
reconnect floods from one address, forged tokens, wrong Origin, blocks and slow mode that must
survive reconnecting. Votes reach a real InteractionService and Poll."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from studio.interaction.adapters import EmbeddedHubAdapter
from studio.interaction.hub import HubConfig, HubThread
from studio.interaction.moderation import BLOCKED_USER, SLOW_MODE, DanmakuEvent
from studio.interaction.service import InteractionService

TIMEOUT = 10.0


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)))


async def until(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while (obj := await recv_json(ws))["type"] != kind:
        pass
    return obj


def viewer(url: str, token: str | None = None, origin: str | None = None, access: str | None = None) -> Any:
    """A viewer connection; ``token`` is the viewer token kept from a welcome, ``access`` the LAN token."""
    params = {}
    if token:
        params["vt"] = token
    if access:
        params["token"] = access
    suffix = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    headers = {"Origin": origin} if origin else None
    return connect(url + suffix, additional_headers=headers, proxy=None, open_timeout=TIMEOUT)


async def status_of(url: str, **kwargs: Any) -> int:
    try:
        async with viewer(url, **kwargs) as ws:
            await until(ws, "welcome")
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


@pytest.fixture
def show() -> Iterator[tuple[InteractionService, EmbeddedHubAdapter]]:
    adapter = EmbeddedHubAdapter(HubConfig())  # the product's limits: 3 new identities a minute
    service = InteractionService(adapter)
    service.start()
    service.wait_ready()
    yield service, adapter
    service.stop()


class Events:
    """DanmakuEvents from the service, waited for on a condition (messages arrive in order, so a
    danmaku sent last is a barrier for everything sent before it)."""

    def __init__(self, service: InteractionService) -> None:
        self.items: list[DanmakuEvent] = []
        self.enters = 0
        self._cond = threading.Condition()
        service.danmaku.connect(self._add)
        service.entered.connect(self._enter)

    def _enter(self, _: object) -> None:
        with self._cond:
            self.enters += 1
            self._cond.notify_all()

    def wait_enters(self, n: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.enters >= n, TIMEOUT), (self.enters, n)

    def _add(self, event: DanmakuEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait(self, text: str) -> DanmakuEvent:
        with self._cond:
            assert self._cond.wait_for(lambda: any(e.message.text == text for e in self.items), TIMEOUT), text
            return next(e for e in self.items if e.message.text == text)


async def send_acked(ws: ClientConnection, frame: dict[str, Any]) -> str:
    """Send with a ref; the hub's answer: ``ack`` or the error code."""
    await ws.send(json.dumps({**frame, "ref": "r"}))
    while (obj := await recv_json(ws))["type"] not in ("ack", "error"):
        pass
    return "ack" if obj["type"] == "ack" else str(obj["code"])


def test_twenty_connections_and_ten_reconnects_are_one_vote(show: tuple[InteractionService, EmbeddedHubAdapter]) -> None:
    service, adapter = show
    events = Events(service)
    url = adapter.hub.viewer_url
    poll = service.open_poll("结局选哪个?", ["原谅", "复仇"], 60)
    vote = {"type": "vote", "poll": poll.id, "option": 1}

    async def attack() -> tuple[str, list[str], list[int]]:
        async with viewer(url) as first:
            welcome = await until(first, "welcome")
        token = welcome["token"]
        answers = []
        # twenty at once with the kept token, each voting; then ten reconnects voting again
        conns = [await viewer(url, token).__aenter__() for _ in range(20)]
        try:
            for ws in conns:
                assert (await until(ws, "welcome"))["viewer"] == welcome["viewer"]
                answers.append(await send_acked(ws, vote))
        finally:
            await asyncio.gather(*(ws.close() for ws in conns))
        for _ in range(10):
            async with viewer(url, token) as ws:
                await until(ws, "welcome")
                answers.append(await send_acked(ws, vote))
        # without the token: new identities, three a minute from one address (one already used)
        codes = [await status_of(url) for _ in range(5)]
        # a barrier: the studio hears each connection's "enter" in order, after what came before
        events.wait_enters(1 + 20 + 10 + 2)
        return welcome["viewer"], answers, codes

    who, answers, codes = asyncio.run(attack())
    assert codes == [101, 101, 429, 429, 429]
    # one identity shares one rate allowance however many connections it opens
    assert set(answers) <= {"ack", "rate_limited"} and "rate_limited" in answers
    assert service.counters().votes == answers.count("ack")
    assert poll.counts == (0, 1) and poll.duplicate_votes == answers.count("ack") - 1
    stats = adapter.hub.stats()
    assert stats.refused["identity_limit"] == 3 and stats.identities == 3 and stats.identities_new == 3
    assert who.startswith("p")


def test_forged_and_expired_tokens_buy_nothing() -> None:
    with HubThread(HubConfig(new_identities_per_minute=2)) as hub:

        async def run() -> tuple[dict[str, Any], dict[str, Any], list[int]]:
            async with viewer(hub.viewer_url) as ws:
                mine = await until(ws, "welcome")
            token = mine["token"]
            body, _, sig = token.rpartition(".")
            forged = body + "." + ("A" * len(sig))
            async with viewer(hub.viewer_url, forged) as ws:
                other = await until(ws, "welcome")  # a new identity, the second and last this minute
            codes = [await status_of(hub.viewer_url, token=t) for t in (forged, "garbage", "x" * 300)]
            return mine, other, codes

        mine, other, codes = asyncio.run(run())
        assert other["viewer"] != mine["viewer"] and other["token"] != mine["token"]
        assert codes == [429, 429, 429]
        stats = hub.stats()
        assert stats.tokens_invalid == 4 and stats.refused["identity_limit"] == 3


def test_browsers_join_only_from_the_relay_page_or_the_allow_list() -> None:
    config = HubConfig(allowed_origins=("https://player.example.com",), new_identities_per_minute=100)
    with HubThread(config) as hub:
        hub.server.allow_page(8889)
        port = hub.port

        async def run() -> dict[str, int]:
            url = hub.viewer_url
            return {
                "no origin (not a browser)": await status_of(url),
                "relay page": await status_of(url, origin="http://127.0.0.1:8889"),
                "relay page, localhost": await status_of(url, origin="http://localhost:8889"),
                "allow-listed": await status_of(url, origin="https://player.example.com"),
                "another site": await status_of(url, origin="https://evil.example"),
                "the hub's own port": await status_of(url, origin=f"http://127.0.0.1:{port}"),
                "lookalike": await status_of(url, origin="https://player.example.com.evil.example"),
                "null": await status_of(url, origin="null"),
            }

        codes = asyncio.run(run())
        assert codes == {
            "no origin (not a browser)": 101,
            "relay page": 101,
            "relay page, localhost": 101,
            "allow-listed": 101,
            "another site": 403,
            "the hub's own port": 403,
            "lookalike": 403,
            "null": 403,
        }
        assert hub.stats().refused["origin"] == 4


def test_lan_viewers_need_the_view_token() -> None:
    config = HubConfig(token="h" * 24, viewer_token="v" * 24)
    with HubThread(config) as hub:

        async def run() -> list[int]:
            url = hub.viewer_url
            return [await status_of(url), await status_of(url, access="h" * 24), await status_of(url, access="v" * 24)]

        assert asyncio.run(run()) == [401, 401, 101]
    with pytest.raises(ValueError, match="differ"):
        HubConfig(token="x" * 24, viewer_token="x" * 24)


def test_block_and_slow_mode_survive_reconnecting(show: tuple[InteractionService, EmbeddedHubAdapter]) -> None:
    service, adapter = show
    url = adapter.hub.viewer_url
    events = Events(service)

    async def say(text: str, token: str | None = None) -> dict[str, Any]:
        async with viewer(url, token) as ws:
            welcome = await until(ws, "welcome")
            assert await send_acked(ws, {"type": "danmaku", "text": text}) == "ack"
            return welcome

    troll = asyncio.run(say("first"))
    first = events.wait("first")
    assert first.visible and first.message.user == troll["viewer"] and first.message.address
    service.moderator.block(first.message.user, first.message.address, "troll")
    asyncio.run(say("with my token", troll["token"]))
    asyncio.run(say("without my token"))  # a new identity from the same address
    assert BLOCKED_USER in events.wait("with my token").flags
    fresh = events.wait("without my token")
    assert BLOCKED_USER in fresh.flags and fresh.message.user != troll["viewer"]

    service.moderator.unblock(first.message.user)
    service.moderator.set_slow_mode(60)
    asyncio.run(say("slow 1", troll["token"]))
    asyncio.run(say("slow 2", troll["token"]))  # reconnected: same identity, still slowed
    asyncio.run(say("slow 3"))  # token thrown away: a new identity keeps its address's pace
    assert events.wait("slow 1").visible and SLOW_MODE in events.wait("slow 2").flags
    assert SLOW_MODE in events.wait("slow 3").flags


def test_bench_hub_runs_the_product_identity_limit_with_a_returning_crowd() -> None:
    """`studio bench hub` (in process) keeps 3 new identities a minute per address; its viewers,
    all on 127.0.0.1, come back with pre-signed tokens and none is refused."""
    import argparse

    from studio.bench import hub as bench

    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    shared = bench.in_process(parser.parse_args(["--viewers", "8", "--seconds", "0.4", "--drain", "10"]))
    assert shared["hub_limits"]["new_identities_per_minute"] == HubConfig().new_identities_per_minute == 3.0
    stats = shared["hub_stats"]
    assert stats["refused"]["identity_limit"] == 0 and stats["identities"] == 8 and stats["tokens_invalid"] == 0
    assert shared["sent"] == 16 and shared["delivered"] == 16
    assert "pre-signed" in shared["viewer_identities"]


def test_a_reconnect_flood_without_tokens_is_turned_away_and_the_hub_keeps_serving() -> None:
    with HubThread(HubConfig()) as hub:

        async def run() -> tuple[list[int], str]:
            async with viewer(hub.viewer_url) as ws:
                kept = (await until(ws, "welcome"))["token"]
            codes = [await status_of(hub.viewer_url) for _ in range(60)]
            async with viewer(hub.viewer_url, kept) as ws:  # a returning viewer still gets in
                await until(ws, "welcome")
                await ws.send(json.dumps({"type": "ping", "ref": "alive"}))
                pong = await until(ws, "pong")
            return codes, str(pong.get("ref"))

        codes, pong = asyncio.run(run())
        assert codes.count(101) == 2 and codes.count(429) == 58 and pong == "alive"
        stats = hub.stats()
        assert stats.identities == 3 and stats.refused["identity_limit"] == 58
        # the returning viewer closed its side; the hub's handler ends when it reads the close
        # frame, which may be after the snapshot above: wait for it, bounded
        deadline = time.monotonic() + 10.0
        while hub.stats().viewers and time.monotonic() < deadline:
            time.sleep(0.02)
        assert hub.stats().viewers == 0
