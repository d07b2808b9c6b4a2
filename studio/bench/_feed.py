"""Bullet comments for the benchmarks, arriving as a live audience sends them.

Messages go through the overlay's public ``push`` (what ``studio.interaction.overlays.OverlayBinding``
calls for every visible danmaku), at a steady rate on the program clock, so the overlay admits,
rasterises (a bounded number per tick), lays out and retires them exactly as on air. How many end
up on screen is the overlay's own doing; benchmarks report it.
"""

from __future__ import annotations

from dataclasses import dataclass

from scenes.sources.danmaku_overlay import DanmakuOverlaySource

# Chat as it reads on a live-commerce drama: short cheers, questions, emoji, the odd long line.
TEXTS = (
    "666", "哈哈哈哈", "主播好", "好看😍", "冲冲冲", "来了来了", "🔥🔥🔥", "前排", "这个多少钱", "gg",
    "这个口红颜色好好看啊", "主播再讲讲价格吧", "已下单!", "她应该原谅他吗", "结局B!!", "求链接",
    "男主好帅", "太虐了😭", "上车上车", "有没有优惠券", "第二集什么时候更", "支持国货", "买买买",
    "这也太真实了吧哈哈哈", "弹幕护体", "👍👍", "前方高能", "已三连", "主播声音好好听", "还有货吗",
)  # fmt: skip
COLOURS = ("#FFFFFF", "#FFFFFF", "#FFFFFF", "#FFE14D", "#7FD7FF", "#FF8FB1")


@dataclass
class DanmakuFeed:
    """``rate`` messages per second of program time; every ``fixed_every``-th one is a top or
    bottom comment (as viewers pick them), the rest scroll."""

    overlay: DanmakuOverlaySource
    rate: float
    fixed_every: int = 12
    sent: int = 0

    def feed_until(self, pts_ns: int) -> None:
        """Push every message due by ``pts_ns`` (call once per frame, before the tick)."""
        due = int(self.rate * pts_ns / 1_000_000_000)
        while self.sent < due:
            k = self.sent
            mode = "scroll"
            if self.fixed_every and k % self.fixed_every == self.fixed_every - 1:
                mode = "top" if (k // self.fixed_every) % 2 else "bottom"
            text = TEXTS[k % len(TEXTS)] + ("" if k % 4 else f" {k}")
            self.overlay.push(f"feed-{k}", text, COLOURS[k % len(COLOURS)], mode)
            self.sent += 1


def rate_for(on_screen: int, duration_s: float) -> float:
    """The arrival rate that keeps about ``on_screen`` comments on screen for ``duration_s`` each
    (Little's law), with a fifth more so the lanes, not the feed, are the limit."""
    return 1.2 * on_screen / duration_s
