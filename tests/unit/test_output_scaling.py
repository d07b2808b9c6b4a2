"""The stream's resolution cap: which ladder a canvas gets, and when the stream shares the main encode."""

from __future__ import annotations

from fractions import Fraction

from encoders.packets import StreamInfo
from encoders.settings import VideoEncoderSettings
from studio.outputs.ladder import build_ladder
from studio.outputs.output_scaling import shares_main, stream_info, stream_ladder, stream_max_height

UHD = VideoEncoderSettings(width=3840, height=2160, fps=30)
HD = VideoEncoderSettings(width=1920, height=1080, fps=30)


def test_a_4k_encode_streams_at_most_1080p_by_default() -> None:
    assert stream_max_height(2160, None) == 1080
    rungs = stream_ladder(UHD, None)
    assert [r.label for r in rungs] == ["1080p30", "720p30", "540p30", "360p30", "360p15"]
    assert (rungs[0].width, rungs[0].height) == (1920, 1080)
    assert not shares_main(rungs[0], UHD)  # the stream always has its own scaled encode


def test_1080p_and_below_are_not_capped_and_share_the_main_encode() -> None:
    assert stream_max_height(1080, None) is None
    assert stream_ladder(HD, None) == build_ladder(1920, 1080, 30)
    assert shares_main(stream_ladder(HD, None)[0], HD)


def test_the_cap_is_a_setting_and_zero_turns_it_off() -> None:
    assert [r.label for r in stream_ladder(UHD, 720)] == ["720p30", "540p30", "360p30", "360p15"]
    assert stream_ladder(UHD, 0) == build_ladder(3840, 2160, 30)
    assert stream_max_height(1080, 1440) is None  # a cap above the encode changes nothing


def test_a_capped_rung_keeps_the_aspect_with_even_sizes() -> None:
    odd = VideoEncoderSettings(width=1280, height=720, fps=30)
    top = stream_ladder(odd, 360)[0]
    assert (top.width, top.height) == (640, 360)
    wide = VideoEncoderSettings(width=2560, height=1080, fps=30)
    assert stream_ladder(wide, 540)[0].width == 1280


def test_the_stream_announces_the_capped_level_not_the_4k_one() -> None:
    main = StreamInfo("video", "h264", Fraction(1, 30), 3840, 2160, 30, profile_level_id=UHD.profile_level_id)
    info = stream_info(main, UHD, stream_ladder(UHD, None)[0])
    assert (info.width, info.height) == (1920, 1080)
    assert info.profile_level_id == HD.profile_level_id and info.profile_level_id != main.profile_level_id
    assert stream_info(main, UHD, stream_ladder(UHD, 0)[0]) is main
