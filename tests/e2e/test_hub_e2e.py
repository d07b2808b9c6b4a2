"""End to end over real websockets on 127.0.0.1 (port 0): viewers -> hub -> InteractionService."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from studio.interaction.adapters import EmbeddedHubAdapter, WebSocketAdapter
from studio.interaction.hub import HubConfig, HubThread
from studio.interaction.messages import Danmaku, Like, Message
from studio.interaction.moderation import DanmakuEvent, Moderator
from studio.interaction.polls import PollClosed
from studio.interaction.service import InteractionService, SourceStatus
from studio.interaction.showlog import ShowLog

TIMEOUT = 10.0


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def recv_type(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while (obj := await recv_json(ws))["type"] != kind:
        pass
    return obj


class Collector:
    """Collects events from a Signal and lets the test wait for a condition on them."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float = TIMEOUT) -> Any:
        with self._cond:
            assert self._cond.wait_for(lambda: any(predicate(i) for i in self.items), timeout), self.items
            return next(i for i in self.items if predicate(i))


def test_viewer_danmaku_reaches_service_as_typed_event(tmp_path: Path) -> None:
    adapter = EmbeddedHubAdapter()
    showlog = ShowLog(tmp_path / "show.jsonl")
    service = InteractionService(adapter, moderator=Moderator(["傻瓜"]), showlog=showlog)
    danmaku, entered = Collector(), Collector()
    service.danmaku.connect(danmaku)
    service.entered.connect(entered)
    with service:
        service.wait_ready()
        hub = adapter.hub

        async def viewer() -> dict[str, Any]:
            async with connect(hub.viewer_url + "?nick=alice", proxy=None) as v:
                welcome = await recv_json(v)
                await v.send(json.dumps({"type": "danmaku", "text": "主播好", "colour": "#ff0000"}))
                await v.send(json.dumps({"type": "danmaku", "text": "你是ＳＢ傻瓜"}))
                await v.send(json.dumps({"type": "danmaku", "text": "x" * 101, "ref": "long"}))
                error = await recv_type(v, "error")
                assert error == {"type": "error", "code": "too_long", "message": "danmaku.text is longer than 100 characters", "ref": "long"}
                await v.send(b"\x00binary")
                assert (await recv_type(v, "error"))["code"] == "bad_frame"
                return welcome

        welcome = asyncio.run(viewer())
        first: DanmakuEvent = danmaku.wait_for(lambda e: e.message.text == "主播好")
        flagged: DanmakuEvent = danmaku.wait_for(lambda e: "傻瓜" in e.message.text)
        assert isinstance(first.message, Danmaku) and first.visible
        assert first.message.user == welcome["viewer"] and first.message.nick == "alice"
        assert first.message.colour == "#FF0000"
        assert not flagged.visible and flagged.matched == ("傻瓜",)
        assert entered.wait_for(lambda e: e.user == welcome["viewer"]).nick == "alice"
    showlog.close()
    stats = adapter.hub.stats()  # the hub stopped with the service: final counts
    assert stats.accepted == 2 and stats.rejected["too_long"] == 1 and stats.rejected["bad_frame"] == 1
    assert len(danmaku.items) == 2  # the rejected frames never reached the host


def test_announcement_and_poll_round_trip(tmp_path: Path) -> None:
    adapter = EmbeddedHubAdapter()
    showlog = ShowLog(tmp_path / "show.jsonl")
    service = InteractionService(adapter, showlog=showlog, tick_s=0.05)
    closed, updates = Collector(), Collector()
    service.poll_closed.connect(closed)
    service.poll_updated.connect(updates)
    with service:
        service.wait_ready()
        hub = adapter.hub
        joined = threading.Event()
        announced = threading.Event()

        async def viewers() -> list[dict[str, Any]]:
            async with connect(hub.viewer_url, proxy=None) as a, connect(hub.viewer_url, proxy=None) as b:
                for v in (a, b):
                    await recv_type(v, "welcome")
                joined.set()
                await asyncio.to_thread(announced.wait, TIMEOUT)
                ann = await recv_type(a, "announcement")
                assert ann["text"] == "八点开抢" and (await recv_type(b, "announcement"))["text"] == "八点开抢"
                state = await recv_type(a, "poll_state")
                await a.send(json.dumps({"type": "vote", "poll": state["poll"], "option": 1, "ref": "va"}))
                await a.send(json.dumps({"type": "vote", "poll": state["poll"], "option": 0, "ref": "va2"}))
                for ref in ("va", "va2"):  # acked by the hub, so queued for the studio before b's vote
                    assert (await recv_type(a, "ack"))["ref"] == ref
                await b.send(json.dumps({"type": "vote", "poll": state["poll"], "option": 1, "ref": "vb"}))
                assert (await recv_type(b, "ack"))["ref"] == "vb"
                # wait until the studio counted both votes, then watch the final state arrive
                final = await recv_type(b, "poll_state")
                while final["state"] != "closed":
                    final = await recv_type(b, "poll_state")
                return [state, final]

        async def director() -> None:
            await asyncio.to_thread(joined.wait, TIMEOUT)
            service.announce("八点开抢")
            service.open_poll("结局选哪个?", ["原谅", "复仇"], 60, branch_binding="ep7-end")
            announced.set()

        async def main() -> list[dict[str, Any]]:
            task = asyncio.create_task(viewers())
            await director()
            await asyncio.to_thread(updates.wait_for, lambda u: u.counts == (0, 2))
            service.close_poll()
            return await task

        state, final = asyncio.run(asyncio.wait_for(main(), 30))
        assert state["options"] == ["原谅", "复仇"] and state["state"] == "open"
        result: PollClosed = closed.wait_for(lambda r: True)
        assert (result.winner, result.branch_binding, result.counts) == (1, "ep7-end", (0, 2))
        assert final["winner"] == 1 and final["counts"] == [0, 2]
        assert service.counters().votes == 3 and service.counters().votes_ignored == 1
    showlog.close()
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "show.jsonl").read_text("utf-8").splitlines()]
    assert kinds == ["announcement", "poll_opened", "poll_closed"]


def test_generic_websocket_adapter_against_a_hub() -> None:
    """The generic adapter speaks the same schema to any hub URL (here one on its own thread)."""
    with HubThread(HubConfig()) as hub:
        adapter = WebSocketAdapter(hub.host_url, token=hub.token, reconnect=False)

        async def scenario() -> list[Message]:
            got: list[Message] = []

            async def consume() -> None:
                async for m in adapter:
                    got.append(m)
                    if isinstance(m, Like):
                        await adapter.close()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(adapter.connected.wait(), TIMEOUT)
            async with connect(hub.viewer_url, proxy=None) as v:
                await recv_type(v, "welcome")
                await v.send(json.dumps({"type": "like", "count": 7}))
            await asyncio.wait_for(task, TIMEOUT)
            return got

        got = asyncio.run(scenario())
        # the viewer leaving may arrive before the adapter closes
        assert [type(m).TYPE for m in got][:2] == ["enter", "like"] and got[1].count == 7  # type: ignore[attr-defined]


@pytest.mark.expect_logged_errors("interaction source websocket failed")  # the refused token, on purpose
def test_wrong_token_reports_error_status() -> None:
    with HubThread() as hub:
        service = InteractionService(WebSocketAdapter(hub.host_url, token="w" * 32))
        statuses = Collector()
        service.status.connect(statuses)
        with service:
            error: SourceStatus = statuses.wait_for(lambda s: s.state == "error")
        assert "refused the host token" in error.detail


def test_bench_hub_runs_and_reports_its_fields() -> None:
    """A tiny run of `studio bench hub` (hub in its own process): fields only, no thresholds."""
    import argparse

    from studio.bench import hub as bench

    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    result = bench.run(parser.parse_args(["--viewers", "3", "--seconds", "0.4", "--drain", "10"]))
    for key in ("sent", "delivered", "lost", "p95_ms", "msg_per_s", "hub_cpu", "target", "meets_target"):
        assert key in result
    assert result["sent"] == 6 and result["delivered"] + result["lost"] == result["sent"]
    assert result["hub_stats"]["connections_total"] == 3
    json.dumps(result)
