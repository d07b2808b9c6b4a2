"""The output plan in plain words: what the pre-live check and the status line say at 4K."""

from __future__ import annotations

import functools

import pytest

from encoders.capability import EncodeCapability
from studio.outputs.output_plan import OutputPlan, choose_plan, plan_outputs
from widgets.prelive_check import PreLiveFindings, describe, describe_plan

UHD = (3840, 2160)


def x264(fps: float) -> EncodeCapability:
    return EncodeCapability("libx264", "superfast", 3840, 2160, fps, 8)


def test_too_slow_libx264_says_what_it_records_and_what_would_help() -> None:
    text = describe_plan(choose_plan(UHD, 30, hardware=None, capability=x264(12.0)))
    assert text.startswith("libx264 encodes 3840×2160 at 12 fps here, too slow to record 3840×2160 live")
    assert "records 1920×1080 scaled from the canvas" in text and "Add a hardware encoder" in text


def test_fast_libx264_and_hardware_say_4k_is_recorded_and_the_stream_is_1080p() -> None:
    assert describe_plan(choose_plan(UHD, 30, hardware=None, capability=x264(60.0))) == \
        "libx264 encodes 3840×2160 at 60 fps here: records 3840×2160, streams 1080p."
    assert describe_plan(choose_plan(UHD, 30, hardware="h264_nvenc", capability=None)) == \
        "3840×2160 canvas: records 3840×2160 on h264_nvenc, streams 1080p."


def test_the_plan_alone_never_asks_but_is_listed_beside_other_findings() -> None:
    plan = choose_plan(UHD, 30, hardware=None, capability=x264(12.0))
    assert not PreLiveFindings(plan=plan)
    assert describe_plan(plan) in describe(PreLiveFindings(plan=plan))


def test_a_4k_show_sizes_its_main_encode_by_the_plan_before_any_output(monkeypatch: pytest.MonkeyPatch) -> None:
    from scenes.model import SceneCollection, VideoFormat
    from studio.show import Show
    from widgets import output_controller
    from widgets.output_controller import OutputController

    col = SceneCollection("4k", VideoFormat(3840, 2160, 30))
    col.add_scene("Show")
    show = Show(col, serve_locally=False)  # never started: only the plan's effect on the pipeline
    controller = OutputController(show)
    told: list[OutputPlan] = []
    controller.output_plan.connect(told.append)
    try:
        for usable, speed, record in ((["libx264"], 12.0, (1920, 1080)), (["h264_nvenc", "libx264"], 0.0, UHD)):
            def measure(*args: object, speed: float = speed, **kwargs: object) -> EncodeCapability:
                return x264(speed)

            monkeypatch.setattr(output_controller, "plan_outputs", functools.partial(
                plan_outputs, usable=functools.partial(list, usable), measure=measure))
            controller._plan_outputs()  # what the outputs worker does right after the show starts
            assert (show.pipeline.video_settings.width, show.pipeline.video_settings.height) == record
            assert told[-1].record == record
        assert told[-1].encoder == "h264_nvenc" and told[-1].stream_max_height == 1080
    finally:
        controller.close()
        show.pipeline.close()
