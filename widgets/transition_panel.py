"""Transition controls between preview and program: type buttons, duration, T-bar, Transition.

The T-bar sends ``SetTransitionPosition``: dragging shows the mix live; releasing at the end
completes the transition (and the bar springs back to 0, as in OBS), releasing at 0 cancels it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from scenes.transitions import TransitionKind, TransitionSpec
from studio import commands as cmd
from studio.engine import Studio
from widgets.i18n import bind, tr
from widgets.settings_store import UISettings
from widgets.theme import icon

TBAR_STEPS = 1000
_LABELS = {
    TransitionKind.CUT: "Cut", TransitionKind.FADE: "Fade",
    TransitionKind.SLIDE: "Slide", TransitionKind.STINGER: "Stinger",
}


class TransitionPanel(QWidget):
    spec_changed = Signal(object)  # TransitionSpec

    def __init__(self, studio: Studio, settings: UISettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.settings = settings
        self.setObjectName("transitionPanel")
        self.setFixedWidth(128)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 24, 6, 6)
        layout.setSpacing(6)

        self.kind_buttons: dict[TransitionKind, QPushButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        for kind, label in _LABELS.items():
            button = QPushButton(self)
            button.setCheckable(True)
            button.setIcon(icon(kind.value))
            bind(button, "setText", label)
            self._group.addButton(button)
            layout.addWidget(button)
            self.kind_buttons[kind] = button
            button.clicked.connect(lambda _=False, k=kind: self._choose(k))
        bind(self.kind_buttons[TransitionKind.STINGER], "setToolTip",
             "Plays a clip over the switch; choose the clip the first time")

        self.duration = QSpinBox(self)
        self.duration.setRange(0, 10_000)
        self.duration.setSingleStep(50)
        self.duration.setSuffix(" ms")
        self.duration.setKeyboardTracking(False)
        self.duration.setValue(settings.transition_ms)
        self.duration.valueChanged.connect(lambda _v: self._apply())
        bind(self.duration, "setToolTip", "Transition duration")
        layout.addWidget(self.duration)

        self.transition_button = QPushButton(self)
        self.transition_button.setObjectName("transitionButton")
        self.transition_button.setIcon(icon("transition"))
        bind(self.transition_button, "setText", "Transition")
        self.transition_button.clicked.connect(self.run_transition)
        layout.addWidget(self.transition_button)

        self.tbar = QSlider(Qt.Orientation.Vertical, self)
        self.tbar.setRange(0, TBAR_STEPS)
        self.tbar.setMinimumHeight(120)
        self.tbar.valueChanged.connect(self._tbar_moved)
        self.tbar.sliderReleased.connect(self._tbar_released)
        bind(self.tbar, "setToolTip", "T-bar: drag to mix preview into program")
        layout.addWidget(self.tbar, 1, Qt.AlignmentFlag.AlignHCenter)
        self.tbar_label = QLabel(self)
        self.tbar_label.setObjectName("hint")
        self.tbar_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bind(self.tbar_label, "setText", "T-bar")
        layout.addWidget(self.tbar_label)

        kind = TransitionKind(settings.transition_kind)
        if kind is TransitionKind.STINGER and not settings.stinger_path:
            kind = TransitionKind.FADE
        self.kind_buttons[kind].setChecked(True)
        self._kind = kind
        self._apply()

    # ---- transition type ------------------------------------------------------------------------
    @property
    def kind(self) -> TransitionKind:
        return self._kind

    def spec(self, kind: TransitionKind | None = None) -> TransitionSpec:
        kind = kind or self._kind
        duration = 0 if kind is TransitionKind.CUT else self.duration.value()
        return TransitionSpec(kind, duration, stinger_path=self.settings.stinger_path)

    def set_kind(self, kind: TransitionKind) -> None:
        self.kind_buttons[kind].setChecked(True)
        self._choose(kind)

    def _choose(self, kind: TransitionKind) -> None:
        if kind is TransitionKind.STINGER and not self.settings.stinger_path:
            path, _ = QFileDialog.getOpenFileName(self, tr("Choose a stinger clip"), "",
                                                  tr("Video (*.mp4 *.mov *.mkv *.webm)"))
            if not path:
                self.kind_buttons[self._kind].setChecked(True)
                return
            self.settings.stinger_path = path
        self._kind = kind
        self._apply()

    def _apply(self) -> None:
        self.duration.setEnabled(self._kind is not TransitionKind.CUT)
        spec = self.spec()
        self.settings.transition_kind = self._kind.value
        self.settings.transition_ms = self.duration.value()
        self.studio.submit(cmd.SetTransition(spec))
        self.spec_changed.emit(spec)

    # ---- running it -----------------------------------------------------------------------------
    def run_transition(self, kind: TransitionKind | None = None) -> None:
        """Preview -> program with the chosen (or the given) transition."""
        self.studio.submit(cmd.Transition(spec=self.spec(kind if isinstance(kind, TransitionKind) else None)))

    def _tbar_moved(self, value: int) -> None:
        self.studio.submit(cmd.SetTransitionPosition(value / TBAR_STEPS))
        if value >= TBAR_STEPS and not self.tbar.isSliderDown():
            self._tbar_released()  # reached the end by keyboard or wheel: complete as on release

    def _tbar_released(self) -> None:
        value = self.tbar.value()
        if value >= TBAR_STEPS:
            # completed: the engine finishes it at position 1; the bar returns to rest
            self.tbar.blockSignals(True)
            self.tbar.setValue(0)
            self.tbar.blockSignals(False)
        elif value <= 0:
            self.studio.submit(cmd.SetTransitionPosition(0.0))
