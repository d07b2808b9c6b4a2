"""LUT filter and .cube files: identity round-trips, known grades, clear errors for broken files,
and a broken LUT never stops the picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scenes.filters.chain import FilterBank
from scenes.filters.cube import identity_cube_text, load_cube, parse_cube
from scenes.filters.registry import get_filter_type, make_config
from scenes.frame import VideoFrame, premultiply


def run_lut(path: Path, frame: VideoFrame, amount: float = 1.0) -> np.ndarray:
    cfg = make_config("lut", {"path": str(path), "amount": amount})
    return get_filter_type("lut").factory(cfg.settings).apply(frame).pixels


def random_frame(opaque: bool = True, seed: int = 1) -> VideoFrame:
    rng = np.random.default_rng(seed)
    px = rng.integers(0, 256, (64, 96, 4), dtype=np.uint8)
    if opaque:
        px[..., 3] = 255
        return VideoFrame(px, opaque=True)
    return VideoFrame(premultiply(px), opaque=False)


@pytest.mark.parametrize("size", [2, 17, 33])
def test_identity_3d_lut_round_trips(tmp_path: Path, size: int) -> None:
    path = tmp_path / "identity.cube"
    path.write_text(identity_cube_text(size))
    frame = random_frame()
    out = run_lut(path, frame)
    assert np.abs(out.astype(int) - frame.pixels.astype(int)).max() <= 1


def test_identity_on_translucent_pixels_stays_premultiplied(tmp_path: Path) -> None:
    path = tmp_path / "identity.cube"
    path.write_text(identity_cube_text(33))
    frame = random_frame(opaque=False)
    out = run_lut(path, frame)
    assert (out[..., :3] <= out[..., 3:4]).all()
    assert (out[..., 3] == frame.pixels[..., 3]).all()
    # un-premultiply/premultiply costs at most a couple of levels on faint pixels
    assert np.abs(out.astype(int) - frame.pixels.astype(int)).max() <= 2


def test_invert_lut_is_trilinear_exact_on_a_linear_grade(tmp_path: Path) -> None:
    steps = [i / 4 for i in range(5)]
    rows = [f"{1 - r} {1 - g} {1 - b}" for b in steps for g in steps for r in steps]
    path = tmp_path / "invert.cube"
    path.write_text("LUT_3D_SIZE 5\n" + "\n".join(rows) + "\n")
    frame = random_frame()
    out = run_lut(path, frame)
    assert np.abs(out[..., :3].astype(int) - (255 - frame.pixels[..., :3].astype(int))).max() <= 1


def test_channel_order_red_fastest(tmp_path: Path) -> None:
    # a LUT that outputs (r, 0, 0): only the red input matters, in the red output channel
    steps = [i / 2 for i in range(3)]
    rows = [f"{r} 0 0" for b in steps for g in steps for r in steps]
    path = tmp_path / "red.cube"
    path.write_text("LUT_3D_SIZE 3\n" + "\n".join(rows))
    px = np.zeros((1, 1, 4), np.uint8)
    px[:] = (10, 20, 255, 255)  # B, G, R
    out = run_lut(path, VideoFrame(px, opaque=True))
    assert tuple(out[0, 0]) == (0, 0, 255, 255)


def test_1d_lut(tmp_path: Path) -> None:
    path = tmp_path / "curve.cube"
    path.write_text("LUT_1D_SIZE 2\n0 0 0\n1 1 1\n")
    frame = random_frame()
    assert np.abs(run_lut(path, frame).astype(int) - frame.pixels.astype(int)).max() <= 1


@pytest.mark.parametrize(("text", "message"), [
    ("LUT_3D_SIZE 2\n0 0 0\n", "expected 8 table rows"),
    ("LUT_3D_SIZE 2\n0 0 zero\n", "line 2: not a number"),
    ("hello world\n", "line 1: unknown keyword"),
    ("0 0 0\n1 1 1\n", "no LUT_3D_SIZE"),
    ("LUT_3D_SIZE 1000\n", "outside 2..256"),
    ("LUT_3D_SIZE 2\n" + "0 0\n" * 8, "line 2: expected three numbers"),
])
def test_bad_cube_file_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.cube"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        load_cube(path)
    assert "bad.cube" in str(info.value)


def test_missing_cube_file() -> None:
    with pytest.raises(ValueError, match="cannot open the LUT"):
        load_cube("/nonexistent/grade.cube")


def test_bad_cube_in_a_chain_leaves_the_picture_and_runs_the_rest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cube"
    bad.write_text("LUT_3D_SIZE 2\n0 0 0\n")
    bank = FilterBank()
    chain = (make_config("lut", {"path": str(bad)}), make_config("crop_pad", {"crop_left": 10}))
    frame = random_frame()
    out = bank.apply("cam", chain, frame)
    assert np.array_equal(out.pixels, frame.pixels[:, 10:])  # LUT skipped, crop still applied
    errors = bank.errors("cam")
    assert len(errors) == 1 and "bad.cube" in errors[0] and "expected 8 table rows" in errors[0]


def test_domain_max(tmp_path: Path) -> None:
    lut = parse_cube("DOMAIN_MAX 2 2 2\nLUT_3D_SIZE 2\n" + "0 0 0\n" * 8)
    assert lut.domain_max == (2.0, 2.0, 2.0)
