"""The output plan for a 4K canvas: hardware records 4K, libx264 records what it keeps up with;
and the capability probe measures libx264 for real on a tiny budget."""

from __future__ import annotations

import threading

from encoders.capability import EncodeCapability, measure_encode, measure_in_background
from studio.outputs.output_plan import choose_plan, hardware_encoder, plan_outputs

UHD = (3840, 2160)


def x264(fps: float) -> EncodeCapability:
    return EncodeCapability("libx264", "superfast", 3840, 2160, fps, 8)


def test_libx264_fast_enough_records_4k_and_streams_1080p() -> None:
    # 4K plus the stream's 1080p encode (a quarter of the pixels) with 1.3x headroom: needs ~49 fps
    plan = choose_plan(UHD, 30, hardware=None, capability=x264(60.0))
    assert plan.record == UHD and plan.stream_max_height == 1080 and not plan.needs_hardware
    assert plan.summary == "libx264 (superfast) encodes 3840×2160 at 60 fps here; records 3840×2160, streams 1080p"


def test_libx264_too_slow_for_4k_records_the_largest_size_it_keeps() -> None:
    plan = choose_plan(UHD, 30, hardware=None, capability=x264(12.0))  # 1080p ~48 fps: fits
    assert plan.record == (1920, 1080) and plan.scaled and plan.needs_hardware
    assert plan.stream_max_height is None  # the stream shares the 1080p encode: one encode
    assert "records 1920×1080 scaled from the 3840×2160 canvas" in plan.summary
    assert "add a hardware encoder" in plan.summary
    assert choose_plan(UHD, 30, hardware=None, capability=x264(30.0)).record == (2560, 1440)


def test_libx264_far_too_slow_still_records_720p_and_asks_for_hardware() -> None:
    plan = choose_plan(UHD, 30, hardware=None, capability=x264(2.0))
    assert plan.record == (1280, 720) and plan.needs_hardware


def test_a_hardware_encoder_records_4k_and_the_stream_is_capped() -> None:
    measured: list[object] = []

    def measure(*args: object, **kwargs: object) -> EncodeCapability:
        measured.append(args)
        return x264(1.0)

    plan = plan_outputs(UHD, 30, usable=lambda: ["h264_nvenc", "libx264"], measure=measure)
    assert measured == []  # nothing to measure: the hardware encoder takes 4K
    assert plan.record == UHD and plan.encoder == "h264_nvenc" and plan.stream_max_height == 1080
    assert plan.summary == "3840×2160 canvas: records 3840×2160 on h264_nvenc, streams 1080p"
    assert hardware_encoder(["libx264"]) is None


def test_a_1080p_canvas_needs_no_plan_and_no_measurement() -> None:
    plan = plan_outputs((1920, 1080), 30, usable=lambda: [], measure=lambda *a, **k: x264(1.0))
    assert plan.record == (1920, 1080) and plan.stream_max_height is None and plan.capability is None


def test_the_capability_probe_measures_libx264_for_real() -> None:
    found = measure_encode(320, 180, frames=3, budget_s=0.5)
    assert found.encoder == "libx264" and found.preset == "superfast" and (found.width, found.height) == (320, 180)
    assert found.frames >= 2 and found.fps > 0
    assert found.fps_at(640, 360) == found.fps / 4
    assert "encodes 320×180 at" in found.summary


def test_the_capability_probe_runs_on_a_worker_thread() -> None:
    done = threading.Event()
    got: list[tuple[EncodeCapability | None, str, str]] = []

    def on_done(found: EncodeCapability | None, error: str) -> None:
        got.append((found, error, threading.current_thread().name))
        done.set()

    thread = measure_in_background(160, 90, on_done, budget_s=0.2)
    assert done.wait(30)
    thread.join()
    found, error, name = got[0]
    assert error == "" and found is not None and found.fps > 0 and name == "encode-capability"
