"""The Stats dock: frame rate, render time, lagged/skipped/dropped frames, encoder and network figures.

Frame counters are coloured as OBS colours them: yellow over 1 %, red over 5 %. The output rows
show "—" until the pipeline reports figures (``show_pipeline``, about once a second while an
output runs; ``show_output`` sets single rows). Three columns: the picture, the stream (bitrates,
the rate controllers' targets, the ladder step, keyframes) and the network (health, RTT, loss,
NACKs, retransmissions, feedback age), so the dock stays short enough for the bottom dock area.

The network's health comes from ``studio.outputs.health.network_health`` (headless prints the same
verdict); the panel shows it in a row and hands it on (``health_changed``) to the window's badge
(:class:`HealthBadge`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from studio.events import ClockStats
from studio.outputs.health import STALE_FEEDBACK_S, Health, HealthLevel, network_health
from studio.outputs.pipeline import PipelineStats
from studio.outputs.whip_events import OutputStatus, WhipStats
from widgets.destination_rows import DestinationRows
from widgets.i18n import bind, on_change, tr
from widgets.theme import repolish

DASH = "—"
LEFT = (
    ("fps", "FPS"),
    ("render", "Render time"),
    ("lagged", "Frames lagged (rendering)"),
    ("encoder", "Encoder"),
    ("encoded", "Frames encoded"),
    ("skipped", "Frames skipped (encoding)"),
    ("recording", "Recording"),
)
MIDDLE = (
    ("bitrate", "Bitrate"),
    ("target", "Target bitrate"),
    ("controllers", "Delay / loss target"),
    ("ladder", "Ladder step"),
    ("keyframes", "Keyframes sent"),
    ("plis", "Keyframe requests (PLI/FIR)"),
    ("dropped", "Packets dropped (network)"),
)
RIGHT = (
    ("health", "Network health"),
    ("rtt", "Round trip time"),
    ("loss", "Packet loss"),
    ("nacks", "NACKs"),
    ("retransmissions", "Retransmissions"),
    ("unanswered", "NACKs unanswered"),
    ("audio_red", "Audio RED copies"),
    ("feedback", "Last receiver report"),
)
COLUMNS = (LEFT, MIDDLE, RIGHT)
ROWS = LEFT + MIDDLE + RIGHT
# rows that belong to a running output: back to "—" when it stops
ENCODER_ROWS = ("encoder", "encoded", "skipped")
STREAM_ROWS = tuple(key for key, _ in MIDDLE + RIGHT)
HEALTH_STYLE = {HealthLevel.GOOD: "ok", HealthLevel.FAIR: "warn", HealthLevel.POOR: "bad"}
BADGE_COLOURS = {HealthLevel.GOOD: "#3fb950", HealthLevel.FAIR: "#e5c07b", HealthLevel.POOR: "#ff5f5f"}


def level_for(ratio: float) -> str:
    """OBS's colouring of a bad-frame share: ok, warn (> 1 %) or bad (> 5 %)."""
    if ratio > 0.05:
        return "bad"
    if ratio > 0.01:
        return "warn"
    return "ok"


def _share(count: int, total: int) -> tuple[str, str]:
    ratio = count / total if total > 0 else 0.0
    return f"{count} / {total} ({ratio * 100:.1f} %)", level_for(ratio)


def _kbps(bps: int | None) -> str:
    return f"{bps / 1000:.0f}" if bps else DASH


def health_level_text(level: HealthLevel) -> str:
    if level is HealthLevel.GOOD:
        return tr("Network good")
    if level is HealthLevel.FAIR:
        return tr("Network fair")
    return tr("Network poor")


def health_text(health: Health) -> str:
    """"Network fair: loss 3.0 %; RTT 200 ms" in the current language."""
    reasons = "; ".join(reason.text(tr(reason.template)) for reason in health.reasons)
    level = health_level_text(health.level)
    return f"{level}: {reasons}" if reasons else level


class HealthBadge(QLabel):
    """The window's network-health badge: a coloured dot and the level; the reasons in its tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.health: Health | None = None
        self.hide()
        on_change(self, self._render)

    def show_health(self, health: Health | None) -> None:
        self.health = health
        self._render()

    def _render(self) -> None:
        health = self.health
        if health is None:
            self.hide()
            return
        self.setText("● " + health_level_text(health.level))
        self.setStyleSheet(f"QLabel {{ color: {BADGE_COLOURS[health.level]}; font-weight: bold; }}")
        self.setToolTip(health_text(health))
        self.setProperty("health", health.level.value)
        self.show()


class StatsPanel(QWidget):
    health_changed = Signal(object)  # Health | None, about once a second

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.health: Health | None = None
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        self.values: dict[str, QLabel] = {}
        self.names: dict[str, QLabel] = {}
        for column, rows in enumerate(COLUMNS):
            for row, (key, label) in enumerate(rows):
                name = QLabel(self)
                name.setObjectName("hint")
                bind(name, "setText", label)
                value = QLabel(DASH, self)
                value.setTextFormat(Qt.TextFormat.PlainText)
                value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                value.setProperty("level", "ok")
                grid.addWidget(name, row, column * 2)
                grid.addWidget(value, row, column * 2 + 1)
                self.values[key] = value
                self.names[key] = name
        for column in range(len(COLUMNS)):
            grid.setColumnStretch(column * 2 + 1, 1)
        last = max(len(rows) for rows in COLUMNS)
        self.destinations = DestinationRows(self)  # one row per destination: state, bitrate, drops
        grid.addWidget(self.destinations, last, 0, 1, len(COLUMNS) * 2)
        grid.setRowStretch(last + 1, 1)
        on_change(self, self._show_health)

    def _set(self, key: str, text: str, level: str = "ok") -> None:
        label = self.values[key]
        label.setText(text)
        if label.property("level") != level:
            label.setProperty("level", level)
            repolish(label)

    def show_clock(self, s: ClockStats) -> None:
        self._set("fps", f"{s.fps:.2f}")
        self._set("render", f"{s.render_ms_p50:.1f} ms (p95 {s.render_ms_p95:.1f} ms)")
        self._set("lagged", *_share(s.lagged, s.frames + s.lagged))

    def show_output(self, *, encoded: int | None = None, skipped: int | None = None,
                    sent: int | None = None, dropped: int | None = None, bitrate_kbps: float | None = None,
                    rtt_ms: float | None = None, loss: float | None = None) -> None:
        """Figures from the encoder and the streaming output (None leaves a row as it is)."""
        if encoded is not None:
            self._set("encoded", str(encoded))
        if skipped is not None and encoded is not None:
            self._set("skipped", *_share(skipped, encoded + skipped))
        if dropped is not None and sent is not None:
            self._set("dropped", *_share(dropped, sent + dropped))
        if bitrate_kbps is not None:
            self._set("bitrate", f"{bitrate_kbps:.0f} kb/s")
        if rtt_ms is not None:
            self._set("rtt", f"{rtt_ms:.0f} ms")
        if loss is not None:
            self._set("loss", f"{loss * 100:.1f} %", level_for(loss))

    def show_pipeline(self, p: PipelineStats) -> None:
        """Every output row from one pipeline snapshot; rows of stopped outputs go back to "—"."""
        video = p.video
        if video is None:
            self._clear(ENCODER_ROWS)
        else:
            self._set("encoder", f"{video.encoder} · {video.target_bitrate_kbps} kb/s")
            self.show_output(encoded=video.encoded, skipped=video.skipped)
        recorder = p.recorder
        if recorder is None:
            self._clear(("recording",))
        else:
            self._set("recording", f"{recorder.duration_s:.0f} s · {recorder.bytes_written / 1e6:.1f} MB",
                      "bad" if recorder.mux_errors else "ok")
        health = network_health(p.stream, p.stream_state)
        if health != self.health:
            self.health = health
            self._show_health()
        self.health_changed.emit(health)
        stream, state = p.stream, p.stream_state
        if stream is None or (state is not None and state.state is not OutputStatus.LIVE):
            # stopped, or between sessions: the last session's figures would be stale
            self._clear(tuple(key for key in STREAM_ROWS if key != "health"))
            return
        self.show_stream(stream)

    def show_stream(self, stream: WhipStats) -> None:
        """The stream and network rows from one ``WhipStats``; figures not measured (yet) show "—"."""
        self.show_output(sent=stream.packets_sent, dropped=stream.packets_dropped,
                         bitrate_kbps=stream.bitrate_bps / 1000, rtt_ms=stream.rtt_ms,
                         loss=stream.packet_loss_pct / 100)
        if stream.rtt_ms is None:
            self._set("rtt", DASH)
        target = _kbps(stream.target_bitrate_bps)
        if stream.target_bitrate_bps and stream.max_bitrate_bps:
            squeezed = stream.target_bitrate_bps < stream.max_bitrate_bps / 2
            self._set("target", f"{target} / {_kbps(stream.max_bitrate_bps)} kb/s", "warn" if squeezed else "ok")
        else:
            self._set("target", f"{target} kb/s" if stream.target_bitrate_bps else DASH)
        if stream.delay_target_bps is None and stream.loss_target_bps is None:
            self._set("controllers", DASH)
        else:
            self._set("controllers",
                      f"{_kbps(stream.delay_target_bps)} / {_kbps(stream.loss_target_bps)} kb/s")
        self._set("ladder", stream.ladder_step or DASH)
        self._set("nacks", str(stream.nacks))
        sent, rtx = stream.packets_sent, stream.retransmissions
        share = rtx / sent if sent else 0.0
        self._set("retransmissions", f"{rtx} ({share * 100:.1f} %)", level_for(share))
        self._set("unanswered", str(stream.nacks_unanswered), "warn" if stream.nacks_unanswered else "ok")
        copies = stream.audio_red_copies  # None: the server took plain Opus
        self._set("audio_red", DASH if copies is None else str(copies))
        age = stream.feedback_age_s
        self._set("feedback", f"{age:.1f} s" if age is not None else DASH,
                  "bad" if age is not None and age > STALE_FEEDBACK_S else "ok")
        self._set("plis", f"{stream.plis} / {stream.firs}")
        self._set("keyframes", str(stream.keyframes_sent))

    def _show_health(self) -> None:
        health = self.health
        if health is None:
            self._set("health", DASH)
        else:
            self._set("health", health_text(health), HEALTH_STYLE[health.level])

    def _clear(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self._set(key, DASH)
