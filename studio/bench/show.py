"""`studio bench show`: the demo rundown live on the real clock, with simulated viewers voting
through the embedded hub (real WebSockets on loopback) and platform viewers voting in chat (a fake
Bilibili room on loopback, ``--chat-viewers``).

Figures, all measured from the composited program frames:
- ``branch_gap_frames``: black, held or missing frames between the episode's last picture and the
  winning ending's first (target 0). Which clip frame a program frame shows is found by comparing
  it with the demo clips' own decoded frames (the drama fills the canvas at scale 1, so the match
  is exact; the boxes of the cards and overlays are left out of the comparison).
- ``marker_offsets_frames``: for the episode's product card and the vote, the program frame where
  the card / poll overlay first appears minus the frame that shows the marker's clip frame (target
  within +-1); for the live segment's card (no clip to compare) the executor's own frame offset.
- ``vote_to_overlay_ms_p95``: a vote sent (hub page or chat) -> the first program frame whose poll
  overlay counts it (target <= 100 ms: votes update the poll within the service's coalescing
  window, no longer on its 0.25 s tick). ``votes_by_source`` says where the counted votes came from.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

HELP = "demo rundown on the live clock with viewers voting via the hub: branch gap, marker offsets, vote->overlay"
TARGET = {"branch_gap_frames": 0, "marker_offsets_frames": "all within +-1", "vote_to_overlay_ms_p95": 100}
SCALE = 4  # thumbnails at 1/4 size
TICK_S = 0.25  # the interaction service's poll update tick (its default)
WINDOWS = {"vote": (-2, 12), "card": (84, 110), "branch": (285, 315)}  # program frames after the episode's start


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--viewers", type=int, default=40, help="simulated viewers voting (default 40, >= 1)")
    parser.add_argument("--chat-viewers", type=int, default=40,
                        help="platform viewers voting in chat via a fake Bilibili room (default 40, 0: none)")
    parser.add_argument("--bias", type=float, default=0.65, help="share voting 不买 (default 0.65)")
    parser.add_argument("--live-seconds", type=float, default=3.0, help="length of the live segment (default 3)")
    parser.add_argument("--seed", type=int, default=7)


def _thumb(bgr_or_bgra: np.ndarray) -> np.ndarray:
    code = cv2.COLOR_BGRA2GRAY if bgr_or_bgra.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    gray = cv2.cvtColor(bgr_or_bgra, code)
    h, w = gray.shape
    return cv2.resize(gray, (w // SCALE, h // SCALE), interpolation=cv2.INTER_AREA).astype(np.int16)


def _references(path: str, wanted: set[int]) -> dict[int, np.ndarray]:
    """Thumbnails of the clip frames ``wanted`` (decoded as MediaSource decodes them: bgr24)."""
    out: dict[int, np.ndarray] = {}
    with av.open(path) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i in wanted:
                out[i] = _thumb(frame.to_ndarray(format="bgr24"))
            if i >= max(wanted):
                break
    return out


def _identify(thumb: np.ndarray, refs: dict[tuple[str, int], np.ndarray],
              mask: np.ndarray) -> tuple[tuple[str, int] | None, float]:
    """The reference frame closest to ``thumb`` over the pixels no overlay covers."""
    best, best_d = None, float("inf")
    pixels = thumb[mask]
    for key, ref in refs.items():
        d = float(np.abs(pixels - ref[mask]).mean())
        if d < best_d:
            best, best_d = key, d
    return (best if best_d < 4.0 else None), best_d


Box = tuple[int, int, int, int]


def _item_boxes(collection: Any, studio: Any, scene: str, drama: str) -> dict[str, Box]:
    """Canvas boxes of the scene's items other than the drama clip (cards and overlays)."""
    boxes: dict[str, Box] = {}
    with collection.lock:
        items = list(collection.scene(scene).items)
    for it in items:
        source = studio.sources.get(it.source)
        if it.source == drama or source is None:
            continue
        sw, sh = source.size
        boxes[it.source] = (int(it.x), int(it.y), int(sw * it.scale_x), int(sh * it.scale_y))
    return boxes


def _clean_mask(shape: tuple[int, ...], boxes: dict[str, Box], canvas_area: int) -> np.ndarray:
    """Thumbnail pixels that only the clip paints (full-canvas layers such as the bullet-comment
    overlay stay in: the bench sends no danmaku, so they are empty)."""
    mask = np.ones(shape[:2], bool)
    for x, y, bw, bh in boxes.values():
        if bw * bh >= canvas_area // 2:
            continue
        mask[max(0, y // SCALE):(y + bh) // SCALE + 1, max(0, x // SCALE):(x + bw) // SCALE + 1] = False
    return mask


def _poll_overlay(collection: Any, card_source: str) -> tuple[str | None, str]:
    """The Drama scene's poll overlay (the demo has one); added in a free corner when missing."""
    from scenes.model import SceneItem

    drama = collection.scene("Drama")
    for it in drama.items:
        if collection.source(it.source).type_id == "poll_overlay":
            return it.source, ""
    name = "投票 Poll (bench)"
    try:
        collection.add_source(name, "poll_overlay", {})
        w, h = collection.video.width, collection.video.height
        k = h / 1080
        ow, oh = (collection.source(name).settings[key] for key in ("width", "height"))
        card = next((it for it in drama.items if it.source == card_source), None)
        top = card is not None and card.y < h / 2
        drama.add_item(SceneItem(name, x=w - (ow + 40) * k, y=h - (oh + 40) * k if top else 40 * k,
                                 scale_x=k, scale_y=k))
    except (KeyError, ValueError) as exc:
        return None, f"no poll overlay in the Drama scene and none could be added ({exc})"
    return name, ""


@dataclass
class _Capture:
    """Filled on the clock thread by the program-frame listener."""

    episode_start: int | None = None
    thumbs: dict[int, np.ndarray] = field(default_factory=dict)
    indices: list[int] = field(default_factory=list)
    overlay_totals: list[tuple[int, int]] = field(default_factory=list)  # (composite_ns, votes shown)
    update_totals: list[tuple[int, int]] = field(default_factory=list)  # (perf_counter_ns, poll total)
    boxes: dict[str, Box] = field(default_factory=dict)  # overlay items in the Drama scene


def run(args: argparse.Namespace) -> dict[str, Any]:
    from scenes.text_raster import ensure_gui_app
    from studio.bench._fake_bilibili import FakeBilibiliServer
    from studio.collections import load_collection
    from studio.demo import ENDING_A, ENDING_B, EPISODE
    from studio.demo_rundown import PRODUCT_SOURCE, ensure_demo_rundown
    from studio.engine import Studio
    from studio.events import ProgramFrame
    from studio.interaction import EmbeddedHubAdapter, InteractionService
    from studio.interaction.bilibili import BilibiliAdapter
    from studio.interaction.merged import MergedAdapter
    from studio.net.loop import NetLoop
    from studio.rundown import LiveSegment, MarkerFired, RundownExecutor, SegmentStarted, load_rundown

    ensure_gui_app()
    rundown_path = ensure_demo_rundown()
    rundown = load_rundown(rundown_path)
    for s in rundown.segments:
        if isinstance(s, LiveSegment):
            s.duration_s = max(2.0, args.live_seconds)
    assert rundown.collection is not None
    collection = load_collection(Path(rundown.collection))
    w, h = collection.video.width, collection.video.height
    overlay_name, overlay_problem = _poll_overlay(collection, PRODUCT_SOURCE)
    overlay_ok = overlay_name is not None

    studio = Studio(collection)
    platform_net = NetLoop("bench-fake-bilibili")  # the platform's side, on its own loop like a remote server
    platform_net.start()
    fake = FakeBilibiliServer()
    platform_net.run(fake.start())
    hub_adapter = EmbeddedHubAdapter()
    sources: list[Any] = [hub_adapter]
    if args.chat_viewers > 0:
        sources.append(BilibiliAdapter(4242, url=fake.url, backoff=(0.05, 0.5)))
    service = InteractionService(MergedAdapter(sources) if len(sources) > 1 else hub_adapter, tick_s=TICK_S)
    cap = _Capture()
    fired: list[MarkerFired] = []
    started: list[SegmentStarted] = []
    finished = threading.Event()
    winner: list[str] = []

    def on_started(e: SegmentStarted) -> None:
        started.append(e)
        if e.segment == "episode":
            cap.episode_start = e.frame

    def on_frame(frame: ProgramFrame) -> None:  # clock thread: keep it cheap
        if not cap.boxes:
            cap.boxes = _item_boxes(collection, studio, "Drama", rundown.drama_source)
        cap.indices.append(frame.index)
        start = cap.episode_start
        if start is not None and any(a <= frame.index - start <= b for a, b in WINDOWS.values()):
            cap.thumbs[frame.index] = _thumb(frame.pixels)
        overlay = studio.sources.get(overlay_name) if overlay_name is not None else None
        view = getattr(overlay, "view", None)
        total = sum(view.counts) if view is not None else -1
        if not cap.overlay_totals or cap.overlay_totals[-1][1] != total:
            cap.overlay_totals.append((frame.composite_ns, total))

    service.start()
    service.poll_updated.connect(lambda u: cap.update_totals.append((time.perf_counter_ns(), u.total)))
    binding = None
    executor = RundownExecutor(studio, rundown, service)
    executor.events.segment_started.connect(on_started)
    executor.events.marker_fired.connect(fired.append)
    executor.events.branch_taken.connect(lambda b: winner.append(b.option))
    executor.events.finished.connect(lambda _e: finished.set())
    sends: list[int] = []
    try:
        service.wait_ready()
        if overlay_ok:
            from studio.interaction.overlays import OverlayBinding

            binding = OverlayBinding(service, studio)
        studio.events.program_frame.connect(on_frame)
        if len(sources) > 1:
            platform_net.run(_connected(sources[1]))

        def start_show() -> None:
            studio.start()
            executor.start()

        # returning viewers with pre-signed identities: the product's limit on new identities per
        # address (every simulated viewer is 127.0.0.1) stays on, as in `studio bench hub`
        tokens = [hub_adapter.hub.core.identities.issue()[1] for _ in range(args.viewers)]
        sends = asyncio.run(_viewers(hub_adapter.hub.viewer_url, args, start_show, finished, fake, platform_net,
                                     tokens))
        poll = service.poll
        by_source = dict(poll.snapshot().by_source) if poll is not None else {}
    finally:
        executor.stop()
        studio.stop()
        if binding is not None:
            binding.close()
        service.stop()
        platform_net.run(fake.stop())
        platform_net.stop()

    result: dict[str, Any] = {"winner": winner[0] if winner else None, "viewers": args.viewers,
                              "chat_viewers": max(0, args.chat_viewers), "votes_sent": len(sends),
                              "votes_by_source": {k: sum(v) for k, v in by_source.items()}, "lagged_frames": studio.lagged,
                              "segments": [s.segment for s in started], "target": TARGET}
    if cap.episode_start is None or not winner:
        result.update(branch_gap_frames=None, marker_offsets_frames=None, vote_to_overlay_ms_p95=None,
                      problem="the show did not reach its branch point")
        return result
    s0 = cap.episode_start
    ending = ENDING_A if winner[0] == "买" else ENDING_B
    assets_dir = rundown_path.parent
    refs: dict[tuple[str, int], np.ndarray] = {}
    for i, t in _references(str(assets_dir / EPISODE.file), set(range(0, 13)) | set(range(80, 112)) | set(range(284, 300))).items():
        refs[("episode", i)] = t
    for name, plan in (("a", ENDING_A), ("b", ENDING_B)):
        for i, t in _references(str(assets_dir / plan.file), set(range(0, 16))).items():
            refs[(name, i)] = t
    mask = _clean_mask(next(iter(refs.values())).shape, cap.boxes, w * h)
    ids = {i: _identify(t, refs, mask)[0] for i, t in sorted(cap.thumbs.items()) if i >= s0}
    win_key = "a" if ending is ENDING_A else "b"
    gap, anomalies, around = _branch_gap({i: v for i, v in ids.items() if i >= s0}, win_key, cap.indices, s0)
    result["branch_gap_frames"] = gap
    result["branch_window_anomalies"] = anomalies  # +-3 frames, clock lag included
    result["branch_frames"] = around  # [program frame, clip frame shown or null (lagged/unknown)]
    offsets: dict[str, int | None] = {}
    offsets["card-episode"] = _appearance_offset(ids, cap.thumbs, refs, ("episode", round(3.2 * 30)),
                                                 cap.boxes.get(PRODUCT_SOURCE))
    offsets["vote-buy"] = _appearance_offset(ids, cap.thumbs, refs, ("episode", 0),
                                             cap.boxes.get(overlay_name) if overlay_name else None)
    for f in fired:
        if f.marker == "card-live" and f.action == "show":
            offsets["card-live"] = f.offset_frames
    result["marker_offsets_frames"] = offsets
    result["marker_offset_method"] = {"card-episode": "pixels", "vote-buy": "pixels", "card-live": "executor"}
    if overlay_ok:
        result["vote_to_overlay_ms_p95"] = _vote_latency_p95(sends, cap.overlay_totals)
        # the interaction side alone (vote sent -> poll update handed to the overlays), without the
        # clock's lag on a busy machine: what the coalescing window decides
        result["vote_to_poll_update_ms_p95"] = _vote_latency_p95(sends, cap.update_totals)
        result["interaction_tick_s"] = TICK_S
    else:
        result["vote_to_overlay_ms_p95"] = None
        result["vote_to_overlay_problem"] = overlay_problem
    return result


def _label(key: tuple[str, int] | None) -> str | None:
    return None if key is None else f"{key[0]}:{key[1]}"


def _branch_gap(ids: dict[int, tuple[str, int] | None], ending: str, indices: list[int],
                s0: int) -> tuple[int | None, int | None, list[Any]]:
    """(frames wrong between the episode's last picture and the ending's first, anomalies within
    3 frames either side (clock lag included), the frames around the branch)."""
    rendered = set(indices)
    window = [(i, ids.get(i)) for i in range(s0 + WINDOWS["branch"][0], s0 + WINDOWS["branch"][1])]
    ep = [(i, k[1]) for i, k in window if k is not None and k[0] == "episode"]
    br = [(i, k[1]) for i, k in window if k is not None and k[0] == ending]
    if not ep or not br:
        return None, None, [[i, _label(k)] for i, k in window if i in rendered]
    last_i, last_clip = ep[-1]
    first_i, first_clip = br[0]
    missing = (299 - last_clip) + first_clip  # clip frames never shown
    between = first_i - last_i - 1  # program frames showing something else (black, another clip)
    repeated = sum(1 for _i, c in ep if c == last_clip) - 1 + sum(1 for _i, c in br if c == first_clip) - 1
    # around the boundary every program slot must show the next clip frame: ep 297..299, ending 0..2
    expected = {last_i - 2 + n: key for n, key in enumerate(
        [("episode", 297), ("episode", 298), ("episode", 299), (ending, 0), (ending, 1), (ending, 2)])}
    anomalies = sum(1 for i, key in expected.items() if i not in rendered or ids.get(i) != key)
    around = [[i, _label(ids.get(i)) if i in rendered else None] for i in range(last_i - 3, last_i + 5)]
    return missing + max(0, between) + repeated, anomalies, around


def _appearance_offset(ids: dict[int, tuple[str, int] | None], thumbs: dict[int, np.ndarray],
                       refs: dict[tuple[str, int], np.ndarray], marker_frame: tuple[str, int],
                       box: Box | None) -> int | None:
    """Program frame where something appears inside ``box`` minus the frame showing ``marker_frame``."""
    at = sorted(i for i, k in ids.items() if k == marker_frame)
    if not at or box is None:
        return None
    x, y, bw, bh = (v // SCALE for v in box)
    for i in sorted(t for t in thumbs if at[0] - 10 <= t <= at[0] + 15):
        key = ids.get(i)
        if key is None or key not in refs:
            continue
        diff = float(np.abs(thumbs[i][y:y + bh, x:x + bw] - refs[key][y:y + bh, x:x + bw]).mean())
        if diff > 8.0:
            return i - at[0]
    return None


def _vote_latency_p95(sends: list[int], totals: list[tuple[int, int]]) -> float | None:
    if not sends:
        return None
    lat: list[float] = []
    for n, sent in enumerate(sorted(sends), 1):
        shown = next((t for t, total in totals if total >= n and t >= sent), None)
        if shown is not None:
            lat.append((shown - sent) / 1e6)
    if not lat:
        return None
    return round(float(np.percentile(lat, 95)), 1)


async def _connected(adapter: Any) -> None:
    await asyncio.wait_for(adapter.connected.wait(), 15.0)


async def _viewers(url: str, args: argparse.Namespace, start_show: Any, finished: threading.Event,
                   fake: Any, platform_net: Any, tokens: list[str]) -> list[int]:
    """Connect every viewer, start the show, vote once each while the poll is open, stay to the end;
    platform viewers type their vote ("1"/"2") in the fake Bilibili room's chat."""
    from websockets.asyncio.client import connect

    from studio.bench._fake_bilibili import command, danmu

    rng = random.Random(args.seed)
    sends: list[int] = []
    done = asyncio.Event()
    joined = 0
    all_joined = asyncio.Event()
    poll_open = asyncio.Event()

    async def chatter(i: int) -> None:
        delay, option = 1.0 + rng.random() * 6.0, 2 if rng.random() < args.bias else 1
        await poll_open.wait()
        await asyncio.sleep(delay)
        frame = command(danmu(500_000 + i, f"chat{i}", str(option)))
        sends.append(time.perf_counter_ns())
        await asyncio.wrap_future(platform_net.submit(fake.push(frame)))

    async def viewer(i: int) -> None:
        nonlocal joined
        delay, option = 1.0 + rng.random() * 6.0, 1 if rng.random() < args.bias else 0
        async with connect(f"{url}?nick=viewer{i}&vt={tokens[i]}", proxy=None) as ws:
            await ws.recv()  # welcome
            joined += 1
            if joined == args.viewers:
                all_joined.set()
            poll: str | None = None
            while poll is None:
                obj = json.loads(await ws.recv())
                if obj.get("type") == "poll_state" and obj.get("state") == "open":
                    poll = obj["poll"]
                    poll_open.set()
            await asyncio.sleep(delay)  # viewers vote during the episode
            sends.append(time.perf_counter_ns())
            await ws.send(json.dumps({"type": "vote", "poll": poll, "option": option}))
            await done.wait()

    async def show() -> None:
        await all_joined.wait()
        await asyncio.to_thread(start_show)
        await asyncio.to_thread(finished.wait, 90.0)
        done.set()

    chats = (chatter(i) for i in range(max(0, args.chat_viewers)))
    await asyncio.wait_for(asyncio.gather(show(), *(viewer(i) for i in range(args.viewers)), *chats), 120.0)
    return sends


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=HELP)
    add_arguments(cli)
    cli.add_argument("--json", action="store_true", help="print JSON (always does)")
    print(json.dumps(run(cli.parse_args()), indent=2, ensure_ascii=False))
