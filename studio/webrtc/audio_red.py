"""RED for Opus (RFC 2198, ``studio.webrtc.red``) in aiortc 1.16, which has no RED codec.

- Negotiation: :func:`ensure_red` registers ``audio/red/48000/2`` in aiortc's codec table (once,
  process-wide, on a free dynamic payload type); :func:`opus_red_preferences` puts it before Opus.
  aiortc copies its *own* entry into an answer and keeps its own payload type for offered types
  outside 96-127 (Chromium offers RED as 63, fmtp ``111/111``), so :func:`pin_red` rewrites the
  transceiver's RED entry to the remote's payload type and names the negotiated Opus type in its
  fmtp, or drops RED when the remote's RED is not RED of that Opus.
- Sending: aiortc has no encoder for RED. :func:`attach_sender` hooks one audio sender's ``send``:
  when the negotiated codec is RED, the sender gets :class:`RedEncoder`, which wraps each Opus
  packet with the previous ones, as many as the receiver's reported loss asks for
  (``red.RedDistance``: none on a clean link). A server that does not answer RED gets plain Opus.
- Receiving: :class:`RedSplitter` turns each RED frame into the Opus frames to play, recovering
  a lost packet from the next one's redundancy; ``passthrough``'s worker uses it, so the relay
  forwards plain Opus (and re-wraps it in RED for each viewer that negotiated RED).

``DLS_AUDIO_RED=0`` in the environment turns RED off by default (a server that mishandles it;
side-by-side measurements); ``WhipConfig.audio_red`` and ``RelayServer(audio_red=)`` say so per use.
"""

from __future__ import annotations

import copy
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from fractions import Fraction

import av
from aiortc import RTCRtpSender, RTCRtpTransceiver
from aiortc.codecs import CODECS
from aiortc.codecs.base import Encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import convert_timebase
from aiortc.rtcrtpparameters import (
    ParametersDict,
    RTCRtpCodecCapability,
    RTCRtpCodecParameters,
    RTCRtpSendParameters,
)
from aiortc.rtp import AnyRtcpPacket, RtcpRrPacket, RtcpSrPacket
from aiortc.sdp import SessionDescription

from studio.webrtc import internals
from studio.webrtc.red import RedDistance, RedPacker, RedRecovery

RED_MIME = "audio/red"
OPUS_MIME = "audio/opus"
ENV = "DLS_AUDIO_RED"
_CLOCK = 48000
_TIME_BASE = Fraction(1, _CLOCK)
_FMTP = re.compile(r"^(\d{1,3})(?:/(\d{1,3}))*$")


def enabled_by_default() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "off", "false", "no")


def is_red(codec: RTCRtpCodecParameters | RTCRtpCodecCapability) -> bool:
    return codec.mimeType.lower() == RED_MIME


def _is_opus(codec: RTCRtpCodecParameters | RTCRtpCodecCapability) -> bool:
    return codec.mimeType.lower() == OPUS_MIME


def red_primary_type(parameters: Mapping[str, object]) -> int | None:
    """The payload type a RED fmtp (``111/111``) names, when every block names the same one."""
    for key, value in parameters.items():
        if value is None and _FMTP.match(key):
            types = {int(t) for t in key.split("/")}
            return types.pop() if len(types) == 1 and all(0 <= t <= 127 for t in types) else None
    return None


def _fmtp(opus_pt: int) -> ParametersDict:
    return {f"{opus_pt}/{opus_pt}": None}


def ensure_red() -> None:
    """Make aiortc know ``red/48000/2`` carrying its Opus (idempotent, process-wide)."""
    audio = CODECS["audio"]
    if any(is_red(c) for c in audio):
        return
    opus = next(c for c in audio if _is_opus(c))
    assert opus.payloadType is not None  # aiortc's table always has one
    used = {c.payloadType for kind in CODECS.values() for c in kind}
    free = [pt for pt in range(96, 128) if pt not in used]
    if not free:
        raise ValueError("no free RTP payload type left to register RED")
    audio.append(RTCRtpCodecParameters(mimeType="audio/red", clockRate=_CLOCK, channels=2,
                                       payloadType=free[-1], parameters=_fmtp(opus.payloadType)))


def opus_red_preferences() -> list[RTCRtpCodecCapability]:
    """RED first (sent when the other side accepts it), then plain Opus."""
    from aiortc import RTCRtpSender

    ensure_red()
    caps = RTCRtpSender.getCapabilities("audio").codecs
    return [c for c in caps if is_red(c)] + [c for c in caps if _is_opus(c)]


def pin_red(transceiver: RTCRtpTransceiver, remote_sdp: str) -> bool:
    """After ``setRemoteDescription``: the transceiver's RED speaks the remote's payload type and
    names the negotiated Opus. Returns whether RED stays negotiated."""
    codecs = [copy.deepcopy(c) for c in transceiver._codecs]
    red = next((c for c in codecs if is_red(c)), None)
    opus = next((c for c in codecs if _is_opus(c)), None)
    if red is None:
        return False
    remote = None
    try:
        for media in SessionDescription.parse(remote_sdp).media:
            if media.kind == "audio" and (transceiver.mid is None or media.rtp.muxId == transceiver.mid):
                remote = next((c for c in media.rtp.codecs if is_red(c)), None)
                break
    except Exception:  # aiortc already accepted this SDP: a second parse failing is not expected
        remote = None
    if remote is None or opus is None or opus.payloadType is None or red_primary_type(remote.parameters) not in (opus.payloadType, None):
        codecs.remove(red)  # RED of something else (or of nothing we know): plain Opus only
        transceiver._codecs = codecs
        return False
    red.payloadType = remote.payloadType
    red.parameters = _fmtp(opus.payloadType)
    transceiver._codecs = codecs
    return True


# ---- sending ---------------------------------------------------------------------------------------


class RedEncoder(Encoder):
    """aiortc's encoder slot for a RED sender: packs pre-encoded Opus packets into RED payloads."""

    def __init__(self, opus_pt: int, distance: Callable[[], int]) -> None:
        self.packer = RedPacker(opus_pt)
        self._distance = distance

    def encode(self, frame: av.frame.Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        raise NotImplementedError("RedEncoder packs encoded Opus packets only")

    def pack(self, packet: av.Packet) -> tuple[list[bytes], int]:
        assert packet.pts is not None and packet.time_base is not None
        timestamp = convert_timebase(packet.pts, packet.time_base, _TIME_BASE)
        return [self.packer.pack(timestamp % (1 << 32), bytes(packet), self._distance())], timestamp


class RedSenderState:
    """What one audio sender does about RED: the distance the receiver's loss asks for."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.policy = RedDistance()
        self.encoder: RedEncoder | None = None  # set when RED was negotiated
        self.loss_pct = 0.0

    def on_loss(self, loss_pct: float, rtt_s: float | None = None) -> None:
        """A loss report about this path (this sender's own, or another stream's on the same link),
        with its round trip when known (a queue: congestion, where copies only add to the loss)."""
        self.loss_pct = loss_pct
        self.policy.update(loss_pct, self._clock(), rtt_s)

    @property
    def active(self) -> bool:
        return self.encoder is not None

    @property
    def redundant_bytes(self) -> int:
        return self.encoder.packer.redundant_bytes if self.encoder is not None else 0


def attach_sender(sender: RTCRtpSender, clock: Callable[[], float] = time.monotonic) -> RedSenderState:
    """Before negotiation completes: if this audio sender ends up sending RED, pack it ourselves."""
    state = RedSenderState(clock)
    original_send: Callable[[RTCRtpSendParameters], Awaitable[None]] = sender.send
    original_rtcp: Callable[[AnyRtcpPacket], Awaitable[None]] = sender._handle_rtcp_packet

    async def send(parameters: RTCRtpSendParameters) -> None:
        codec = parameters.codecs[0] if parameters.codecs else None
        if codec is not None and is_red(codec) and state.encoder is None:
            opus = next((c for c in parameters.codecs if _is_opus(c)), None)
            opus_pt = opus.payloadType if opus is not None else red_primary_type(codec.parameters)
            if opus_pt is not None:
                state.encoder = RedEncoder(opus_pt, lambda: state.policy.distance)
                setattr(sender, internals.SENDER_ENCODER, state.encoder)
        await original_send(parameters)

    async def handle_rtcp(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRrPacket | RtcpSrPacket):
            for report in packet.reports:
                if report.ssrc == sender._ssrc:
                    state.on_loss(report.fraction_lost / 256 * 100)
        await original_rtcp(packet)

    setattr(sender, "send", send)  # noqa: B010 (instance override)
    setattr(sender, "_handle_rtcp_packet", handle_rtcp)  # noqa: B010
    return state


# ---- receiving -------------------------------------------------------------------------------------


class RedSplitter:
    """One receiver's RED frames -> Opus frames (used on its decoder thread only)."""

    def __init__(self, red_codec: RTCRtpCodecParameters) -> None:
        self.red_payload_type = red_codec.payloadType
        primary = red_primary_type(red_codec.parameters)
        self.recovery = RedRecovery(primary)
        self.opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=_CLOCK, channels=2,
                                          payloadType=primary if primary is not None else 111)

    def split(self, frame: JitterFrame) -> list[JitterFrame]:
        return [JitterFrame(data, ts) for ts, data in self.recovery.frames(frame.timestamp, frame.data)]


__all__ = [
    "ENV",
    "RedEncoder",
    "RedSenderState",
    "RedSplitter",
    "attach_sender",
    "enabled_by_default",
    "ensure_red",
    "is_red",
    "opus_red_preferences",
    "pin_red",
    "red_primary_type",
]
