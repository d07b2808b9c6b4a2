"""The output plan in plain words: what the pre-live check and the status line say at 4K."""

from __future__ import annotations

from encoders.capability import EncodeCapability
from studio.outputs.output_plan import choose_plan
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
