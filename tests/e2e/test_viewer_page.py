"""The viewer page in real headless Chromium: WHEP playback from the relay, and the hub sender."""

from __future__ import annotations

import json
import threading
from typing import Any

from aiohttp import WSMsgType, web

from studio.interaction.adapters import EmbeddedHubAdapter
from studio.interaction.hub import HubConfig
from studio.interaction.moderation import DanmakuEvent
from studio.interaction.service import InteractionService
from studio.net import NetLoop
from studio.outputs.whip import WhipConfig, WhipOutput
from studio.outputs.whip_events import OutputState, OutputStatus
from studio.services.relay import RelayServer
from studio.webrtc.playout_delay import PLAYOUT_DELAY_URI
from studio.webrtc.synthetic import SyntheticH264, SyntheticOpus, SyntheticPump

WAIT_MS = 30_000

def test_the_page_plays_the_stream(net: NetLoop, browser: Any) -> None:
    relay = RelayServer()
    net.run(relay.start())
    video, audio = SyntheticH264(320, 240, 15), SyntheticOpus()
    video.encode_next()
    live = threading.Event()

    def on_state(state: OutputState) -> None:
        if state.state == OutputStatus.LIVE:
            live.set()

    output = WhipOutput(
        WhipConfig(url=relay.url("/whip/live"), video=video.stream_info(), audio=audio.stream_info()),
        net,
        on_keyframe_request=video.request_keyframe,
    )
    output.state_changed.connect(on_state)
    pump = SyntheticPump(video, output, audio)
    pump.start()
    output.start()
    try:
        assert live.wait(30)
        page = browser.new_page()
        page.goto(relay.url("/view/live"))
        page.wait_for_function("document.getElementById('video').videoWidth > 0", timeout=WAIT_MS)
        start = page.evaluate("document.getElementById('video').currentTime")
        page.wait_for_function(f"document.getElementById('video').currentTime > {start}", timeout=WAIT_MS)
        size = page.evaluate("[video.videoWidth, video.videoHeight]")
        state = page.evaluate("window.viewerState")
        assert size == [320, 240]
        assert state["state"] == "live" and state["resource"].startswith("/whep/live/")
        # Chromium offered the playout-delay extension and the relay agreed to send it
        assert PLAYOUT_DELAY_URI in state["answer"]
        assert page.locator("#interaction").is_hidden()  # no hub configured
        page.click("#unmute")
        assert page.evaluate("video.muted") is False
        page.close()
    finally:
        pump.stop()
        output.stop()
        net.run(relay.stop())


def test_danmaku_and_likes_go_to_the_hub(net: NetLoop, browser: Any) -> None:
    frames: list[dict[str, Any]] = []
    got = threading.Condition()
    sockets: set[web.WebSocketResponse] = set()

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets.add(ws)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                with got:
                    frames.append(json.loads(msg.data))
                    got.notify_all()
        sockets.discard(ws)
        return ws

    async def close_sockets(app: web.Application) -> None:
        for ws in list(sockets):
            await ws.close()

    async def start_hub() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/ws", ws_handler)
        app.on_shutdown.append(close_sockets)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner

    relay = RelayServer()
    net.run(relay.start())
    hub = net.run(start_hub())
    hub_port = hub.addresses[0][1]
    try:
        page = browser.new_page()
        # no stream is live: the <video> element delays the load event, so do not wait for it
        page.goto(relay.url(f"/view/live?hub=ws://127.0.0.1:{hub_port}/ws"), wait_until="domcontentloaded")
        page.wait_for_function(
            "document.getElementById('hub-status').dataset.state === 'open'", timeout=WAIT_MS
        )
        assert page.locator("#interaction").is_visible()
        page.fill("#danmaku-text", "好看! nice")
        page.press("#danmaku-text", "Enter")
        page.click("#like")
        with got:
            assert got.wait_for(lambda: len(frames) >= 2, 30), frames
        # each frame carries a ref, so the hub's ack or refusal can be matched to it
        assert [{k: v for k, v in f.items() if k != "ref"} for f in frames[:2]] == [
            {"type": "danmaku", "text": "好看! nice"}, {"type": "like", "count": 1}]
        assert frames[0]["ref"] != frames[1]["ref"]
        assert page.input_value("#danmaku-text") == ""
        assert page.text_content("#like-count") == "1"
        page.close()
    finally:
        net.run(hub.cleanup())
        net.run(relay.stop())


# ---- chat against the real hub: characters counted as the hub counts them, refusals shown ----


def start_chat(net: NetLoop, **config: Any) -> tuple[RelayServer, InteractionService, EmbeddedHubAdapter]:
    relay = RelayServer()
    net.run(relay.start())
    adapter = EmbeddedHubAdapter(HubConfig(**config))
    adapter.hub.allow_page(relay.port)  # the relay's own page may join, as LocalServices sets it up
    service = InteractionService(adapter, net=net)
    service.start()
    service.wait_ready()
    return relay, service, adapter


class Said:
    def __init__(self, service: InteractionService) -> None:
        self.texts: list[str] = []
        self.cond = threading.Condition()
        service.danmaku.connect(self.add)

    def add(self, event: DanmakuEvent) -> None:
        with self.cond:
            self.texts.append(event.message.text)
            self.cond.notify_all()

    def wait(self, n: int) -> list[str]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.texts) >= n, 30), self.texts
            return list(self.texts)


def open_chat(browser: Any, relay: RelayServer, adapter: EmbeddedHubAdapter) -> Any:
    page = browser.new_page()
    page.goto(relay.url(f"/view/live?hub={adapter.hub.viewer_url}"), wait_until="domcontentloaded")
    page.wait_for_function("window.interaction && window.interaction.viewer !== null", timeout=WAIT_MS)
    return page


def test_emoji_and_cjk_danmaku_are_counted_as_the_hub_counts_them(net: NetLoop, browser: Any) -> None:
    full = "好看" * 30 + "😀👍🏻" * 10 + "👨‍👩‍👧" + "加油加油吧"  # 100 characters for the hub, 133 UTF-16 units
    assert len(full) == 100 and len(full.encode("utf-16-le")) // 2 == 133
    relay, service, adapter = start_chat(net)
    said = Said(service)
    try:
        page = open_chat(browser, relay, adapter)
        page.fill("#danmaku-text", full)
        assert page.input_value("#danmaku-text") == full  # nothing cut off
        assert page.text_content("#danmaku-count") == "100/100"
        page.press("#danmaku-text", "Enter")
        assert said.wait(1) == [full]  # all of it reached the studio
        # one character over: the page says so and sends nothing
        page.fill("#danmaku-text", full + "!")
        assert page.get_attribute("#danmaku-count", "data-over") == "true"
        page.press("#danmaku-text", "Enter")
        page.wait_for_function("window.viewerState.chatError !== null", timeout=WAIT_MS)
        assert "101 characters" in page.text_content("#danmaku-error")
        assert page.locator("#danmaku-error").is_visible()
        assert page.input_value("#danmaku-text") == full + "!"  # kept for the viewer to fix
        page.close()
    finally:
        service.stop()
        net.run(relay.stop())
    assert said.texts == [full]


def test_refusals_are_shown_and_the_identity_survives_a_reload(net: NetLoop, browser: Any) -> None:
    relay, service, adapter = start_chat(net, rate=0.01, burst=1)  # the second message is refused
    said = Said(service)
    try:
        page = open_chat(browser, relay, adapter)
        viewer = page.evaluate("window.interaction.viewer")
        page.fill("#danmaku-text", "第一条")
        page.press("#danmaku-text", "Enter")
        said.wait(1)
        page.fill("#danmaku-text", "第二条")
        page.press("#danmaku-text", "Enter")
        page.wait_for_function("window.viewerState.chatError !== null", timeout=WAIT_MS)
        assert "too fast" in page.text_content("#danmaku-error")
        assert page.input_value("#danmaku-text") == "第二条"  # given back to resend later
        page.reload(wait_until="domcontentloaded")
        page.wait_for_function("window.interaction && window.interaction.viewer !== null", timeout=WAIT_MS)
        assert page.evaluate("window.interaction.viewer") == viewer  # the kept token: same viewer
        page.close()
        stats = adapter.hub.stats()
        assert stats.identities == 1 and stats.identities_new == 1 and stats.rejected["rate_limited"] == 1
    finally:
        service.stop()
        net.run(relay.stop())
    assert said.texts == ["第一条"]
