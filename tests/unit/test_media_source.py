"""MediaSource: real clips encoded with PyAV, decoded by the source's worker, released by the clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from scenes.audio import SAMPLE_RATE
from scenes.registry import get_type
from scenes.sources.base import View
from scenes.sources.media import MediaSource

NS = 1_000_000_000
FPS = 25
FRAME_NS = NS // FPS
W, H = 320, 240
BITS = 8
WAIT_S = 20.0  # generous: the machine is shared; nothing here asserts a duration


def _stamp(i: int) -> np.ndarray:
    """A frame whose number is written as 8 black/white blocks (robust to H.264 loss)."""
    img = np.full((H, W, 3), 60, np.uint8)
    block = W // BITS
    for b in range(BITS):
        if i >> b & 1:
            img[0:block, b * block : (b + 1) * block] = 255
        else:
            img[0:block, b * block : (b + 1) * block] = 0
    return img


def frame_number(px: np.ndarray) -> int:
    h, w = px.shape[:2]
    block = w // BITS
    y = block * h // H // 2 if h != H else block // 2
    return sum(1 << b for b in range(BITS) if px[y, b * block + block // 2, 1] > 128)


def make_clip(
    path: Path, frames: int = 50, audio: bool = True, fmt: str | None = None, audio_frames: int | None = None
) -> Path:
    """A 320x240 25 fps H.264 (+ AAC 48 kHz stereo sine) clip with GOPs and B-frames.

    ``audio_frames``: stop the audio after that many video frames' worth (a clip whose sound ends early).
    """
    audio_until = (frames if audio_frames is None else audio_frames) * SAMPLE_RATE // FPS
    out = av.open(str(path), "w", format=fmt)
    v = out.add_stream("libx264", rate=FPS)
    v.width, v.height, v.pix_fmt = W, H, "yuv420p"
    v.options = {"g": "10", "bf": "2", "preset": "ultrafast", "crf": "30"}
    a = None
    if audio:
        a = out.add_stream("aac", rate=SAMPLE_RATE)
        a.layout = "stereo"
    written = 0
    for i in range(frames):
        f = av.VideoFrame.from_ndarray(_stamp(i), format="rgb24")
        f.pts = i
        for p in v.encode(f):
            out.mux(p)
        while a is not None and written < min((i + 1) * SAMPLE_RATE // FPS, audio_until):
            t = (np.arange(1024) + written) / SAMPLE_RATE
            s = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            af = av.AudioFrame.from_ndarray(np.stack([s, s]), format="fltp", layout="stereo")
            af.sample_rate = SAMPLE_RATE
            af.pts = written
            written += 1024
            for p in a.encode(af):
                out.mux(p)
    for p in v.encode():
        out.mux(p)
    if a is not None:
        for p in a.encode():
            out.mux(p)
    out.close()
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4")


@pytest.fixture
def open_source() -> Iterator[Callable[..., MediaSource]]:
    made: list[MediaSource] = []

    def make(**settings: Any) -> MediaSource:
        src = get_type("media").create(settings)
        assert isinstance(src, MediaSource)
        made.append(src)
        return src

    yield make
    for src in made:
        src.close()


def shown(src: MediaSource, clock_ns: int) -> int:
    """Offline step: wait for the frame, tick, read its number."""
    assert src.wait_ready(clock_ns, WAIT_S)
    src.tick(clock_ns)
    f = src.frame()
    assert f is not None and f.opaque
    return frame_number(f.pixels)


def test_type_is_registered_with_schema() -> None:
    t = get_type("media")
    assert t.version == 2
    assert t.defaults() == {
        "path": "", "loop": True, "in_point": 0.0, "out_point": 0.0, "autoplay": True, "width": 0, "height": 0,
        "fallback_image": "",
    }
    # a version-1 file (before the fallback image) still loads
    assert t.upgrade(1, {"path": "a.mp4"}) == {"path": "a.mp4", "fallback_image": ""}
    with pytest.raises(ValueError, match="In point"):
        t.validate({"in_point": -1.0})
    with pytest.raises(ValueError, match="out point"):
        t.create({"path": "x.mp4", "in_point": 2.0, "out_point": 1.0})


def test_plays_every_frame_in_order(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), loop=False)
    numbers = [shown(src, n * FRAME_NS) for n in range(50)]
    assert numbers == list(range(50))
    f = src.frame()
    assert f is not None and (f.width, f.height) == (W, H) and f.pts_ns == 49 * FRAME_NS
    assert src.size == (W, H)
    assert src.duration == pytest.approx(2.0, abs=0.05)
    assert src.error is None and src.decode_errors == 0


def test_offline_release_is_deterministic_at_another_rate(
    clip: Path, open_source: Callable[..., MediaSource]
) -> None:
    clocks = [n * NS // 30 for n in range(55)]  # 30 fps program over a 25 fps clip
    expected = [c * FPS // NS for c in clocks]  # the frame with the largest pts <= t
    runs = []
    for _ in range(2):
        src = open_source(path=str(clip), loop=False)
        runs.append([shown(src, 5 * NS + c) for c in clocks])  # clock origin is arbitrary
        src.close()
    assert runs[0] == runs[1] == expected


def test_loops_back_to_the_first_frame(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), loop=True)
    numbers = [shown(src, n * FRAME_NS) for n in range(120)]
    assert numbers == [n % 50 for n in range(120)]
    assert not src.ended and src.playing
    assert src.position == pytest.approx((119 % 50) * 0.04, abs=1e-6)


def test_stops_on_the_last_frame_without_loop(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), loop=False)
    for n in range(60):
        shown(src, n * FRAME_NS)
    assert src.ended and not src.playing
    assert frame_number(src.frame().pixels) == 49  # type: ignore[union-attr]
    assert src.position == pytest.approx(2.0, abs=0.05)
    # play() after the end starts again from the in point
    src.play()
    assert shown(src, 60 * FRAME_NS) == 0
    assert shown(src, 61 * FRAME_NS) == 1


def test_in_and_out_points(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), loop=True, in_point=0.4, out_point=1.2)
    numbers = [shown(src, n * FRAME_NS) for n in range(45)]
    assert numbers == [10 + n % 20 for n in range(45)]
    assert src.duration == pytest.approx(1.2)


@pytest.mark.parametrize(("target", "expected"), [(1.23, 30), (1.0, 25), (0.5, 12), (0.0, 0), (1.96, 49)])
def test_seek_is_frame_accurate(
    clip: Path, open_source: Callable[..., MediaSource], target: float, expected: int
) -> None:
    src = open_source(path=str(clip), autoplay=False)
    src.seek(target)
    assert shown(src, 0) == expected
    assert src.position == pytest.approx(target)
    assert not src.playing


def test_seek_while_playing_continues_from_target(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), loop=False)
    assert [shown(src, n * FRAME_NS) for n in range(5)] == [0, 1, 2, 3, 4]
    src.seek(1.6)
    assert [shown(src, n * FRAME_NS) for n in range(5, 10)] == [40, 41, 42, 43, 44]


def test_pause_holds_the_picture_and_position(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), loop=False)
    for n in range(11):
        shown(src, n * FRAME_NS)
    src.pause()
    held = src.position
    assert held == pytest.approx(0.4)
    assert [shown(src, n * FRAME_NS) for n in range(11, 20)] == [10] * 9
    assert src.position == held and not src.playing
    src.play()
    assert [shown(src, n * FRAME_NS) for n in range(20, 23)] == [10, 11, 12]


def test_restart_goes_back_to_the_in_point(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), in_point=0.2)
    for n in range(10):
        shown(src, n * FRAME_NS)
    src.restart()
    assert [shown(src, n * FRAME_NS) for n in range(10, 13)] == [5, 6, 7]


def test_preroll_decodes_while_paused(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), autoplay=False, in_point=1.0)
    assert not src.ready
    src.tick(0)
    assert src.frame() is None
    src.preroll()
    assert src.wait_ready(0, WAIT_S)
    assert src.ready and not src.playing
    assert shown(src, 0) == 25
    src.play()
    assert [shown(src, n * FRAME_NS) for n in range(1, 4)] == [25, 26, 27]


def test_clip_audio_reaches_the_ring_in_step(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), loop=False)
    for n in range(26):
        shown(src, n * FRAME_NS)
    assert src.audio.available == SAMPLE_RATE  # exactly 1.0 s of 48 kHz audio
    samples = src.audio.read(SAMPLE_RATE)
    assert samples.shape == (SAMPLE_RATE, 2) and samples.dtype == np.float32
    body = samples[4800:]  # past the AAC encoder's start-up
    assert np.sqrt(np.mean(body**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)
    assert np.allclose(body[:, 0], body[:, 1], atol=1e-3)
    # the 440 Hz sine continues where the clip is: compare with the generated signal
    t = np.arange(4800, SAMPLE_RATE) / SAMPLE_RATE
    reference = 0.5 * np.sin(2 * np.pi * 440 * t)
    assert np.corrcoef(reference, body[:, 0])[0, 1] > 0.95
    assert src.audio_underrun_samples == 0


def test_clip_whose_audio_ends_early(tmp_path: Path, open_source: Callable[..., MediaSource]) -> None:
    path = make_clip(tmp_path / "short_sound.mp4", audio_frames=10)
    src = open_source(path=str(path), loop=False)
    assert [shown(src, n * FRAME_NS) for n in range(50)] == list(range(50))
    # the ring stays in step with the picture: sound, then silence where the clip has none
    assert src.audio.available == 49 * FRAME_NS * SAMPLE_RATE // NS
    samples = src.audio.read(src.audio.available)
    assert np.abs(samples[4800:9000]).max() > 0.3
    assert np.abs(samples[SAMPLE_RATE // 2 :]).max() == 0.0


def test_paused_source_writes_no_audio(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), autoplay=False)
    src.preroll()
    for n in range(10):
        shown(src, n * FRAME_NS)
    assert src.audio.available == 0


def test_resizes_keeping_aspect(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), width=160)
    assert shown(src, 0) == 0
    f = src.frame()
    assert f is not None and (f.width, f.height) == (160, 120)
    assert src.size == (160, 120)


def test_audio_only_clip(tmp_path: Path, open_source: Callable[..., MediaSource]) -> None:
    path = tmp_path / "sound.m4a"
    out = av.open(str(path), "w", format="mp4")
    a = out.add_stream("aac", rate=SAMPLE_RATE)
    a.layout = "stereo"
    for k in range(50):
        af = av.AudioFrame.from_ndarray(np.full((2, 1024), 0.25, np.float32), format="fltp", layout="stereo")
        af.sample_rate, af.pts = SAMPLE_RATE, k * 1024
        for p in a.encode(af):
            out.mux(p)
    for p in a.encode():
        out.mux(p)
    out.close()
    src = open_source(path=str(path), loop=False)
    for n in range(13):
        assert src.wait_ready(n * FRAME_NS, WAIT_S)
        src.tick(n * FRAME_NS)
    assert src.frame() is None and src.error is None
    assert src.audio.available == 12 * FRAME_NS * SAMPLE_RATE // NS


def assert_error_card(src: MediaSource, size: tuple[int, int], *words: str) -> None:
    assert src.wait_ready(0, WAIT_S)
    src.tick(0)
    assert src.error is not None
    for w in words:
        assert w in src.error
    card = src.frame_for(View.PREVIEW)  # the operator's view shows the card ...
    assert card is not None and (card.width, card.height) == size and card.opaque
    assert src.frame_for(View.PREVIEW) is card  # cached: no work per tick
    assert src.frame() is None and src.frame_for(View.PROGRAM) is None  # ... the air never does


def test_missing_file(tmp_path: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(tmp_path / "nope.mp4"))
    assert_error_card(src, (1280, 720), "not found", "nope.mp4")


def test_no_path_chosen(open_source: Callable[..., MediaSource]) -> None:
    src = open_source()
    assert_error_card(src, (1280, 720), "no media file")


def test_random_bytes(tmp_path: Path, open_source: Callable[..., MediaSource]) -> None:
    path = tmp_path / "junk.mp4"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    src = open_source(path=str(path), width=640, height=360)
    assert_error_card(src, (640, 360), "junk.mp4")


def test_truncated_mp4_without_index(clip: Path, tmp_path: Path, open_source: Callable[..., MediaSource]) -> None:
    data = clip.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])  # the moov index is at the end: it is gone
    src = open_source(path=str(path))
    assert_error_card(src, (1280, 720), "cut.mp4", "not a playable media file")


def test_truncated_mkv_plays_what_it_has(tmp_path: Path, open_source: Callable[..., MediaSource]) -> None:
    full = make_clip(tmp_path / "full.mkv", fmt="matroska")
    data = full.read_bytes()
    path = tmp_path / "cut.mkv"
    path.write_bytes(data[: len(data) // 2])
    src = open_source(path=str(path), loop=False)
    numbers = []
    n = 0
    while not src.ended:
        numbers.append(shown(src, n * FRAME_NS))
        n += 1
        assert n < 200
    assert src.error is None
    assert 5 < numbers[-1] < 49
    assert numbers == sorted(numbers) and numbers[0] == 0


def test_damaged_middle_is_skipped(clip: Path, tmp_path: Path, open_source: Callable[..., MediaSource]) -> None:
    full = make_clip(tmp_path / "full.mkv", fmt="matroska")
    data = bytearray(full.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 3000] = np.random.default_rng(2).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    path = tmp_path / "damaged.mkv"
    path.write_bytes(bytes(data))
    src = open_source(path=str(path), loop=False)
    n = 0
    last = -1
    while not src.ended:
        assert src.wait_ready(n * FRAME_NS, WAIT_S)
        src.tick(n * FRAME_NS)
        n += 1
        assert n < 200
    f = src.frame()
    assert f is not None
    last = frame_number(f.pixels)
    assert src.error is None
    assert last >= 45  # it got past the damage to the end of the clip


def test_close_is_prompt_with_a_full_queue(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), autoplay=False)
    src.preroll()
    assert src.wait_ready(0, WAIT_S)
    workers = [t for t in threading.enumerate() if t.name == "media:clip.mp4"]
    assert len(workers) == 1
    src.close()  # the worker is parked on the full queue
    assert not workers[0].is_alive()
    src.tick(0)  # a closed source stays harmless
    src.close()


def test_update_reopens_another_file(tmp_path: Path, clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(tmp_path / "missing.mp4"))
    assert src.wait_ready(0, WAIT_S)
    assert src.error is not None
    settings = dict(src.settings, path=str(clip))
    src.update(get_type("media").validate(settings))
    assert shown(src, FRAME_NS) == 0
    assert src.error is None
    assert shown(src, 2 * FRAME_NS) == 1


def test_choosing_a_file_later_starts_playback(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source()
    assert src.error == "no media file chosen"
    src.update(get_type("media").validate({"path": str(clip)}))
    assert src.error is None
    assert [shown(src, n * FRAME_NS) for n in range(3)] == [0, 1, 2]


def test_controls_validate(clip: Path, open_source: Callable[..., MediaSource]) -> None:
    src = open_source(path=str(clip), autoplay=False)
    with pytest.raises(ValueError, match="seek"):
        src.seek(-1)
    with pytest.raises(ValueError, match="seek"):
        src.seek(float("nan"))


def test_non_ascii_path(clip: Path, tmp_path: Path, open_source: Callable[..., MediaSource]) -> None:
    path = tmp_path / "短剧 第1集.mp4"
    path.write_bytes(clip.read_bytes())
    src = open_source(path=str(path))
    assert shown(src, 0) == 0
    assert any(t.name == "media:短剧 第1集.mp4" for t in threading.enumerate())
