"""Output scaling: the stream's resolution cap and the ladder under it.

A canvas above 1080p (4K) streams at most ``DEFAULT_STREAM_MAX_HEIGHT`` lines: WHIP viewers' browsers
and the platforms want <= 1080p (a 4K picture needs H.264 level 5.1, which many browsers' decoders
refuse to negotiate; 1080p30 fits level 4.0/4.2). The capped ladder's top rung is the capped size,
so the stream always has its own scaled encode (``stream_rendition``), fed from the main encoder's
pictures on its thread, while the main encode (the recording, and RTMP/SRT destinations: platform
ingests transcode and YouTube takes 4K, and a third encode would cost another encoder) keeps the
full picture.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from encoders.packets import StreamInfo
from encoders.settings import VideoEncoderSettings
from studio.outputs.ladder import Rung, build_ladder

DEFAULT_STREAM_MAX_HEIGHT = 1080
# the user's "Stream resolution" choices (Settings), besides None (automatic: 1080p above 1080p)
# and 0 (the canvas: no cap); any even height in STREAM_HEIGHT_RANGE is valid (headless flag)
STREAM_HEIGHT_CHOICES = (2160, 1440, 1080, 720, 480)
STREAM_HEIGHT_RANGE = (144, 4320)


def check_stream_max_height(value: object) -> int | None:
    """None, 0 or an even height within ``STREAM_HEIGHT_RANGE``; ValueError naming the field otherwise."""
    if value is None:
        return None
    low, high = STREAM_HEIGHT_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or \
            not (value == 0 or (low <= value <= high and value % 2 == 0)):
        raise ValueError(f"stream_max_height: {value!r} is not 0 (the canvas) or an even height in {low}..{high}")
    return value


def stream_max_height(main_height: int, setting: int | None) -> int | None:
    """The stream's largest height: the setting when given (0: no cap), else 1080 for an encode
    above 1080p and no cap otherwise. None: the stream may share the main encode."""
    cap = DEFAULT_STREAM_MAX_HEIGHT if setting is None else setting
    if cap <= 0 or cap >= main_height:
        return None
    return cap


def stream_ladder(settings: VideoEncoderSettings, max_height: int | None) -> tuple[Rung, ...]:
    """The stream's rungs, best first: the main encode's ladder with every rung above the cap
    replaced by one at the cap (same aspect), so the top rung is the capped size."""
    cap = stream_max_height(settings.height, max_height)
    rungs = build_ladder(settings.width, settings.height, settings.fps)
    if cap is None:
        return rungs
    width = max(2, int(round(settings.width * cap / settings.height / 2)) * 2)
    top = Rung(width, cap, settings.fps)
    return (top, *(r for r in rungs if r.height < cap))


def shares_main(rung: Rung, settings: VideoEncoderSettings) -> bool:
    """Whether this rung is the main encode itself (the stream then shares it: one encode)."""
    return (rung.width, rung.height, rung.fps) == (settings.width, settings.height, settings.fps)


def stream_info(main: StreamInfo, settings: VideoEncoderSettings, rung: Rung) -> StreamInfo:
    """What the stream announces (SDP profile-level-id) when it starts on ``rung``: the capped
    size's level (4.0 for 1080p30), not the 4K main encode's 5.1."""
    if shares_main(rung, settings):
        return main
    scaled = replace(settings, width=rung.width, height=rung.height, fps=rung.fps)
    return replace(main, width=rung.width, height=rung.height, fps=rung.fps, time_base=Fraction(1, rung.fps),
                   profile_level_id=scaled.profile_level_id)
