"""Chroma key on generated pictures: a shaded, noisy green (or blue) backdrop goes, a skin-tone
foreground stays, and the result is valid premultiplied alpha."""

from __future__ import annotations

import numpy as np
import pytest

from scenes.filters.registry import get_filter_type, make_config
from scenes.frame import VideoFrame

SKIN_BGR = (140, 172, 224)  # a light skin tone (R 224, G 172, B 140)


def backdrop_with_host(screen_bgr: tuple[int, int, int], w: int = 320, h: int = 180,
                       seed: int = 7) -> tuple[VideoFrame, np.ndarray]:
    """A lit backdrop (brighter in the middle, sensor noise) with a skin-tone ellipse; the mask says
    where the host is."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    light = 0.75 + 0.25 * np.cos((xx - w / 2) / w * np.pi)  # uneven lighting across the screen
    px = np.empty((h, w, 4), np.uint8)
    base = np.array(screen_bgr, np.float64)[None, None, :] * light[..., None]
    px[..., :3] = np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    px[..., 3] = 255
    host = ((xx - w / 2) / (w / 5)) ** 2 + ((yy - h / 2) / (h / 3)) ** 2 <= 1.0
    skin = np.clip(np.array(SKIN_BGR)[None, :] + rng.normal(0, 5, (int(host.sum()), 3)), 0, 255)
    px[host, :3] = skin.astype(np.uint8)
    return VideoFrame(px, opaque=True), host


def key(frame: VideoFrame, **settings: object) -> np.ndarray:
    cfg = make_config("chroma_key", settings)
    out = get_filter_type("chroma_key").factory(cfg.settings).apply(frame)
    assert out.pixels.shape == frame.pixels.shape and not out.opaque
    return out.pixels


def _inner(mask: np.ndarray) -> np.ndarray:
    """The mask shrunk by 2 pixels: the key's soft edge is not judged."""
    import cv2

    return cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)


@pytest.mark.parametrize("size", [(320, 180), (1280, 720)], ids=["full-res-matte", "half-res-matte"])
@pytest.mark.parametrize(("screen", "preset"), [((30, 200, 40), "green"), ((200, 60, 20), "blue")])
def test_backdrop_removed_and_skin_kept(screen: tuple[int, int, int], preset: str, size: tuple[int, int]) -> None:
    frame, host = backdrop_with_host(screen, *size)
    out = key(frame, key=preset)
    alpha = out[..., 3]
    backdrop = _inner(~host)
    assert np.mean(alpha[backdrop] <= 8) > 0.99, "the backdrop is keyed out"
    assert alpha[backdrop].max() <= 64
    fg = _inner(host)
    assert np.mean(alpha[fg] == 255) > 0.99, "the host stays opaque"
    # kept colour: skin is not touched by spill reduction (green is not its strongest channel)
    diff = np.abs(out[fg][:, :3].astype(int) - frame.pixels[fg][:, :3].astype(int))
    assert np.percentile(diff, 99) <= 2


def test_custom_colour_key() -> None:
    frame, host = backdrop_with_host((200, 180, 20))  # teal (B 200, G 180, R 20)
    out = key(frame, key="custom", color="#14B4C8")
    assert np.mean(out[..., 3][_inner(~host)] <= 8) > 0.99
    assert np.mean(out[..., 3][_inner(host)] == 255) > 0.99


def test_result_is_valid_premultiplied_alpha() -> None:
    frame, _ = backdrop_with_host((30, 200, 40))
    out = key(frame, smoothness=0.3)  # a wide soft edge: many partial alphas
    assert (out[..., :3] <= out[..., 3:4]).all(), "premultiplied colour never exceeds alpha"
    assert ((out[..., 3] > 0) & (out[..., 3] < 255)).any()


def test_spill_reduction_takes_green_off_the_edges() -> None:
    px = np.zeros((4, 4, 4), np.uint8)
    px[:] = (120, 200, 170, 255)  # a greenish-lit skin edge pixel, far enough from the key to stay
    frame = VideoFrame(px, opaque=True)
    without = key(frame, spill=0.0, similarity=0.05, smoothness=0.01)
    full = key(frame, spill=1.0, similarity=0.05, smoothness=0.01)
    assert without[0, 0, 1] == 200
    assert full[0, 0, 1] <= max(full[0, 0, 0], full[0, 0, 2])


def test_keys_a_premultiplied_translucent_source_on_straight_colour() -> None:
    # a half-transparent green: premultiplied it is (15, 100, 20, 128); keyed, it must vanish
    px = np.zeros((8, 8, 4), np.uint8)
    px[:] = (15, 100, 20, 128)
    out = key(VideoFrame(px, opaque=False))
    assert out[..., 3].max() <= 8


def test_outputs_stay_valid_while_the_bank_can_still_hand_them_out() -> None:
    """The key writes into a ring of buffers: a static picture (a preview's status card) alternating
    with a live camera in one bank must always come back with its own pixels."""
    from scenes.filters.chain import FilterBank

    cam, _ = backdrop_with_host((30, 200, 40))
    card, _ = backdrop_with_host((200, 60, 20), seed=9)
    bank = FilterBank()
    cfg = (make_config("chroma_key"),)
    card_out = bank.apply("cam", cfg, card).pixels.copy()
    for _ in range(12):
        bank.apply("cam", cfg, VideoFrame(cam.pixels, True))  # a new camera frame every tick
        assert np.array_equal(bank.apply("cam", cfg, card).pixels, card_out)
