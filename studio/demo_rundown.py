"""The demo show's rundown, next to the demo clips and collection (studio/demo.py).

Episode 1 (10 s; the product card while the clerk pitches the lipstick; a poll "她应该买吗?" 买/不买
open for the whole episode) -> the branch point at its end picks ending A (买) or ending B (不买)
-> both rejoin the live segment: the host on scene "Live" with the product card.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from studio.catalogue.demo import LIPSTICK
from studio.demo import ENDING_A, ENDING_B, EPISODE, DemoAssets, ensure_demo
from studio.rundown.markers import BranchPoint, ProductMoment, VotePoint
from studio.rundown.model import DramaSegment, LiveSegment, Rundown
from studio.rundown.persistence import save_rundown

DRAMA_SOURCE = "剧集 Episode"
PRODUCT_SOURCE = "商品卡 Product"
RUNDOWN_FILE = "demo-rundown.json"
QUESTION = "她应该买吗?"
OPTIONS = ("买", "不买")
LIVE_SECONDS = 20.0


def demo_rundown(assets: DemoAssets) -> Rundown:
    r = Rundown("演示 Demo show", drama_source=DRAMA_SOURCE, drama_scene="Drama", collection=str(assets.collection))
    episode = DramaSegment(EPISODE.title, assets.clips[EPISODE.file], 0.0, EPISODE.seconds, segment_id="episode")
    # the clerk's line "今天直播间下单，立减五十！" runs 3.2-6.2 s: the card shows with it
    episode.add_marker(ProductMoment(3.2, "Drama", PRODUCT_SOURCE, 3.0, id="card-episode", product=LIPSTICK))
    # the shortest poll (10 s) fits the episode exactly: it opens on the first frame and the branch
    # point at the episode's end closes it
    episode.add_marker(VotePoint(0.0, QUESTION, OPTIONS, EPISODE.seconds, "default", 0, id="vote-buy"))
    episode.add_marker(BranchPoint(EPISODE.seconds, "vote-buy", ("ending-a", "ending-b"), id="branch-ending"))
    r.add_segment(episode)
    r.add_segment(DramaSegment(ENDING_A.title, assets.clips[ENDING_A.file], 0.0, ENDING_A.seconds,
                               segment_id="ending-a", then="live"))
    r.add_segment(DramaSegment(ENDING_B.title, assets.clips[ENDING_B.file], 0.0, ENDING_B.seconds,
                               segment_id="ending-b", then="live"))
    live = LiveSegment("主播带货 · Live selling", "Live", LIVE_SECONDS, segment_id="live")
    live.add_marker(ProductMoment(1.0, "Live", PRODUCT_SOURCE, 15.0, id="card-live", product=LIPSTICK))
    r.add_segment(live)
    return r


def ensure_demo_rundown(size: tuple[int, int] = (1920, 1080), force: bool = False,
                        progress: Callable[[str], None] | None = None) -> Path:
    """The demo assets and their rundown file (written when missing or when ``force``)."""
    assets = ensure_demo(size, force, progress)
    path = assets.folder / RUNDOWN_FILE
    if force or not path.exists() or path.stat().st_mtime < assets.collection.stat().st_mtime:
        save_rundown(demo_rundown(assets), path)
    return path
