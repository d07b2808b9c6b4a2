"""Filter lists on sources: order, caching per source frame, the compositor hook, the model and
saving/loading (old files keep loading)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from scenes.compositor import Compositor, snapshot
from scenes.filters.base import FilterConfig
from scenes.filters.chain import FilterBank
from scenes.filters.registry import all_filter_types, get_filter_type, make_config
from scenes.frame import VideoFrame
from scenes.model import SceneCollection, SceneItem, SourceChanged
from scenes.serialize import collection_from_dict, collection_to_dict
from scenes.sources.base import Source, View


class Still(Source):
    def __init__(self, pixels: np.ndarray, opaque: bool = True) -> None:
        super().__init__({})
        self.current = VideoFrame(pixels, opaque=opaque)

    def frame(self) -> VideoFrame:
        return self.current

    @property
    def size(self) -> tuple[int, int]:
        return self.current.width, self.current.height


def solid(w: int, h: int, bgra: tuple[int, int, int, int]) -> np.ndarray:
    px = np.empty((h, w, 4), np.uint8)
    px[:] = bgra
    return px


def test_every_builtin_filter_is_registered_with_defaults_that_validate() -> None:
    ids = [t.id for t in all_filter_types()]
    assert ids == ["chroma_key", "color_correction", "crop_pad", "lut", "mask", "sharpen"]
    for t in all_filter_types():
        assert t.validate({}) == t.defaults()


def test_order_matters() -> None:
    frame = VideoFrame(solid(40, 20, (10, 20, 30, 255)), opaque=True)
    crop_then_pad = (make_config("crop_pad", {"crop_left": 10}), make_config("crop_pad", {"pad_left": 5}))
    pad_then_crop = tuple(reversed(crop_then_pad))
    a = FilterBank().apply("s", crop_then_pad, frame)
    b = FilterBank().apply("s", pad_then_crop, frame)
    assert (a.width, b.width) == (35, 35)
    assert a.pixels[0, 0, 3] == 0 and b.pixels[0, 0, 3] == 255  # padding first gets cropped away


def test_colour_correction_then_key_differs_from_key_then_correction() -> None:
    px = solid(8, 8, (40, 200, 40, 255))
    frame = VideoFrame(px, opaque=True)
    grey = make_config("color_correction", {"saturation": 0.0})
    keyer = make_config("chroma_key")
    keyed_last = FilterBank().apply("s", (grey, keyer), frame)
    keyed_first = FilterBank().apply("s", (keyer, grey), frame)
    assert keyed_last.pixels[..., 3].min() == 255  # grey is not green: nothing keyed
    assert keyed_first.pixels[..., 3].max() == 0


def test_disabled_filter_is_skipped() -> None:
    frame = VideoFrame(solid(8, 8, (40, 200, 40, 255)), opaque=True)
    off = make_config("chroma_key", enabled=False)
    assert FilterBank().apply("s", (off,), frame).pixels[..., 3].min() == 255


def test_runs_once_per_new_source_frame_for_program_and_preview() -> None:
    col = SceneCollection("t")
    col.add_source("cam", "color", {"width": 64, "height": 36})
    col.set_filters("cam", [make_config("chroma_key"), make_config("sharpen")])
    scene = col.add_scene("s")
    scene.add_item(SceneItem("cam"))
    items = snapshot(scene)
    assert items[0].filters == col.source("cam").filters
    cam = Still(solid(64, 36, (40, 200, 40, 255)))
    bank = FilterBank()
    program = Compositor(64, 36, View.PROGRAM, bank)
    preview = Compositor(64, 36, View.PREVIEW, bank)
    out = np.zeros((36, 64, 4), np.uint8)
    for _ in range(5):  # five program frames, the source did not change
        program.render(items, {"cam": cam}, out)
        preview.render(items, {"cam": cam}, out)
    assert bank.runs == 1
    cam.current = VideoFrame(solid(64, 36, (40, 200, 40, 255)), opaque=True)  # a new camera frame
    program.render(items, {"cam": cam}, out)
    preview.render(items, {"cam": cam}, out)
    assert bank.runs == 2
    col.set_filters("cam", [make_config("sharpen")])  # an edit rebuilds the chain once
    program.render(snapshot(scene), {"cam": cam}, out)
    assert bank.runs == 3


def test_compositor_shows_the_keyed_source_over_what_is_below() -> None:
    col = SceneCollection("t")
    col.add_source("bg", "color", {"width": 32, "height": 16})
    col.add_source("cam", "color", {"width": 32, "height": 16})
    col.set_filters("cam", [make_config("chroma_key")])
    scene = col.add_scene("s")
    scene.add_item(SceneItem("bg"))
    scene.add_item(SceneItem("cam"))
    sources = {"bg": Still(solid(32, 16, (0, 0, 255, 255))), "cam": Still(solid(32, 16, (40, 200, 40, 255)))}
    out = np.zeros((16, 32, 4), np.uint8)
    Compositor(32, 16).render(snapshot(scene), sources, out)
    assert tuple(out[8, 8]) == (0, 0, 255, 255)  # the red background shows through the keyed green


def test_set_filters_validates_and_emits() -> None:
    col = SceneCollection("t")
    col.add_source("cam", "color")
    events: list[Any] = []
    col.changed.connect(events.append)
    col.set_filters("cam", [make_config("sharpen", {"amount": 1.5})])
    assert events == [SourceChanged("cam")]
    col.set_filters("cam", [make_config("sharpen", {"amount": 1.5})])  # no change, no event
    assert len(events) == 1
    with pytest.raises(ValueError, match=r"filters\[0\]: .*above the maximum"):
        col.set_filters("cam", [FilterConfig("sharpen", {"amount": 99.0})])
    with pytest.raises(ValueError, match="unknown filter type 'glow'"):
        col.set_filters("cam", [FilterConfig("glow", {})])
    assert col.source("cam").filters[0].settings["amount"] == 1.5  # unchanged by the failures


def _collection() -> SceneCollection:
    col = SceneCollection("演出")
    col.add_source("cam", "color", {"width": 32, "height": 16})
    col.add_source("logo", "color")
    col.set_filters("cam", [
        make_config("chroma_key", {"key": "blue", "similarity": 0.3}),
        make_config("color_correction", {"gamma": 1.2, "hue": -20.0}, enabled=False),
        make_config("crop_pad", {"crop_top": 4, "pad_color": "#FF000000"}),
    ])
    col.add_scene("s").add_item(SceneItem("cam", item_id="i1"))
    col.program_scene = col.preview_scene = "s"
    return col


def test_serialisation_round_trip() -> None:
    col = _collection()
    data = collection_to_dict(col)
    assert data["schema_version"] == 2
    text = json.dumps(data, ensure_ascii=False)
    loaded = collection_from_dict(json.loads(text))
    assert loaded.source("cam").filters == col.source("cam").filters
    assert loaded.source("logo").filters == ()
    assert json.dumps(collection_to_dict(loaded), ensure_ascii=False) == text


def test_files_without_filters_stay_version_1_and_old_files_load() -> None:
    col = SceneCollection("old")
    col.add_source("bg", "color")
    data = collection_to_dict(col)
    assert data["schema_version"] == 1 and "filters" not in data["sources"][0]
    assert collection_from_dict(data).source("bg").filters == ()


def test_bad_filter_in_a_file_names_where() -> None:
    data = collection_to_dict(_collection())
    data["sources"][0]["filters"][1]["settings"]["gamma"] = "bright"
    with pytest.raises(ValueError, match=r"sources\[0\] \('cam'\): sources\[0\]\.filters\[1\]: .*Gamma"):
        collection_from_dict(data)
    data = collection_to_dict(_collection())
    data["sources"][0]["filters"][0]["version"] = 99
    with pytest.raises(ValueError, match="newer than this studio"):
        collection_from_dict(data)


@pytest.mark.parametrize("type_id", ["color_correction", "sharpen", "crop_pad", "chroma_key"])
def test_filters_keep_premultiplied_alpha_valid(type_id: str) -> None:
    rng = np.random.default_rng(3)
    straight = rng.integers(0, 256, (32, 48, 4), dtype=np.uint8)
    from scenes.frame import premultiply

    frame = VideoFrame(premultiply(straight), opaque=False)
    all_settings: dict[str, dict[str, Any]] = {"color_correction": {"saturation": 2.0, "gamma": 0.7, "hue": 30.0},
                                "sharpen": {"amount": 3.0}, "crop_pad": {"pad_left": 3, "pad_color": "#80FF0000"},
                                "chroma_key": {}}
    settings = all_settings[type_id]
    out = get_filter_type(type_id).factory(make_config(type_id, settings).settings).apply(frame)
    assert (out.pixels[..., :3] <= out.pixels[..., 3:4]).all()


def test_colour_correction_identity_and_greyscale() -> None:
    rng = np.random.default_rng(4)
    px = rng.integers(0, 256, (16, 16, 4), dtype=np.uint8)
    px[..., 3] = 255
    frame = VideoFrame(px, opaque=True)
    cc = get_filter_type("color_correction")
    assert cc.factory(cc.defaults()).apply(frame) is frame  # nothing to do: no copy
    grey = cc.factory(make_config("color_correction", {"saturation": 0.0}).settings).apply(frame).pixels
    assert np.abs(grey[..., 0].astype(int) - grey[..., 2].astype(int)).max() <= 1
    bright = cc.factory(make_config("color_correction", {"brightness": 0.2}).settings).apply(frame).pixels
    assert (bright[..., :3].astype(int) >= px[..., :3].astype(int)).all()


def test_mask_image(tmp_path: Any) -> None:
    import cv2

    mask = np.zeros((10, 20, 4), np.uint8)
    mask[:, 10:] = 255  # right half opaque white
    path = tmp_path / "mask.png"
    cv2.imwrite(str(path), mask)
    frame = VideoFrame(solid(40, 20, (50, 60, 70, 255)), opaque=True)
    m = get_filter_type("mask")
    out = m.factory(make_config("mask", {"path": str(path)}).settings).apply(frame).pixels
    assert out[5, 5, 3] == 0 and tuple(out[5, 35]) == (50, 60, 70, 255)
    inv = m.factory(make_config("mask", {"path": str(path), "invert": True}).settings).apply(frame).pixels
    assert inv[5, 5, 3] == 255 and inv[5, 35, 3] == 0
    with pytest.raises(ValueError, match="image not found"):
        m.factory(make_config("mask", {"path": str(tmp_path / "none.png")}).settings)


def test_engine_applies_filters_set_through_the_command_path() -> None:
    from scenes.model import VideoFormat
    from studio import commands as cmd
    from studio.engine import Studio

    col = SceneCollection("e", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FFFF0000", "width": 1280, "height": 720})
    col.add_source("cam", "color", {"color": "#FF28C828", "width": 640, "height": 360})  # a green screen
    scene = col.add_scene("s")
    scene.add_item(SceneItem("bg"))
    scene.add_item(SceneItem("cam", x=100, y=100))
    studio = Studio(col)
    try:
        before = studio.render_offline(0).pixels[200, 200].copy()
        assert tuple(before[:3]) == (0x28, 0xC8, 0x28)
        studio.submit(cmd.SetSourceFilters("cam", (make_config("chroma_key"),)))
        after = studio.render_offline(1).pixels[200, 200]
        assert tuple(after) == (0, 0, 255, 255)  # keyed: the red background shows through
        assert studio.filters.runs == 1
    finally:
        studio.stop()
