"""A live show of the demo rundown with viewers on the real hub (websockets): its session database
gives a report whose figures are what the viewers did (viewers, votes, clicks, retention)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from studio.report.export import render_html
from studio.report.figures import load_figures
from studio.report.language import translator_for
from studio.rundown.events import MarkerFired, SegmentStarted

TIMEOUT = 60
HOSTILE = "<script>alert(1)</script>"


async def _frame_of(ws: ClientConnection, kind: str) -> dict[str, object]:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if frame.get("type") == kind:
            return frame


def test_demo_show_session_report_matches_what_viewers_did(studio_home: Path) -> None:
    from scenes.text_raster import ensure_gui_app
    from studio.collections import load_collection
    from studio.demo_rundown import ensure_demo_rundown
    from studio.rundown.persistence import load_rundown
    from studio.services.local import LocalServices
    from studio.show import Show

    ensure_gui_app()
    rundown_path = ensure_demo_rundown(size=(1280, 720))
    collection_path = Path(load_rundown(rundown_path).collection or "")
    show = Show(load_collection(collection_path), collection_path, relay_port=0, hub_port=0)  # its catalogue beside it
    # seven viewers from one address in a few seconds: a venue's worth of new identities
    show.services = LocalServices(show.net, relay_port=0, hub_port=0, new_viewers_per_minute=60)
    live, card_live, chat = threading.Event(), threading.Event(), threading.Event()
    try:
        urls = show.start()
        assert urls is not None and show.interaction is not None and show.session is not None
        show.interaction.danmaku.connect(lambda e: chat.set() if e.message.text == "last words" else None)

        async def scenario() -> None:
            viewers = [await connect(f"{urls.hub_viewer}&nick=v{i}" if "?" in urls.hub_viewer
                                     else f"{urls.hub_viewer}?nick=v{i}", proxy=None) for i in range(6)]
            for ws in viewers:
                await _frame_of(ws, "welcome")
            executor = await asyncio.to_thread(show.start_rundown, rundown_path)

            def on_segment(e: SegmentStarted) -> None:
                if e.segment == "live":
                    live.set()

            def on_marker(e: MarkerFired) -> None:
                if e.marker == "card-live" and e.action == "show":
                    card_live.set()

            executor.events.segment_started.connect(on_segment)
            executor.events.marker_fired.connect(on_marker)
            # votes: 2 for 买 (0), 4 for 不买 (1): the show takes ending B
            for i, ws in enumerate(viewers):
                poll = await _frame_of(ws, "poll_state")
                await ws.send(json.dumps({"type": "vote", "poll": poll["poll"], "option": 0 if i < 2 else 1}))
            assert await asyncio.to_thread(live.wait, TIMEOUT), "the show never reached the live segment"
            assert await asyncio.to_thread(card_live.wait, TIMEOUT), "the live product card never showed"
            for ws in viewers[:3]:  # what the page's buy/details button sends, for the product it was shown
                card = await _frame_of(ws, "product_card")
                while card["moment"] != "card-live" or card["state"] != "show":
                    card = await _frame_of(ws, "product_card")
                await ws.send(json.dumps({"type": "product_click", "product": card["product"]}))
            for ws in viewers[4:]:  # two viewers leave during the live part
                await ws.close()
            hub = show.services.hub if show.services else None
            assert hub is not None
            for _ in range(int(TIMEOUT / 0.05)):  # the hub has told the studio they left
                if hub.stats().viewers == 4:
                    break
                await asyncio.sleep(0.05)
            # a last danmaku travels behind the leaves on the host connection: once it is in, they are too
            async with connect(urls.hub_viewer + ("&" if "?" in urls.hub_viewer else "?") + "nick=" + HOSTILE,
                               proxy=None) as late:
                await _frame_of(late, "welcome")
                await late.send(json.dumps({"type": "danmaku", "text": "last words"}))
                assert await asyncio.to_thread(chat.wait, TIMEOUT)
                await asyncio.to_thread(show.stop)  # the session ends with 5 viewers still watching
            for ws in viewers[:4]:
                await ws.close()

        asyncio.run(scenario())
    finally:
        show.stop()
    assert show.session is not None
    figures = load_figures(show.session.path)
    assert figures.unique_viewers == 7 and figures.peak_viewers >= 6
    assert [(p.final, p.votes_received) for p in figures.polls] == [((2, 4), 6)]
    assert [(b.branch, b.target) for b in figures.branches] == [("branch-ending", "ending-b")]
    assert [s.id for s in figures.segments] == ["episode", "ending-b", "live"]
    (switch,) = figures.switches
    assert (switch.from_segment, switch.to_segment, switch.present, switch.stayed) == ("ending-b", "live", 6, 4)
    moments = {m.marker: (m.clicks, m.clickers) for m in figures.moments}
    assert moments["card-live"] == (3, 3) and moments.get("card-episode", (0, 0)) == (0, 0)
    assert figures.clicks_by_product == {"lipstick-666": 3}  # by the catalogue's id, not the card's name
    assert (figures.funnel.watched, figures.funnel.stayed, figures.funnel.clicked) == (6, 6, 3)
    assert figures.danmaku_total == 1 and figures.top_chatters[0][1] == HOSTILE
    assert figures.health_times, "no stream health samples"
    page = render_html(figures, translator_for("zh_CN"))
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
