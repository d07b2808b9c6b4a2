"""One call that readies an aiortc video sender for lossy links (issue 11, items 1 and 3).

Used by the WHIP output (``_make_peer``) and by the relay for each viewer: a retransmission
history sized in time (``rtp_history``) and pacing of the sender's packets (``pacer``). Call it
before negotiation completes; it returns the NACK/retransmission counters for stats.

``DLS_PACER=0`` in the environment leaves pacing off and ``DLS_PACER_MAX_QUEUE_MS`` sets the
pacer's queue limit (side-by-side measurements, e.g. `studio bench network --variants`).
"""

from __future__ import annotations

import os

from aiortc import RTCRtpSender

from studio.webrtc import pacer, rtp_history
from studio.webrtc.feedback import FeedbackCounters
from studio.webrtc.rtp_history import RetransmitCounters

PACER_ENV = "DLS_PACER"
PACER_MAX_QUEUE_ENV = "DLS_PACER_MAX_QUEUE_MS"


def pacing_by_default() -> bool:
    return os.environ.get(PACER_ENV, "1").strip().lower() not in ("0", "off", "false", "no")


def pacer_options() -> dict[str, float]:
    """The pacer's settings from the environment (none: its defaults)."""
    text = os.environ.get(PACER_MAX_QUEUE_ENV, "").strip()
    if not text:
        return {}
    try:
        return {"max_queue_s": float(text) / 1000}
    except ValueError:
        raise ValueError(f"{PACER_MAX_QUEUE_ENV}: expected milliseconds, got {text!r}") from None


def prepare_video_sender(
    sender: RTCRtpSender, rtcp: FeedbackCounters | None = None, *, pace: bool | None = None
) -> RetransmitCounters:
    """``rtcp``: the sender's feedback counters (``feedback.attach``), whose REMB lets the pacer
    use the rate the link allows. ``pace``: None follows ``DLS_PACER`` (on unless it says 0)."""
    counters = rtp_history.attach(sender)
    if pace is None:
        pace = pacing_by_default()
    if pace:
        pacer.attach(sender, (lambda: rtcp.remb_bps) if rtcp is not None else None, **pacer_options())
    return counters


__all__ = ["PACER_ENV", "PACER_MAX_QUEUE_ENV", "RetransmitCounters", "pacer_options", "pacing_by_default",
           "prepare_video_sender"]
