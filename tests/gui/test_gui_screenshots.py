"""Screenshots under a real X server (Xvfb): the window in zh_CN and en, checked and kept in
test-artifacts/ for people to look at."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from requirements_check import missing_tool

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
XVFB = "/usr/bin/Xvfb"


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """Start ``Xvfb`` on a free display (it reports the number once it accepts clients); stop it after."""
    if not Path(XVFB).exists():
        missing_tool(f"{XVFB} is absent (Debian package xvfb)")  # fails under CI=true
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([XVFB, "-displayfd", str(write_fd), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 30.0)
        number = os.read(read_fd, 32).decode().strip() if ready else ""
        if not number:
            proc.kill()
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"Xvfb did not start: {err.decode(errors='replace')[-500:]}")
        yield f":{number}"
    finally:
        os.close(read_fd)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _ink_bounds(image: QImage) -> tuple[int, int, int, int] | None:
    """Bounding box of pixels that differ from the top-left (background) pixel."""
    bg = image.pixel(0, 0)
    xs, ys = [], []
    for y in range(image.height()):
        for x in range(image.width()):
            if image.pixel(x, y) != bg:
                xs.append(x)
                ys.append(y)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def test_main_window_screenshots_in_chinese_and_english(xvfb_display, tmp_path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    out = tmp_path / "shots"
    out.mkdir()
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb",
               DRAMA_STUDIO_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("screenshot_app.py")), str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["platform"] == "xcb"
    for png in out.glob("*.png"):
        shutil.copy(png, ARTIFACTS / f"gui_{png.name}")

    for language in ("zh_CN", "en"):
        window = QImage(str(out / f"window_{language}.png"))
        assert window.width() >= 1200 and window.height() >= 700
        program = QImage(str(out / f"program_{language}.png"))
        assert not program.isNull()
        # the program shows the scene: the background colour at its centre, other colours elsewhere
        colours = {program.pixel(x, y) for x in range(0, program.width(), 7) for y in range(0, program.height(), 7)}
        assert len(colours) > 3, f"program view looks blank in {language}"
        centre = program.pixelColor(program.width() // 2, program.height() // 2)
        assert (centre.red(), centre.green(), centre.blue()) != (0, 0, 0)

    a, b = QImage(str(out / "glyph_a.png")), QImage(str(out / "glyph_b.png"))
    assert report["saved"]["glyph_a_text"] != report["saved"]["glyph_b_text"]
    box_a, box_b = _ink_bounds(a), _ink_bounds(b)
    assert box_a is not None and box_b is not None, "Chinese labels rendered nothing"
    crop_a = a.copy(box_a[0], box_a[1], box_a[2] - box_a[0] + 1, box_a[3] - box_a[1] + 1)
    crop_b = b.copy(box_b[0], box_b[1], box_b[2] - box_b[0] + 1, box_b[3] - box_b[1] + 1)
    # missing glyphs draw as identical boxes; real glyphs of different words differ
    assert crop_a != crop_b, "two different Chinese labels look the same: glyphs are missing (boxes)"
    assert box_a[2] - box_a[0] > 10, "Chinese label is too narrow to be four characters"
