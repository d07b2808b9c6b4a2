"""Every aiortc/aioice internal the studio reaches into, checked when this module is imported.

The adjustments in ``studio.webrtc`` (pass-through receivers, marker jitter buffer, NACK retries,
retransmission history, pacer, playout delay, loopback ICE) replace private attributes of aiortc
1.16 / aioice 0.13. A release that renames one would otherwise fail on air, silently (a history
that is never read) or with an AttributeError deep in a media task. pyproject.toml pins the
tested versions; :func:`check` runs at import and names the missing attribute and the pinned
version. Private instance attributes (``self.__x``) do not exist on the class: they are looked
up in the names the class's ``__init__`` assigns.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import metadata

# the versions tested; keep in step with pyproject.toml
TESTED = {"aiortc": "1.16.0", "aioice": "0.13.0"}

# name-mangled private attributes we read or replace, per instance
SENDER_HISTORY = "_RTCRtpSender__rtp_history"
SENDER_RTX_PAYLOAD_TYPE = "_RTCRtpSender__rtx_payload_type"
SENDER_RTX_SEQUENCE_NUMBER = "_RTCRtpSender__rtx_sequence_number"
SENDER_HEADER_EXTENSIONS_MAP = "_RTCRtpSender__rtp_header_extensions_map"
SENDER_RTT = "_RTCRtpSender__rtt"
SENDER_ENCODER = "_RTCRtpSender__encoder"
SENDER_LSR = "_RTCRtpSender__lsr"  # middle bits of the last sender report's NTP time
SENDER_LSR_TIME = "_RTCRtpSender__lsr_time"  # ... and when (time.time()) it was sent
RECEIVER_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
RECEIVER_NACK_GENERATOR = "_RTCRtpReceiver__nack_generator"


class AiortcInternalsChanged(ImportError):
    """An aiortc/aioice internal that the studio patches is gone (another version installed)."""


@dataclass(frozen=True)
class Patched:
    package: str  # "aiortc" or "aioice": whose version the message names
    module: str
    owner: str  # attribute path inside the module ("" for the module itself)
    attribute: str
    instance: bool = False  # set in ``owner.__init__`` rather than defined on the class
    used_by: str = ""


PATCHED: tuple[Patched, ...] = (
    Patched("aiortc", "aiortc.rtcrtpreceiver", "", "decoder_worker", used_by="passthrough"),
    Patched("aiortc", "aiortc.rtcrtpreceiver", "RTCRtpReceiver", RECEIVER_JITTER_BUFFER, True, "passthrough"),
    Patched("aiortc", "aiortc.rtcrtpreceiver", "RTCRtpReceiver", RECEIVER_NACK_GENERATOR, True, "nack_retry"),
    Patched("aiortc", "aiortc.rtcrtpreceiver", "RTCRtpReceiver", "_send_rtcp_nack", used_by="nack_retry"),
    Patched("aiortc", "aiortc.rtcrtpreceiver", "RTCRtpReceiver", "_send_rtcp_pli", used_by="passthrough.send_pli"),
    Patched("aiortc", "aiortc.rtcrtpreceiver", "RTCRtpReceiver", "stop", used_by="nack_retry"),
    Patched("aiortc", "aiortc.rtcrtpreceiver", "NackGenerator", "add", used_by="nack_retry"),
    Patched("aiortc", "aiortc.jitterbuffer", "JitterBuffer", "_origin", True, "passthrough"),
    Patched("aiortc", "aiortc.jitterbuffer", "JitterBuffer", "_packets", True, "passthrough"),
    Patched("aiortc", "aiortc.jitterbuffer", "JitterBuffer", "_capacity", True, "passthrough"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", SENDER_HISTORY, True, "rtp_history"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", SENDER_RTX_PAYLOAD_TYPE, True, "rtp_history"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", SENDER_RTX_SEQUENCE_NUMBER, True, "rtp_history"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", SENDER_HEADER_EXTENSIONS_MAP, True, "playout_delay"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", SENDER_RTT, True, "feedback"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", SENDER_LSR, True, "feedback"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", SENDER_LSR_TIME, True, "feedback"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", "_retransmit", used_by="rtp_history"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", SENDER_ENCODER, True, "audio_red"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", "_handle_rtcp_packet", used_by="feedback"),
    Patched("aiortc", "aiortc.rtcrtpsender", "RTCRtpSender", "send", used_by="pacer"),
    Patched("aiortc", "aiortc.rtcdtlstransport", "RTCDtlsTransport", "_send_rtp", used_by="pacer"),
    Patched("aiortc", "aiortc.codecs", "", "HEADER_EXTENSIONS", used_by="playout_delay"),
    Patched("aioice", "aioice.ice", "", "get_host_addresses", used_by="loopback"),
)


def installed_version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _present(item: Patched) -> bool:
    try:
        target: object = importlib.import_module(item.module)
    except ImportError:
        return False
    for part in filter(None, item.owner.split(".")):
        target = getattr(target, part, None)
        if target is None:
            return False
    if item.instance:
        init = getattr(target, "__init__", None)
        code = getattr(init, "__code__", None)
        return code is not None and item.attribute in code.co_names
    return hasattr(target, item.attribute)


def check(patched: tuple[Patched, ...] = PATCHED) -> None:
    """Raise :class:`AiortcInternalsChanged` naming each patched attribute that no longer exists."""
    missing = [item for item in patched if not _present(item)]
    if not missing:
        return
    lines = []
    for item in missing:
        where = ".".join(filter(None, (item.module, item.owner, item.attribute)))
        lines.append(
            f"{where} (used by studio.webrtc.{item.used_by}) is missing: {item.package} "
            f"{installed_version(item.package)} is installed, the studio is tested with "
            f"{item.package}=={TESTED[item.package]}"
        )
    raise AiortcInternalsChanged(
        "aiortc/aioice internals the studio patches have changed; install the pinned versions "
        "(pip install -e .) or update studio/webrtc:\n  " + "\n  ".join(lines)
    )


check()

__all__ = ["PATCHED", "TESTED", "AiortcInternalsChanged", "Patched", "check", "installed_version"]
