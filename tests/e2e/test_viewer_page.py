"""The viewer page in real headless Chromium: WHEP playback from the relay, and the hub sender."""

from __future__ import annotations

import json
import threading
from typing import Any

from aiohttp import WSMsgType, web

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
        assert frames[:2] == [{"type": "danmaku", "text": "好看! nice"}, {"type": "like", "count": 1}]
        assert page.input_value("#danmaku-text") == ""
        assert page.text_content("#like-count") == "1"
        page.close()
    finally:
        net.run(hub.cleanup())
        net.run(relay.stop())
