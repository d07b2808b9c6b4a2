"""The playout-delay RTP header extension (min 0, max 0) on outgoing video.

Why: Chromium's adaptive playout buffer adds tens of milliseconds; a sender may ask for none
with http://www.webrtc.org/experiments/rtp-hdrext/playout-delay (DESIGN.md, latency: ~65 ms ->
~22 ms at 720p). aiortc 1.16 neither offers nor writes this extension, so this module (and only
this one) reaches into aiortc:

- :func:`register` adds the URI to ``aiortc.codecs.HEADER_EXTENSIONS["video"]`` so offers and
  answers negotiate it (receivers that do not know it simply ignore it);
- :func:`attach` replaces one sender's private header-extension map with one that also writes
  the extension. It must run before the sender starts (``setRemoteDescription``).

``DLS_PLAYOUT_DELAY`` in the environment overrides what :func:`attach` writes, for side-by-side
measurements (`studio bench network --variants`): ``off`` writes nothing, ``MIN,MAX`` (ms) those.
"""

from __future__ import annotations

import os

from aiortc import RTCRtpSender
from aiortc.codecs import HEADER_EXTENSIONS
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, pack_header_extensions, unpack_header_extensions

from studio.webrtc import internals

PLAYOUT_DELAY_URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
_MAX_UNITS = 0xFFF  # 12 bits of 10 ms
ENV = "DLS_PLAYOUT_DELAY"


def delay_from_env(min_ms: int, max_ms: int) -> tuple[int, int] | None:
    """(min, max) to write: ``DLS_PLAYOUT_DELAY``'s if set (None for ``off``), else the arguments."""
    text = os.environ.get(ENV, "").strip().lower()
    if not text:
        return min_ms, max_ms
    if text in ("0", "off", "false", "no", "none"):
        return None
    try:
        lo, hi = (int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{ENV}: expected 'off' or 'MIN,MAX' in ms, got {text!r}") from None
    encode_delay(lo, hi)  # validates
    return lo, hi


def encode_delay(min_ms: int, max_ms: int) -> bytes:
    """Three bytes: 12-bit min and 12-bit max playout delay in 10 ms units."""
    if not 0 <= min_ms <= max_ms:
        raise ValueError(f"playout delay: need 0 <= min ({min_ms}) <= max ({max_ms})")
    lo, hi = min(min_ms // 10, _MAX_UNITS), min(max_ms // 10, _MAX_UNITS)
    return ((lo << 12) | hi).to_bytes(3, "big")


def register() -> None:
    """Offer the extension on video m-lines (idempotent)."""
    video = HEADER_EXTENSIONS["video"]
    if any(ext.uri == PLAYOUT_DELAY_URI for ext in video):
        return
    # the id space is shared by audio and video under BUNDLE
    used = {ext.id for kind in HEADER_EXTENSIONS.values() for ext in kind}
    free = next(i for i in range(1, 15) if i not in used)
    video.append(RTCRtpHeaderExtensionParameters(id=free, uri=PLAYOUT_DELAY_URI))


class PlayoutDelayExtensionsMap(HeaderExtensionsMap):
    """aiortc's map plus the playout-delay element on every packet, when negotiated."""

    def __init__(self, min_ms: int = 0, max_ms: int = 0, *, write: bool = True) -> None:
        super().__init__()
        self._value = encode_delay(min_ms, max_ms)
        self._write = write  # False: negotiated, never written (``DLS_PLAYOUT_DELAY=off``)
        self.extension_id: int | None = None

    def configure(self, parameters: RTCRtpParameters) -> None:
        super().configure(parameters)
        for ext in parameters.headerExtensions:
            if ext.uri == PLAYOUT_DELAY_URI:
                self.extension_id = ext.id

    def set(self, values: HeaderExtensions) -> tuple[int, bytes]:
        profile, data = super().set(values)
        if self.extension_id is None or not self._write:
            return profile, data
        items = unpack_header_extensions(profile, data) if data else []
        items.append((self.extension_id, self._value))
        return pack_header_extensions(items)


def attach(sender: RTCRtpSender, min_ms: int = 0, max_ms: int = 0) -> PlayoutDelayExtensionsMap:
    """Make ``sender`` write the extension (call before negotiation completes)."""
    register()
    delay = delay_from_env(min_ms, max_ms)
    ext_map = PlayoutDelayExtensionsMap(*(delay or (min_ms, max_ms)), write=delay is not None)
    setattr(sender, internals.SENDER_HEADER_EXTENSIONS_MAP, ext_map)
    return ext_map
