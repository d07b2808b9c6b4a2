"""One call that readies an aiortc video sender for lossy links (issue 11, items 1 and 3).

Used by the WHIP output (``_make_peer``) and by the relay for each viewer: a retransmission
history sized in time (``rtp_history``) and pacing of the sender's packets (``pacer``). Call it
before negotiation completes; it returns the NACK/retransmission counters for stats.
"""

from __future__ import annotations

from aiortc import RTCRtpSender

from studio.webrtc import pacer, rtp_history
from studio.webrtc.feedback import FeedbackCounters
from studio.webrtc.rtp_history import RetransmitCounters


def prepare_video_sender(
    sender: RTCRtpSender, rtcp: FeedbackCounters | None = None, *, pace: bool = True
) -> RetransmitCounters:
    """``rtcp``: the sender's feedback counters (``feedback.attach``), whose REMB lets the pacer
    use the rate the link allows."""
    counters = rtp_history.attach(sender)
    if pace:
        pacer.attach(sender, (lambda: rtcp.remb_bps) if rtcp is not None else None)
    return counters


__all__ = ["RetransmitCounters", "prepare_video_sender"]
