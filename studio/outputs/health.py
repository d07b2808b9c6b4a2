"""How healthy the stream's network is, in one place, so the window's badge and headless agree.

Three levels, coloured as OBS colours its figures: ``good`` (green), ``fair`` (yellow: viewers may
notice), ``poor`` (red: viewers see it, or the stream is not on air). Each level comes with the
reasons that set it. Reasons are English templates with ``{placeholders}``; the window translates
the template (``tr``) before filling it in, headless prints it as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from studio.outputs.whip_events import OutputState, OutputStatus, WhipStats

# thresholds (OBS shows yellow from 1-2 % and red from 5-10 % of frames dropped)
FAIR_LOSS_PCT = 2.0
POOR_LOSS_PCT = 8.0
FAIR_RTT_MS = 150.0
POOR_RTT_MS = 500.0
SQUEEZED_SHARE = 0.5  # target below half the user's maximum: the link is holding the picture back
STALE_FEEDBACK_S = 2.0  # a receiver reports about once a second; the session ends at 3 s


class HealthLevel(StrEnum):
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


@dataclass(frozen=True)
class Reason:
    template: str  # English, with {placeholders}
    values: dict[str, str] = field(default_factory=dict)

    def text(self, template: str | None = None) -> str:
        """The reason filled in; ``template``: the translated template, if any."""
        return (template or self.template).format(**self.values)


@dataclass(frozen=True)
class Health:
    level: HealthLevel
    reasons: tuple[Reason, ...] = ()

    def summary(self) -> str:
        return "; ".join(r.text() for r in self.reasons)


_ORDER = (HealthLevel.GOOD, HealthLevel.FAIR, HealthLevel.POOR)


def network_health(stats: WhipStats | None, state: OutputState | None) -> Health | None:
    """The stream's network health, or None when no stream is running."""
    if state is None or state.state in (OutputStatus.IDLE, OutputStatus.STOPPED):
        return None
    if state.state is OutputStatus.RECONNECTING:
        return Health(HealthLevel.POOR, (Reason("reconnecting"),))
    if state.state is OutputStatus.FAILED:
        return Health(HealthLevel.POOR, (Reason("stream failed"),))
    if state.state is OutputStatus.CONNECTING:
        return Health(HealthLevel.FAIR, (Reason("connecting"),))
    found: list[tuple[HealthLevel, Reason]] = []
    if stats is not None:
        age = stats.feedback_age_s
        if age is not None and age > STALE_FEEDBACK_S:
            found.append((HealthLevel.POOR, Reason("no feedback for {seconds} s", {"seconds": f"{age:.0f}"})))
        loss = stats.packet_loss_pct
        if loss > FAIR_LOSS_PCT:
            level = HealthLevel.POOR if loss > POOR_LOSS_PCT else HealthLevel.FAIR
            found.append((level, Reason("loss {pct} %", {"pct": f"{loss:.1f}"})))
        rtt = stats.rtt_ms
        if rtt is not None and rtt > FAIR_RTT_MS:
            level = HealthLevel.POOR if rtt > POOR_RTT_MS else HealthLevel.FAIR
            found.append((level, Reason("RTT {ms} ms", {"ms": f"{rtt:.0f}"})))
        target, top = stats.target_bitrate_bps, stats.max_bitrate_bps
        if top > 0 and 0 < target < top * SQUEEZED_SHARE:
            found.append((HealthLevel.FAIR, Reason("bitrate held at {kbps} of {max_kbps} kb/s",
                                                   {"kbps": f"{target / 1000:.0f}",
                                                    "max_kbps": f"{top / 1000:.0f}"})))
    if not found:
        return Health(HealthLevel.GOOD)
    worst = max((level for level, _ in found), key=_ORDER.index)
    return Health(worst, tuple(reason for _, reason in found))
