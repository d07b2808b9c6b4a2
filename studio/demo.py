"""The built-in demo show, generated locally on first run (no download).

Three short drama clips with Chinese subtitles and a sound track (an episode and two endings),
product images with alpha, and a collection with the scenes "Drama", "Live" and "Drama + Host".
Generation is deterministic and cached: a version file says which demo generator wrote the folder.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from scenes.model import Scene, SceneCollection, SceneItem, VideoFormat
from scenes.text_raster import TextStyle, ensure_gui_app, render_text
from studio.catalogue.demo import ensure_demo_catalogue
from studio.clip_writer import write_clip
from studio.collections import save_collection
from studio.paths import demo_dir

log = logging.getLogger(__name__)

DEMO_VERSION = 5
CLIP_FPS = 30
SAMPLE_RATE = 48_000


@dataclass(frozen=True)
class ClipPlan:
    file: str
    title: str
    seconds: float
    palette: tuple[tuple[int, int, int], tuple[int, int, int]]  # BGR gradient top, bottom
    subtitles: tuple[tuple[float, float, str], ...]  # (start s, end s, text)
    melody: tuple[float, ...]  # note frequencies (Hz), one per beat


EPISODE = ClipPlan(
    "episode_01.mp4", "第1集 · 相遇", 10.0, ((90, 40, 30), (30, 20, 60)),
    ((0.3, 3.0, "林晓：这支口红……好像是限量款？"),
     (3.2, 6.2, "店员：今天直播间下单，立减五十！"),
     (6.4, 9.8, "林晓心想：她应该买吗？")),
    (440.0, 494.0, 523.3, 587.3, 523.3, 494.0, 440.0, 392.0),
)
ENDING_A = ClipPlan(
    "ending_a_buy.mp4", "结局A · 买下了", 6.0, ((40, 90, 40), (20, 50, 90)),
    ((0.3, 3.0, "林晓：就它了！"), (3.2, 5.8, "弹幕：好看！链接在哪里？")),
    (523.3, 659.3, 784.0, 1046.5),
)
ENDING_B = ClipPlan(
    "ending_b_leave.mp4", "结局B · 转身离开", 6.0, ((70, 60, 60), (40, 30, 30)),
    ((0.3, 3.0, "林晓：还是再等等吧……"), (3.2, 5.8, "店员：库存只剩最后三支了！")),
    (392.0, 349.2, 329.6, 293.7),
)
CLIPS = (EPISODE, ENDING_A, ENDING_B)


@dataclass(frozen=True)
class DemoAssets:
    folder: Path
    collection: Path
    clips: dict[str, Path]
    products: dict[str, Path]

    @property
    def camera_standby(self) -> Path:
        """What the program shows in the camera's place while there is no camera (its fallback image)."""
        return self.folder / "camera_standby.png"


def ensure_demo(size: tuple[int, int] = (1920, 1080), force: bool = False,
                progress: Callable[[str], None] | None = None) -> DemoAssets:
    """Create the demo assets if they are missing or from an older generator; return their paths."""
    folder = demo_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "demo-version.json"
    wanted = {"version": DEMO_VERSION, "size": list(size)}
    assets = DemoAssets(
        folder, folder / "demo-collection.json",
        {c.file: folder / c.file for c in CLIPS},
        {"lipstick": folder / "product_lipstick.png", "bag": folder / "product_bag.png"},
    )
    # the products on the demo's cards and moments, with their FAQ (written once, then the user's)
    ensure_demo_catalogue(folder, assets.products, force)
    current = json.loads(stamp.read_text()) if stamp.exists() else None
    complete = all(p.exists() for p in [assets.collection, assets.camera_standby, *assets.clips.values(),
                                         *assets.products.values()])
    if not force and current == wanted and complete:
        return assets
    ensure_gui_app()
    for plan in CLIPS:
        if progress:
            progress(f"generating demo clip {plan.file}")
        write_demo_clip(assets.clips[plan.file], plan, size)
    _write_lipstick(assets.products["lipstick"])
    _write_bag(assets.products["bag"])
    _write_camera_standby(assets.camera_standby, size)
    save_collection(demo_collection(assets, size), assets.collection)
    stamp.write_text(json.dumps(wanted))
    return assets


# ---- clips ------------------------------------------------------------------------------------


def write_demo_clip(path: Path, plan: ClipPlan, size: tuple[int, int]) -> None:
    """Encode one demo clip (H.264 + AAC) with drawn scenery, moving figures and subtitles."""
    width, height = size
    scale = height / 1080
    sub_style = TextStyle(size_px=int(54 * scale), bold=True, color="#FFFFFFFF",
                          outline_width=4 * scale, outline_color="#E0000000", align="center")
    title_style = TextStyle(size_px=int(40 * scale), color="#FFFFE08A", background="#80000000",
                            padding=int(14 * scale), corner_radius=10 * scale)
    subs = [(a, b, render_text(sub_style, text).pixels) for a, b, text in plan.subtitles]
    title = render_text(title_style, plan.title).pixels
    background = _gradient(width, height, *plan.palette)
    def pictures() -> Iterator[np.ndarray]:
        for i in range(int(plan.seconds * CLIP_FPS)):
            t = i / CLIP_FPS
            img = background.copy()
            _draw_figures(img, t, plan.seconds, scale)
            _over(img, title, int(40 * scale), int(40 * scale))
            for a, b, px in subs:
                if a <= t < b:
                    _over(img, px, (width - px.shape[1]) // 2, height - px.shape[0] - int(70 * scale))
            yield img

    write_clip(path, pictures(), CLIP_FPS, size, _melody(plan))


def _gradient(w: int, h: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    col = np.array(top, np.float32) * (1 - ramp) + np.array(bottom, np.float32) * ramp
    return np.repeat(col[:, None, :], w, axis=1).astype(np.uint8)


def _draw_figures(img: np.ndarray, t: float, duration: float, scale: float) -> None:
    h, w = img.shape[:2]
    floor = int(h * 0.78)
    cv2.rectangle(img, (0, floor), (w, h), (50, 45, 40), -1)
    # a shop counter and two figures that walk towards each other
    cv2.rectangle(img, (int(w * 0.62), int(h * 0.55)), (int(w * 0.95), floor), (60, 90, 140), -1)
    progress = min(1.0, t / max(duration * 0.6, 0.1))
    for x_frac, colour in ((0.15 + 0.25 * progress, (180, 140, 250)), (0.8 - 0.05 * progress, (230, 200, 120))):
        cx = int(w * x_frac)
        bob = int(6 * scale * math.sin(t * 6 + x_frac * 10))
        cv2.circle(img, (cx, floor - int(260 * scale) + bob), int(45 * scale), (190, 210, 240), -1, cv2.LINE_AA)
        cv2.ellipse(img, (cx, floor - int(110 * scale) + bob), (int(70 * scale), int(130 * scale)), 0, 0, 360,
                    colour, -1, cv2.LINE_AA)
    # the product on the counter glints every second
    glint = 0.5 + 0.5 * math.sin(t * 2 * math.pi)
    cv2.rectangle(img, (int(w * 0.88), int(h * 0.47)), (int(w * 0.91), int(h * 0.55)),
                  (40, 30, int(160 + 90 * glint)), -1)


def _over(img: np.ndarray, premult: np.ndarray, x: int, y: int) -> None:
    """Blend a premultiplied BGRA picture onto a BGR image in place (clipped)."""
    h, w = premult.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, img.shape[1]), min(y + h, img.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    src = premult[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)
    dst = img[y0:y1, x0:x1].astype(np.float32)
    inv = 1.0 - src[..., 3:4] / 255.0
    img[y0:y1, x0:x1] = np.clip(src[..., :3] + dst * inv, 0, 255).astype(np.uint8)


def _melody(plan: ClipPlan) -> np.ndarray:
    n = int(plan.seconds * SAMPLE_RATE)
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    beat = plan.seconds / len(plan.melody)
    freqs = np.array(plan.melody)[np.minimum((t / beat).astype(int), len(plan.melody) - 1)]
    phase = 2 * np.pi * np.cumsum(freqs) / SAMPLE_RATE
    envelope = np.exp(-3.0 * np.mod(t, beat))
    mono = 0.25 * np.sin(phase) * envelope + 0.05 * np.sin(phase / 2)
    return np.stack([mono, mono * 0.9], axis=1).astype(np.float32)


# ---- product images -----------------------------------------------------------------------------


def _write_png(path: Path, bgra: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", bgra)
    if not ok:
        raise OSError(f"could not encode {path}")
    path.write_bytes(data.tobytes())


def _write_lipstick(path: Path) -> None:
    img = np.zeros((400, 400, 4), np.uint8)
    cv2.rectangle(img, (150, 200), (250, 370), (40, 40, 40, 255), -1, cv2.LINE_AA)
    cv2.rectangle(img, (160, 120), (240, 200), (30, 170, 210, 255), -1, cv2.LINE_AA)
    pts = np.array([[165, 120], [235, 120], [235, 70], [165, 40]], np.int32)
    cv2.fillPoly(img, [pts], (60, 20, 200, 255), cv2.LINE_AA)
    _write_png(path, img)


def _write_bag(path: Path) -> None:
    img = np.zeros((400, 400, 4), np.uint8)
    cv2.ellipse(img, (200, 150), (90, 80), 0, 180, 360, (60, 90, 150, 255), 14, cv2.LINE_AA)
    cv2.rectangle(img, (80, 150), (320, 360), (70, 120, 200, 255), -1, cv2.LINE_AA)
    cv2.rectangle(img, (180, 200), (220, 240), (40, 200, 240, 255), -1, cv2.LINE_AA)
    _write_png(path, img)


def _write_camera_standby(path: Path, size: tuple[int, int]) -> None:
    # a machine without a camera shows this on air, never the preview's "NO SIGNAL" card
    w, h = size[0] // 2, size[1] // 2
    img = _gradient(w, h, (70, 40, 60), (30, 20, 35))
    style = TextStyle(size_px=int(48 * h / 540), bold=True, color="#FFFFFFFF", align="center")
    text = render_text(style, "主播马上回来\nThe host is back in a moment").pixels
    _over(img, text, (w - text.shape[1]) // 2, (h - text.shape[0]) // 2)
    _write_png(path, cv2.cvtColor(img, cv2.COLOR_BGR2BGRA))


# ---- the collection -----------------------------------------------------------------------------


def demo_collection(assets: DemoAssets, size: tuple[int, int] = (1920, 1080)) -> SceneCollection:
    w, h = size
    col = SceneCollection("演示 Demo", VideoFormat(w, h, 30))
    k = h / 1080
    col.add_source("剧集 Episode", "media", {"path": str(assets.clips[EPISODE.file]), "loop": True})
    col.add_source("摄像头 Camera", "camera", {"device": "0", "width": 1280, "height": 720,
                                             "fallback_image": str(assets.camera_standby)})
    col.add_source("商品卡 Product", "product_card", {
        "product_id": "lipstick-666",  # in the demo catalogue (studio/catalogue/demo.py)
        "image": str(assets.products["lipstick"]), "title": "丝绒哑光口红 #666 限量礼盒",
        "price": 129.0, "original_price": 199.0, "countdown_seconds": 300,
    })
    col.add_source("字幕条 Lower third", "text", {
        "text": "主播小林 · 走出剧情来带货", "font_size": int(44 * k), "color": "#FFFFFFFF",
        "background": "#C0D0306A",
    })
    # the audience's layer: bullet comments, the poll's live result and likes/gifts
    col.add_source("弹幕 Danmaku", "danmaku_overlay", {"width": w, "height": h, "font_size": int(40 * k)})
    col.add_source("投票 Poll", "poll_overlay", {})
    col.add_source("点赞 Reactions", "reactions_overlay", {})
    card_w = col.source("商品卡 Product").settings.get("width", 560)

    def audience(scene: Scene) -> None:
        scene.add_item(SceneItem("投票 Poll", x=40 * k, y=300 * k, scale_x=k, scale_y=k))
        scene.add_item(SceneItem("点赞 Reactions", x=40 * k, y=140 * k, scale_x=k, scale_y=k))
        scene.add_item(SceneItem("弹幕 Danmaku"))

    drama = col.add_scene("Drama")
    drama.add_item(SceneItem("剧集 Episode"))
    # top right: the subtitles own the bottom of the picture
    drama.add_item(SceneItem("商品卡 Product", x=w - card_w * k - 40 * k, y=40 * k, scale_x=k, scale_y=k))
    audience(drama)
    live = col.add_scene("Live")
    live.add_item(SceneItem("摄像头 Camera", scale_x=w / 1280, scale_y=h / 720))
    live.add_item(SceneItem("商品卡 Product", x=w - card_w * k - 40 * k, y=h - 300 * k, scale_x=k, scale_y=k))
    live.add_item(SceneItem("字幕条 Lower third", x=60 * k, y=h - 160 * k))
    audience(live)
    both = col.add_scene("Drama + Host")
    both.add_item(SceneItem("剧集 Episode"))
    both.add_item(SceneItem("摄像头 Camera", x=w - 640 * k - 40 * k, y=40 * k,
                            scale_x=640 * k / 1280, scale_y=360 * k / 720))
    both.add_item(SceneItem("弹幕 Danmaku"))
    col.program_scene = "Drama"
    col.preview_scene = "Live"
    return col
