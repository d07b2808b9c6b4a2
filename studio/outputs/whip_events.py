"""Events a WHIP output emits (frozen dataclasses carried by ``scenes.events.Signal``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OutputStatus(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"  # waiting ``retry_in_s`` before the next attempt
    FAILED = "failed"  # will not retry (refused token, no endpoint, protocol error)
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class OutputState:
    state: OutputStatus
    message: str = ""
    retry_in_s: float | None = None  # countdown to the next attempt while reconnecting


@dataclass(frozen=True, slots=True)
class WhipStats:
    bitrate_bps: int = 0  # sent, audio + video, over the last poll interval
    target_bitrate_bps: int = 0  # last REMB estimate clamped to the user's min/max
    max_bitrate_bps: int = 0  # the user's maximum: a target well below it means a squeezed link
    rtt_ms: float | None = None
    packet_loss_pct: float = 0.0  # video, from the last receiver report
    packets_lost: int = 0
    nacks: int = 0
    plis: int = 0
    firs: int = 0
    keyframes_sent: int = 0
    packets_sent: int = 0
    packets_dropped: int = 0  # dropped before sending (queue full, waiting for a keyframe)
    # network resilience (issue 11): filled by the sender's transport helpers and rate control
    retransmissions: int = 0  # RTX/NACK answers sent
    nacks_unanswered: int = 0  # NACKed packets no longer in the retransmission history
    delay_target_bps: int | None = None  # delay-based (REMB) estimate
    loss_target_bps: int | None = None  # loss-based estimate
    ladder_step: str = ""  # current rung of the resolution/frame-rate ladder, e.g. "720p30"
    audio_red_copies: int | None = None  # redundant copies per Opus packet (RED); None: no RED
    feedback_age_s: float | None = None  # seconds since the last RTCP from the receiver (liveness)
