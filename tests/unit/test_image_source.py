"""ImageSource: real PNG/JPEG files written with OpenCV, decoded on the loader thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from scenes.registry import get_type
from scenes.sources.base import View
from scenes.sources.image import ImageSource, load_image

WAIT_S = 20.0


def write(path: Path, img: np.ndarray) -> Path:
    ok, data = cv2.imencode(path.suffix, img)
    assert ok
    data.tofile(str(path))  # tofile: works with non-ASCII paths too
    return path


@pytest.fixture
def open_image() -> Iterator[Callable[[Path | str], ImageSource]]:
    made: list[ImageSource] = []

    def make(path: Path | str) -> ImageSource:
        src = get_type("image").create({"path": str(path)})
        assert isinstance(src, ImageSource)
        made.append(src)
        return src

    yield make
    for src in made:
        src.close()


def loaded(src: ImageSource) -> Any:
    """The picture as the operator sees it (a status card when the file is bad)."""
    assert src.wait_ready(0, WAIT_S)
    src.tick(0)
    return src.frame_for(View.PREVIEW)


def test_rgba_png_is_premultiplied_exactly(tmp_path: Path, open_image: Callable[..., ImageSource]) -> None:
    img = np.zeros((4, 6, 4), np.uint8)
    img[:, :] = (200, 100, 50, 128)  # straight-alpha BGRA
    img[0, 0] = (255, 255, 255, 0)
    img[1, 1] = (10, 20, 30, 255)
    img[2, 2] = (255, 0, 101, 1)
    src = open_image(write(tmp_path / "a.png", img))
    f = loaded(src)
    assert f is not None and not f.opaque and src.error is None
    assert (f.width, f.height) == (6, 4) == src.size
    expected = lambda c, a: (c * a + 127) // 255  # noqa: E731
    assert tuple(f.pixels[3, 3]) == (expected(200, 128), expected(100, 128), expected(50, 128), 128)
    assert tuple(f.pixels[0, 0]) == (0, 0, 0, 0)
    assert tuple(f.pixels[1, 1]) == (10, 20, 30, 255)
    assert tuple(f.pixels[2, 2]) == (1, 0, 0, 1)


def test_fully_opaque_png_is_flagged_opaque(tmp_path: Path, open_image: Callable[..., ImageSource]) -> None:
    img = np.full((3, 3, 4), 255, np.uint8)
    img[:, :, 0] = 7
    f = loaded(open_image(write(tmp_path / "o.png", img)))
    assert f.opaque and tuple(f.pixels[1, 1]) == (7, 255, 255, 255)


def test_gray_png(tmp_path: Path, open_image: Callable[..., ImageSource]) -> None:
    img = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    f = loaded(open_image(write(tmp_path / "g.png", img)))
    assert f.opaque
    assert np.array_equal(f.pixels[:, :, 0], img) and np.array_equal(f.pixels[:, :, 2], img)
    assert (f.pixels[:, :, 3] == 255).all()


def test_16_bit_pngs(tmp_path: Path, open_image: Callable[..., ImageSource]) -> None:
    gray = np.array([[0, 257, 32768, 65535]], np.uint16)
    f = loaded(open_image(write(tmp_path / "g16.png", gray)))
    assert f.pixels.dtype == np.uint8 and f.opaque
    assert list(f.pixels[0, :, 1]) == [0, 1, 128, 255]

    bgra = np.zeros((1, 2, 4), np.uint16)
    bgra[0, 0] = (65535, 0, 65535, 65535)
    bgra[0, 1] = (65535, 65535, 65535, 32896)  # alpha 128 after scaling
    f = loaded(open_image(write(tmp_path / "c16.png", bgra)))
    assert not f.opaque
    assert tuple(f.pixels[0, 0]) == (255, 0, 255, 255)
    assert tuple(f.pixels[0, 1]) == (128, 128, 128, 128)


def test_jpeg_is_opaque(tmp_path: Path, open_image: Callable[..., ImageSource]) -> None:
    img = np.full((16, 16, 3), (0, 0, 255), np.uint8)
    f = loaded(open_image(write(tmp_path / "red.jpg", img)))
    assert f.opaque and f.pixels[8, 8, 2] > 240 and f.pixels[8, 8, 0] < 15


def test_non_ascii_path(tmp_path: Path, open_image: Callable[..., ImageSource]) -> None:
    path = write(tmp_path / "商品 图片 ü.png", np.full((2, 3, 3), 9, np.uint8))
    src = open_image(path)
    f = loaded(src)
    assert src.error is None and (f.width, f.height) == (3, 2)


def test_unsupported_file(tmp_path: Path, open_image: Callable[..., ImageSource]) -> None:
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture")
    src = open_image(path)
    card = loaded(src)
    assert src.error is not None and "notes.png" in src.error and "not a supported image" in src.error
    assert card.opaque and (card.width, card.height) == (1280, 720)
    assert src.frame_for(View.PREVIEW) is card
    assert src.frame() is None and src.frame_for(View.PROGRAM) is None  # never on air


def test_missing_and_empty_files(tmp_path: Path, open_image: Callable[..., ImageSource]) -> None:
    src = open_image(tmp_path / "gone.png")
    assert loaded(src) is not None
    assert src.error is not None and "not found" in src.error and "gone.png" in src.error
    (tmp_path / "empty.png").write_bytes(b"")
    src = open_image(tmp_path / "empty.png")
    loaded(src)
    assert src.error is not None and "empty.png" in src.error
    src = open_image("")
    loaded(src)
    assert src.error == "no image file chosen"


def test_load_image_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        load_image(str(tmp_path / "x.png"))


def test_nothing_shown_until_decoded_and_loader_is_named(
    tmp_path: Path, open_image: Callable[..., ImageSource]
) -> None:
    path = write(tmp_path / "big.png", np.full((64, 64, 3), 5, np.uint8))
    seen: list[str] = []
    gate = threading.Event()
    real = load_image

    def slow_load(p: str) -> Any:
        seen.append(threading.current_thread().name)
        gate.wait(WAIT_S)  # hold the loader so the "not yet" state is observable
        return real(p)

    mp = pytest.MonkeyPatch()
    mp.setattr("scenes.sources.image.load_image", slow_load)
    try:
        src = open_image(path)
        src.tick(0)
        assert src.frame() is None and not src.ready and src.error is None
        gate.set()
        f = loaded(src)
    finally:
        mp.undo()
    assert f is not None and f.pixels[0, 0, 0] == 5
    assert seen == ["image:big.png"]


def test_update_switches_file(tmp_path: Path, open_image: Callable[..., ImageSource]) -> None:
    a = write(tmp_path / "a.png", np.full((2, 2, 3), 1, np.uint8))
    b = write(tmp_path / "b.png", np.full((5, 4, 3), 2, np.uint8))
    src = open_image(a)
    assert loaded(src).pixels[0, 0, 0] == 1
    src.update(get_type("image").validate({"path": str(b)}))
    f = loaded(src)
    assert f.pixels[0, 0, 0] == 2 and src.size == (4, 5)
