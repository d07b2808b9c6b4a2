"""H.264 capabilities for the level we send.

aiortc offers only ``42001f``/``42e01f`` (level 3.1), while 1080p30 needs level 4.0 (``42e028``).
aiortc builds offers from the module-level ``aiortc.codecs.CODECS`` and
``setCodecPreferences`` accepts only codecs found there, so :func:`ensure_h264` registers the
profile-level-id we send (once, process-wide; adding an entry changes nothing for other peers).
When aiortc answers, it copies its *own* first compatible codec into the answer, so
:func:`pin_answer_level` rewrites the answered level on one transceiver to what it sends.
"""

from __future__ import annotations

import copy
import re

from aiortc import RTCRtpTransceiver
from aiortc.codecs import CODECS, is_rtx
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters
from aiortc.sdp import parse_h264_profile_level_id

_PLID = re.compile(r"^[0-9a-fA-F]{6}$")


def validate_profile_level_id(value: str, field: str = "profile_level_id") -> str:
    if not isinstance(value, str) or not _PLID.match(value):
        raise ValueError(f"{field}: expected six hex digits such as '42e028', got {value!r}")
    try:
        parse_h264_profile_level_id(value)
    except ValueError as exc:
        raise ValueError(f"{field}: {value!r} is not a valid H.264 profile-level-id ({exc})") from None
    return value.lower()


def _is_h264(codec: RTCRtpCodecParameters | RTCRtpCodecCapability) -> bool:
    return codec.mimeType.lower() == "video/h264"


def _plid(codec: RTCRtpCodecParameters | RTCRtpCodecCapability) -> str:
    return str(codec.parameters.get("profile-level-id", "42e01f")).lower()


def _same_profile(a: str, b: str) -> bool:
    return parse_h264_profile_level_id(a)[0] == parse_h264_profile_level_id(b)[0]


def ensure_h264(profile_level_id: str) -> None:
    """Make aiortc know an H.264 codec (plus RTX) with this profile-level-id."""
    plid = validate_profile_level_id(profile_level_id)
    video = CODECS["video"]
    if any(_is_h264(c) and _plid(c) == plid for c in video):
        return
    template = next(c for c in video if _is_h264(c))
    used = {c.payloadType for kind in CODECS.values() for c in kind}
    free = [pt for pt in range(96, 128) if pt not in used]
    if len(free) < 2:
        raise ValueError(f"no free RTP payload type left to register H.264 {plid}")
    pt, rtx_pt = free[0], free[1]
    video.append(
        RTCRtpCodecParameters(
            mimeType="video/H264",
            clockRate=90000,
            payloadType=pt,
            rtcpFeedback=copy.deepcopy(template.rtcpFeedback),
            parameters={**template.parameters, "profile-level-id": plid},
        )
    )
    video.append(
        RTCRtpCodecParameters(
            mimeType="video/rtx", clockRate=90000, payloadType=rtx_pt, parameters={"apt": pt}
        )
    )


def h264_preferences(profile_level_id: str) -> list[RTCRtpCodecCapability]:
    """Codec preferences: our level first, then the same profile at other levels, then RTX.

    The other levels are kept because aiortc maps an answer back onto its *first* compatible
    local codec, and preferences filter by exact parameters.
    """
    from aiortc import RTCRtpSender

    plid = validate_profile_level_id(profile_level_id)
    ensure_h264(plid)
    caps = RTCRtpSender.getCapabilities("video").codecs
    ours = [c for c in caps if _is_h264(c) and _plid(c) == plid]
    others = [c for c in caps if _is_h264(c) and _plid(c) != plid and _same_profile(_plid(c), plid)]
    rtx = [c for c in caps if is_rtx(c)]
    return ours + others + rtx


def opus_preferences() -> list[RTCRtpCodecCapability]:
    from aiortc import RTCRtpSender

    return [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType.lower() == "audio/opus"]


def pin_answer_level(transceiver: RTCRtpTransceiver, profile_level_id: str) -> None:
    """After ``setRemoteDescription(offer)``: answer with the level this transceiver sends.

    Touches aiortc's per-transceiver ``_codecs`` (copied first so the shared table is untouched).
    """
    plid = validate_profile_level_id(profile_level_id)
    codecs: list[RTCRtpCodecParameters] = [copy.deepcopy(c) for c in transceiver._codecs]
    for codec in codecs:
        if _is_h264(codec) and _same_profile(_plid(codec), plid):
            codec.parameters["profile-level-id"] = plid
    transceiver._codecs = codecs
