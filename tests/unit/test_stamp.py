"""The latency stamp: exact round trips, CRC rejection, and survival through real H.264 and scaling."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from scenes.stamp import (
    CELL,
    COLS,
    ROWS,
    STAMP_HEIGHT,
    STAMP_WIDTH,
    age_ms,
    crc16,
    draw_stamp,
    read_stamp,
    stamp_cells,
    wall_clock_ms,
)

MAX_VALUE = (1 << 44) - 1


def bits_of(data: bytes) -> list[int]:
    return [(byte >> (7 - i)) & 1 for byte in data for i in range(8)]


def test_crc_is_ccitt_false() -> None:
    # the standard check value, so the JS port can verify its CRC the same way
    assert crc16(bits_of(b"123456789")) == 0x29B1


def test_layout_matches_the_documentation() -> None:
    grid = stamp_cells(1 << 43, 0)  # only the value's most significant bit set
    assert grid.shape == (ROWS, COLS)
    assert [bool(v) for v in grid[0]] == [c % 2 == 0 for c in range(COLS)]
    assert [bool(v) for v in grid[:, 0]] == [r % 2 == 0 for r in range(ROWS)]
    assert grid[1, 1] and not grid[1, 2:].any()  # bit 0 is the first data cell
    assert stamp_cells(0, 1)[1 + 59 // 19, 1 + 59 % 19]  # the frame number's LSB is bit 59
    assert (STAMP_WIDTH, STAMP_HEIGHT) == (COLS * CELL, ROWS * CELL)


@pytest.mark.parametrize(
    "value,frame", [(0, 0), (MAX_VALUE, 65535), (1_732_000_000_123, 4242), (12345, 70000)]
)
def test_round_trip_on_raw_pixels(value: int, frame: int) -> None:
    canvas = np.full((360, 640, 4), 90, np.uint8)
    draw_stamp(canvas, value, frame)
    assert (canvas[:STAMP_HEIGHT, :STAMP_WIDTH, 3] == 255).all()
    for image in (canvas, canvas[:, :, :3].copy(), cv2.cvtColor(canvas, cv2.COLOR_BGRA2GRAY)):
        got = read_stamp(image)
        assert got is not None
        assert (got.value, got.frame_number) == (value, frame & 0xFFFF)
        assert got.cell_px == pytest.approx(CELL, rel=0.03)


def test_round_trip_with_bigger_cells_and_in_a_view() -> None:
    canvas = np.zeros((720, 1280, 4), np.uint8)
    draw_stamp(canvas[:200, :600], 987654321, 7, cell=24)  # a writable view of the canvas
    got = read_stamp(canvas)
    assert got is not None and (got.value, got.frame_number) == (987654321, 7)
    assert got.cell_px == pytest.approx(24, rel=0.03)


def test_a_flipped_cell_is_rejected_never_misread() -> None:
    canvas = np.full((200, 400, 3), 128, np.uint8)
    draw_stamp(canvas, 555_555_555, 9)
    for row, col in ((1, 1), (2, 7), (4, 19)):
        damaged = canvas.copy()
        cell = damaged[row * CELL : (row + 1) * CELL, col * CELL : (col + 1) * CELL]
        cell[:] = 255 - cell
        assert read_stamp(damaged) is None


def test_no_stamp_reads_none() -> None:
    rng = np.random.default_rng(3)
    assert read_stamp(np.zeros((360, 640), np.uint8)) is None
    assert read_stamp(np.full((360, 640, 3), 255, np.uint8)) is None
    for _ in range(20):
        assert read_stamp(rng.integers(0, 256, (360, 640), dtype=np.uint8)) is None
        blocks = rng.integers(0, 2, (23, 40), dtype=np.uint8) * 255
        assert read_stamp(cv2.resize(blocks, (640, 360), interpolation=cv2.INTER_NEAREST)) is None
    assert read_stamp(np.zeros((20, 20), np.uint8)) is None  # too small to hold a stamp


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="outside"):
        draw_stamp(np.zeros((100, 400, 4), np.uint8), 1 << 44, 0)
    with pytest.raises(ValueError, match="smaller than the stamp"):
        draw_stamp(np.zeros((50, 400, 4), np.uint8), 1, 0)
    with pytest.raises(ValueError, match="uint8"):
        draw_stamp(np.zeros((100, 400), np.uint8), 1, 0)
    with pytest.raises(ValueError, match="gray, BGR or BGRA"):
        read_stamp(np.zeros((100, 400, 2), np.uint8))


def test_wall_clock_and_age_wrap() -> None:
    now = wall_clock_ms()
    assert 0 <= now < 1 << 44
    assert age_ms(now - 40 if now >= 40 else now, now) in (0, 40)
    assert age_ms(MAX_VALUE, 9) == 10  # across the 2**44 wrap


def _busy_picture(rng: np.random.Generator, i: int) -> np.ndarray:
    # moving detail everywhere, so the encoder has to spend its bits and blur what it can
    blocks = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    img = cv2.resize(blocks, (1280, 720), interpolation=cv2.INTER_LINEAR)
    return np.roll(img, i * 9, axis=1)


def test_survives_h264_at_3_mbps_and_downscaling() -> None:
    fps, n = 30, 36
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = 1280, 720, "yuv420p"
    enc.time_base = Fraction(1, fps)
    enc.framerate = Fraction(fps, 1)
    enc.bit_rate = 3_000_000
    enc.options = {"preset": "veryfast", "tune": "zerolatency", "rc-lookahead": "0"}
    dec = av.CodecContext.create("h264", "r")
    rng = np.random.default_rng(11)
    sent: list[tuple[int, int]] = []
    decoded: list[av.VideoFrame] = []
    total_bytes = 0
    for i in range(n):
        img = _busy_picture(rng, i)
        value = 1_732_000_000_000 + i * 33 + (i * 7919) % 1000
        draw_stamp(img, value, 60000 + i)  # frame numbers wrap past 65535 inside the run
        sent.append((value, (60000 + i) & 0xFFFF))
        frame = av.VideoFrame.from_ndarray(img, format="bgr24")
        frame.pts = i
        for packet in enc.encode(frame):
            total_bytes += packet.size
            decoded += dec.decode(packet)
    for packet in enc.encode(None):
        total_bytes += packet.size
        decoded += dec.decode(packet)
    decoded += dec.decode(None)
    assert len(decoded) == n
    kbps = total_bytes * 8 * fps / n / 1000
    assert 1500 < kbps < 6000, f"the encode was meant to be ~3 Mbps, got {kbps:.0f} kbps"

    exact = {"y": 0, "bgr": 0, "small": 0}
    for frame, want in zip(decoded, sent, strict=True):
        y = frame.to_ndarray(format="gray")
        bgr = frame.to_ndarray(format="bgr24")
        small = cv2.resize(bgr, (640, 360), interpolation=cv2.INTER_AREA)
        for name, image in (("y", y), ("bgr", bgr), ("small", small)):
            got = read_stamp(image)
            if got is not None:
                assert (got.value, got.frame_number) == want, f"{name}: wrong value read"
                exact[name] += 1
    for name, count in exact.items():
        assert count >= 0.95 * n, f"{name}: only {count}/{n} stamps read"
