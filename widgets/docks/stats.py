"""The Stats dock: frame rate, render time, lagged/skipped/dropped frames, encoder and network figures.

Frame counters are coloured as OBS colours them: yellow over 1 %, red over 5 %. The output rows
show "—" until the pipeline reports figures (``show_pipeline``, about once a second while an
output runs; ``show_output`` sets single rows). Two columns: the picture on the left, the
stream on the right, so the dock stays short enough for the bottom dock area.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from studio.events import ClockStats
from studio.outputs.pipeline import PipelineStats
from widgets.i18n import bind
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
RIGHT = (
    ("bitrate", "Bitrate"),
    ("target", "Target bitrate"),
    ("rtt", "Round trip time"),
    ("loss", "Packet loss"),
    ("nacks", "NACKs"),
    ("plis", "Keyframe requests (PLI/FIR)"),
    ("keyframes", "Keyframes sent"),
    ("dropped", "Packets dropped (network)"),
)
ROWS = LEFT + RIGHT
# rows that belong to a running output: back to "—" when it stops
ENCODER_ROWS = ("encoder", "encoded", "skipped")
STREAM_ROWS = ("bitrate", "target", "rtt", "loss", "nacks", "plis", "keyframes", "dropped")


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


class StatsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        self.values: dict[str, QLabel] = {}
        self.names: dict[str, QLabel] = {}
        for column, rows in enumerate((LEFT, RIGHT)):
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
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        grid.setRowStretch(max(len(LEFT), len(RIGHT)), 1)

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
        stream = p.stream
        if stream is None:
            self._clear(STREAM_ROWS)
            return
        self.show_output(sent=stream.packets_sent, dropped=stream.packets_dropped,
                         bitrate_kbps=stream.bitrate_bps / 1000, rtt_ms=stream.rtt_ms,
                         loss=stream.packet_loss_pct / 100)
        if stream.rtt_ms is None:
            self._set("rtt", DASH)
        self._set("target", f"{stream.target_bitrate_bps / 1000:.0f} kb/s" if stream.target_bitrate_bps else DASH)
        self._set("nacks", str(stream.nacks))
        self._set("plis", f"{stream.plis} / {stream.firs}")
        self._set("keyframes", str(stream.keyframes_sent))

    def _clear(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self._set(key, DASH)
