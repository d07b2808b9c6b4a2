"""The Audio Mixer dock: one strip per mixer input, a master meter, and adding microphones or tones.

Each strip binds to the mixer's ``InputState``: a fader in dB (-60 = off .. +12), mute, monitor
(heard on the monitor output device), and a peak/RMS meter with peak hold. Clip audio inputs come
and go with their media sources (the engine adds and removes them); the dock follows
``mixer.changed``, which ``MixerBridge`` re-emits as a Qt signal so it is handled on the UI thread.

Filters: each strip's "Filters" button opens its gain, noise gate and compressor (applied before
the fader); the master row has the limiter (on by default, so the program never clips).

Meters: the mixer publishes levels about 30 times a second on the audio thread. The bridge only
keeps the newest ``AudioLevels``; a 30 Hz UI timer applies it, and each meter repaints only when
a value moved visibly. Nothing here waits on the audio thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.audio.devices import AudioBackendError, AudioDevice, audio_backend_status, input_devices
from studio.audio.filters import ChannelFilters, MasterFilters
from studio.audio.inputs import ClipAudioInput, MicrophoneInput, ToneInput
from studio.audio.meters import AudioLevels, ChannelLevels
from studio.audio.mixer import MAX_VOLUME_DB, MIN_VOLUME_DB, AudioMixer, InputState, MixerChange
from widgets.i18n import bind, on_change, tr
from widgets.meter import AudioMeter
from widgets.theme import icon

log = logging.getLogger(__name__)

FADER_STEPS_PER_DB = 10  # the slider counts tenths of a dB
METER_INTERVAL_MS = 33  # ~30 Hz, the rate the mixer publishes at


def fader_to_db(value: int) -> float:
    db = value / FADER_STEPS_PER_DB
    return float("-inf") if db <= MIN_VOLUME_DB else db


def db_to_fader(db: float) -> int:
    return round(max(MIN_VOLUME_DB, min(MAX_VOLUME_DB, db)) * FADER_STEPS_PER_DB)


def format_db(db: float) -> str:
    return "-∞ dB" if db <= MIN_VOLUME_DB else f"{db:+.1f} dB"


class ElidedLabel(QLabel):
    """One line that ends in "…" when too narrow; the whole text is in ``full_text`` and the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setMinimumWidth(40)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight,
                                                   max(self.width(), 40)))


class MixerBridge(QObject):
    """Mixer events to the UI thread: ``changed`` as a queued Qt signal, levels as a latest value."""

    changed = Signal(object)  # MixerChange
    master = Signal(object)  # MasterFilters

    def __init__(self, mixer: AudioMixer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.latest: AudioLevels | None = None  # replaced whole by the audio thread (atomic)
        self._disconnects = [mixer.changed.connect(self.changed.emit), mixer.levels.connect(self._levels),
                             mixer.master_changed.connect(self.master.emit)]

    def _levels(self, levels: AudioLevels) -> None:
        self.latest = levels

    def close(self) -> None:
        for disconnect in self._disconnects:
            disconnect()
        self._disconnects.clear()


class MixerStrip(QFrame):
    """One input: name, level in dB, mute, monitor, (remove), meter and fader."""

    def __init__(self, mixer: AudioMixer, state: InputState, removable: bool, kind: str,
                 on_monitor: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mixer = mixer
        self.name = state.name
        self._on_monitor = on_monitor
        self.setObjectName("mixerStrip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        top = QHBoxLayout()
        top.setSpacing(4)
        self.title = QLabel(self.name, self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setToolTip(kind)
        self.db_label = QLabel(self)
        self.db_label.setObjectName("hint")
        self.mute = QToolButton(self)
        self.mute.setCheckable(True)
        bind(self.mute, "setText", "Mute")
        self.mute.toggled.connect(self._set_muted)
        self.monitor = QToolButton(self)
        self.monitor.setCheckable(True)
        bind(self.monitor, "setText", "Monitor")
        bind(self.monitor, "setToolTip", "Hear this input on the monitor output")
        self.monitor.toggled.connect(self._set_monitored)
        top.addWidget(self.title, 1)
        top.addWidget(self.db_label)
        top.addWidget(self.mute)
        top.addWidget(self.monitor)
        self.filters_button = QToolButton(self)
        self.filters_button.setCheckable(True)
        bind(self.filters_button, "setText", "Filters")
        top.addWidget(self.filters_button)
        self.remove: QToolButton | None = None
        if removable:
            self.remove = QToolButton(self)
            self.remove.setIcon(icon("remove"))
            self.remove.setAutoRaise(True)
            bind(self.remove, "setToolTip", "Remove this input")
            self.remove.clicked.connect(lambda _=False: self.mixer.remove_input(self.name))
            top.addWidget(self.remove)
        layout.addLayout(top)
        self.meter = AudioMeter(2, self)
        layout.addWidget(self.meter)
        self.fader = QSlider(Qt.Orientation.Horizontal, self)
        self.fader.setRange(db_to_fader(MIN_VOLUME_DB), db_to_fader(MAX_VOLUME_DB))
        self.fader.setPageStep(3 * FADER_STEPS_PER_DB)
        self.fader.setSingleStep(FADER_STEPS_PER_DB // 2)
        bind(self.fader, "setToolTip", "Volume (dB)")
        self.fader.valueChanged.connect(self._set_volume)
        layout.addWidget(self.fader)
        self.filters = ChannelFiltersPanel(lambda f: self._guard(lambda: self.mixer.set_filters(self.name, f)), self)
        self.filters.hide()
        self.filters_button.toggled.connect(self.filters.setVisible)
        layout.addWidget(self.filters)
        self.show_state(state)

    def show_state(self, state: InputState) -> None:
        """Follow the model (changes made elsewhere included) without echoing back to it."""
        value = db_to_fader(state.volume_db)
        if self.fader.value() != value:
            self.fader.blockSignals(True)
            self.fader.setValue(value)
            self.fader.blockSignals(False)
        for button, on in ((self.mute, state.muted), (self.monitor, state.monitored)):
            if button.isChecked() != on:
                button.blockSignals(True)
                button.setChecked(on)
                button.blockSignals(False)
        self.db_label.setText(format_db(state.volume_db))
        self.meter.setEnabled(not state.muted)
        self.filters.show_filters(state.filters)
        self.filters_button.setProperty("active", self.filters.summary() != "")
        self.filters_button.setToolTip(self.filters.summary() or tr("No filters"))

    def show_levels(self, levels: ChannelLevels | None) -> None:
        if levels is None:
            self.meter.reset()
        else:
            self.meter.set_levels(levels.peak_db, levels.rms_db, levels.hold_db)

    def _set_volume(self, value: int) -> None:
        db = fader_to_db(value)
        self.db_label.setText(format_db(db))
        self._guard(lambda: self.mixer.set_volume(self.name, db))

    def _set_muted(self, on: bool) -> None:
        self._guard(lambda: self.mixer.set_muted(self.name, on))

    def _set_monitored(self, on: bool) -> None:
        self._guard(lambda: self.mixer.set_monitored(self.name, on))
        self._on_monitor()

    def _guard(self, change: Callable[[], None]) -> None:
        try:
            change()
        except ValueError as exc:  # the input went away between the click and now
            log.info("mixer strip %s: %s", self.name, exc)


def _spin(parent: QWidget, lo: float, hi: float, step: float, suffix: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setRange(lo, hi)
    spin.setSingleStep(step)
    spin.setDecimals(1)
    spin.setSuffix(suffix)
    spin.setKeyboardTracking(False)
    return spin


class ChannelFiltersPanel(QWidget):
    """A channel's noise suppression, gain, noise gate and compressor; every edit sends a whole new
    ChannelFilters."""

    def __init__(self, apply: Callable[[ChannelFilters], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._apply = apply
        self._shown = ChannelFilters()
        form = QFormLayout(self)
        form.setContentsMargins(0, 2, 0, 2)
        self.denoise = QCheckBox(self)
        self.denoise_level = _spin(self, -60, -3, 1, " dB")
        self.gain = _spin(self, -30, 30, 0.5, " dB")
        self.gate = QCheckBox(self)
        self.gate_threshold = _spin(self, -90, 0, 1, " dB")
        self.compressor = QCheckBox(self)
        self.comp_threshold = _spin(self, -60, 0, 1, " dB")
        self.comp_ratio = _spin(self, 1, 32, 0.5, ":1")
        rows: list[tuple[str, QWidget]] = [
            ("Noise suppression", self.denoise), ("Suppression level", self.denoise_level),
            ("Gain", self.gain), ("Noise gate", self.gate), ("Gate threshold", self.gate_threshold),
            ("Compressor", self.compressor), ("Compressor threshold", self.comp_threshold),
            ("Ratio", self.comp_ratio)]
        for text, widget in rows:
            label = QLabel(self)
            bind(label, "setText", text)
            form.addRow(label, widget)
        for spin in (self.denoise_level, self.gain, self.gate_threshold, self.comp_threshold, self.comp_ratio):
            spin.valueChanged.connect(lambda _v: self._send())
        for box in (self.denoise, self.gate, self.compressor):
            box.toggled.connect(lambda _on: self._send())

    def current(self) -> ChannelFilters:
        return replace(self._shown, noise_suppression=self.denoise.isChecked(),
                       noise_suppression_db=self.denoise_level.value(),
                       gain_db=self.gain.value(), gate=self.gate.isChecked(),
                       gate_threshold_db=self.gate_threshold.value(), compressor=self.compressor.isChecked(),
                       compressor_threshold_db=self.comp_threshold.value(), compressor_ratio=self.comp_ratio.value())

    def _send(self) -> None:
        try:
            self._apply(self.current())
        except ValueError as exc:  # the spin boxes' ranges match the model's, so this is a bug
            log.warning("audio filters: %s", exc)

    def show_filters(self, f: ChannelFilters) -> None:
        """Follow the model without echoing back to it."""
        self._shown = f
        values: list[tuple[Any, Any]] = [
            (self.denoise_level, f.noise_suppression_db), (self.denoise, f.noise_suppression),
            (self.gain, f.gain_db), (self.gate_threshold, f.gate_threshold_db),
            (self.comp_threshold, f.compressor_threshold_db), (self.comp_ratio, f.compressor_ratio),
            (self.gate, f.gate), (self.compressor, f.compressor)]
        for widget, value in values:
            widget.blockSignals(True)
            if isinstance(widget, QCheckBox):
                widget.setChecked(value)
            else:
                widget.setValue(value)
            widget.blockSignals(False)

    def summary(self) -> str:
        """The active filters in a few words (the strip's tooltip)."""
        f = self._shown
        parts = []
        if f.noise_suppression:
            parts.append(tr("Noise suppression"))
        if f.gain_db:
            parts.append(tr("Gain {db} dB").format(db=f"{f.gain_db:+.1f}"))
        if f.gate:
            parts.append(tr("Noise gate"))
        if f.compressor:
            parts.append(tr("Compressor"))
        return " · ".join(parts)


class MixerDock(QWidget):
    def __init__(self, mixer: AudioMixer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mixer = mixer
        self.strips: dict[str, MixerStrip] = {}
        self._applied: AudioLevels | None = None
        self._monitor_on = False
        self._message: Callable[[], str] | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        bar = QHBoxLayout()
        bar.setSpacing(4)
        self.add_mic = QPushButton(self)
        self.add_mic.setIcon(icon("add"))
        bind(self.add_mic, "setText", "Add microphone")
        self.mic_menu = QMenu(self.add_mic)
        self.mic_menu.aboutToShow.connect(self.refresh_devices)
        self.add_mic.setMenu(self.mic_menu)
        self.add_tone = QPushButton(self)
        self.add_tone.setIcon(icon("add"))
        bind(self.add_tone, "setText", "Add test tone")
        self.add_tone.clicked.connect(lambda _=False: self.add_test_tone())
        bar.addWidget(self.add_mic)
        bar.addWidget(self.add_tone)
        bar.addStretch(1)
        layout.addLayout(bar)
        # why microphones or the monitor are unavailable: one line (the menu and tooltip say it all)
        self.status = ElidedLabel(self)
        self.status.setObjectName("hint")
        self.status.hide()
        layout.addWidget(self.status)

        master = QHBoxLayout()
        master_label = QLabel(self)
        bind(master_label, "setText", "Master")
        self.master = AudioMeter(2, self)
        master.addWidget(master_label)
        master.addWidget(self.master, 1)
        self.limiter = QCheckBox(self)
        bind(self.limiter, "setText", "Limiter")
        bind(self.limiter, "setToolTip", "Keeps the program under the ceiling: it never clips")
        self.ceiling = _spin(self, -30, 0, 0.5, " dB")
        bind(self.ceiling, "setToolTip", "Limiter ceiling (dBFS)")
        self._show_master(mixer.master_filters)
        self.limiter.toggled.connect(lambda _on: self._set_master())
        self.ceiling.valueChanged.connect(lambda _v: self._set_master())
        master.addWidget(self.limiter)
        master.addWidget(self.ceiling)
        layout.addLayout(master)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._body = QWidget(scroll)
        self._rows = QVBoxLayout(self._body)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(4)
        self.empty = QLabel(self._body)
        self.empty.setObjectName("hint")
        self.empty.setWordWrap(True)
        bind(self.empty, "setText", "No audio inputs yet: media clips with sound appear here, or add a microphone or a test tone.")
        self._rows.addWidget(self.empty)
        self._rows.addStretch(1)
        scroll.setWidget(self._body)
        layout.addWidget(scroll, 1)

        self.bridge = MixerBridge(mixer, self)
        self.bridge.changed.connect(self._on_change)
        self.bridge.master.connect(self._show_master)
        for state in mixer.inputs:
            self._add_strip(state)
        on_change(self, self._retranslate)
        self._check_backend()
        self.timer = QTimer(self)
        self.timer.setInterval(METER_INTERVAL_MS)
        self.timer.timeout.connect(self.apply_levels)
        self.timer.start()

    # ---- master ---------------------------------------------------------------------------------------
    def _set_master(self) -> None:
        self.mixer.set_master_filters(replace(self.mixer.master_filters, limiter=self.limiter.isChecked(),
                                              limiter_ceiling_db=self.ceiling.value()))

    def _show_master(self, f: MasterFilters) -> None:
        for widget in (self.limiter, self.ceiling):
            widget.blockSignals(True)
        self.limiter.setChecked(f.limiter)
        self.ceiling.setValue(f.limiter_ceiling_db)
        self.ceiling.setEnabled(f.limiter)
        for widget in (self.limiter, self.ceiling):
            widget.blockSignals(False)

    # ---- strips --------------------------------------------------------------------------------------
    def _kind(self, name: str) -> tuple[str, bool]:
        """(tooltip, removable): clip inputs belong to their media source and are not removed here."""
        try:
            source = self.mixer.input(name)
        except ValueError:
            return "", False
        if isinstance(source, ClipAudioInput):
            return tr("Media clip audio"), False
        if isinstance(source, MicrophoneInput):
            device = source.device.name if source.device is not None else str(source.device_spec)
            return tr("Microphone: {device}").format(device=device), True
        if isinstance(source, ToneInput):
            return tr("Test tone"), True
        return "", True

    def _add_strip(self, state: InputState) -> None:
        if state.name in self.strips:
            self.strips[state.name].show_state(state)
            return
        kind, removable = self._kind(state.name)
        strip = MixerStrip(self.mixer, state, removable, kind, self._sync_monitor, self._body)
        self.strips[state.name] = strip
        self._rows.insertWidget(self._rows.count() - 1, strip)
        self.empty.hide()

    def _on_change(self, change: MixerChange) -> None:
        if change.kind == "added":
            self._add_strip(change.state)
        elif change.kind == "removed":
            strip = self.strips.pop(change.state.name, None)
            if strip is not None:
                strip.setParent(None)
                strip.deleteLater()
            self.empty.setVisible(not self.strips)
            self._sync_monitor()
        else:
            strip = self.strips.get(change.state.name)
            if strip is not None:
                strip.show_state(change.state)

    # ---- meters --------------------------------------------------------------------------------------
    def apply_levels(self) -> None:
        """Show the newest levels the mixer published (the UI timer calls this at ~30 Hz)."""
        levels = self.bridge.latest
        if levels is None or levels is self._applied:
            return
        self._applied = levels
        m = levels.master
        self.master.set_levels(m.peak_db, m.rms_db, m.hold_db)
        for name, strip in self.strips.items():
            strip.show_levels(levels.source(name))

    # ---- adding inputs -------------------------------------------------------------------------------
    def _unique(self, base: str) -> str:
        names = {s.name for s in self.mixer.inputs}
        name, n = base, 2
        while name in names:
            name, n = f"{base} {n}", n + 1
        return name

    def add_test_tone(self) -> str:
        name = self._unique(tr("Test tone"))
        self.mixer.add_input(ToneInput(name))
        return name

    def refresh_devices(self) -> list[AudioDevice]:
        """Fill the microphone menu with the input devices, or say why there are none."""
        self.mic_menu.clear()
        try:
            devices = input_devices()
            problem = None if devices else audio_backend_status()[1]
        except AudioBackendError as exc:
            devices, problem = [], str(exc)
        for device in devices:
            action = QAction(device.name + (" " + tr("(default)") if device.is_default_input else ""),
                             self.mic_menu)
            action.triggered.connect(lambda _=False, d=device: self.add_microphone(d))
            self.mic_menu.addAction(action)
        if problem is not None:
            action = QAction(problem, self.mic_menu)
            action.setEnabled(False)
            self.mic_menu.addAction(action)
            self._set_message(lambda: tr("Microphones unavailable: {reason}").format(reason=problem))
        return devices

    def add_microphone(self, device: AudioDevice) -> str | None:
        """Add and open ``device``; on failure the input is taken out again and the reason shown."""
        mic = MicrophoneInput(self._unique(tr("Mic: {device}").format(device=device.name)), device.index)
        self.mixer.add_input(mic)
        if mic.error is not None:
            error = mic.error
            self.mixer.remove_input(mic.name)
            self._set_message(lambda: error)
            return None
        return mic.name

    def _check_backend(self) -> None:
        available, message = audio_backend_status()
        if not available:
            self._set_message(lambda: tr("Microphones unavailable: {reason}").format(reason=message))

    def _sync_monitor(self) -> None:
        """Open the monitor output while an input is monitored; close it when none is."""
        wanted = any(s.monitored for s in self.mixer.inputs)
        if wanted and not self._monitor_on:
            self._monitor_on = True
            if not self.mixer.start_monitor():
                error = self.mixer.monitor_error or ""
                self._set_message(lambda: error)
        elif not wanted and self._monitor_on:
            self._monitor_on = False
            self.mixer.stop_monitor()

    def _set_message(self, message: Callable[[], str] | None) -> None:
        self._message = message
        self._retranslate()

    def _retranslate(self) -> None:
        text = self._message() if self._message is not None else ""
        self.status.set_full_text(text)
        self.status.setVisible(bool(text))

    def close_bridge(self) -> None:
        """Stop listening to the mixer (the owner calls this when the dock goes away)."""
        self.timer.stop()
        self.bridge.close()
