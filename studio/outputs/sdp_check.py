"""Plain-language checks of a WHIP server's SDP answer, before aiortc's terse errors.

aiortc reports an answer without a codec we offer as "Failed to set remote video description";
a Janus room configured for VP8 only answers exactly that way. We say what is wrong instead.
"""

from __future__ import annotations

import re

_MEDIA = re.compile(r"^m=(\w+) (\d+) ", re.MULTILINE)
_RTPMAP = re.compile(r"^a=rtpmap:\d+ ([\w-]+)/", re.MULTILINE)


def answer_codecs(sdp: str) -> dict[str, list[str]]:
    """Codec names per accepted media section (a rejected section, port 0, lists none)."""
    found: dict[str, list[str]] = {}
    starts = [(m.start(), m.group(1), m.group(2)) for m in _MEDIA.finditer(sdp)]
    for i, (start, kind, port) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(sdp)
        names = [] if port == "0" else [n.upper() for n in _RTPMAP.findall(sdp[start:end])]
        found.setdefault(kind, []).extend(names)
    return found


def missing_h264(sdp: str) -> str | None:
    """A message when the answer's video takes no H.264 (None when it does, or has no video)."""
    video = answer_codecs(sdp).get("video")
    if video is None or "H264" in video:
        return None
    others = ", ".join(sorted({n for n in video if n not in ("RTX", "RED", "ULPFEC")})) or "nothing"
    return (f"the server offers no H.264 video (its answer accepts {others}); the studio sends H.264: "
            "configure the server or room for H.264")
