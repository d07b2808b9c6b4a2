"""The mixer dock's audio filters: a strip's noise suppression/gain/gate/compressor and the master limiter drive the
mixer, and follow it when it changes elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from studio.audio.filters import ChannelFilters, MasterFilters
from studio.audio.inputs import ToneInput
from studio.audio.mixer import AudioMixer
from widgets.mixer_dock import MixerDock


@pytest.fixture
def dock(qtbot: QtBot, qapp_language: None) -> Iterator[MixerDock]:
    mixer = AudioMixer()
    mixer.add_input(ToneInput("tone", frequency=440.0, level_dbfs=-12.0))
    d = MixerDock(mixer)
    qtbot.addWidget(d)
    d.resize(520, 520)
    d.show()
    yield d
    d.close_bridge()
    mixer.stop()


def test_strip_filters_drive_the_mixer_and_follow_it(dock: MixerDock, qtbot: QtBot) -> None:
    strip = dock.strips["tone"]
    assert not strip.filters.isVisible()
    strip.filters_button.click()
    assert strip.filters.isVisible()
    strip.filters.gate.setChecked(True)
    strip.filters.gain.setValue(6.0)
    f = dock.mixer.state("tone").filters
    assert f.gate and f.gain_db == 6.0 and not f.compressor
    # changed elsewhere (the control API, a saved show): the panel follows without echoing
    dock.mixer.set_filters("tone", ChannelFilters(compressor=True, compressor_ratio=8.0))
    qtbot.waitUntil(lambda: strip.filters.compressor.isChecked())
    assert strip.filters.comp_ratio.value() == 8.0 and not strip.filters.gate.isChecked()
    assert "Compressor" in strip.filters_button.toolTip()


def test_master_limiter_is_on_by_default_and_switchable(dock: MixerDock, qtbot: QtBot) -> None:
    assert dock.limiter.isChecked() and dock.ceiling.value() == -1.0
    dock.ceiling.setValue(-3.0)
    assert dock.mixer.master_filters.limiter_ceiling_db == -3.0
    dock.limiter.setChecked(False)
    assert dock.mixer.master_filters.limiter is False
    dock.mixer.set_master_filters(MasterFilters())
    qtbot.waitUntil(lambda: dock.limiter.isChecked() and dock.ceiling.value() == -1.0)


def test_noise_suppression_is_a_strip_filter(dock: MixerDock, qtbot: QtBot) -> None:
    strip = dock.strips["tone"]
    strip.filters_button.click()
    strip.filters.denoise.setChecked(True)
    strip.filters.denoise_level.setValue(-40.0)
    f = dock.mixer.state("tone").filters
    assert f.noise_suppression and f.noise_suppression_db == -40.0
    assert "Noise suppression" in strip.filters_button.toolTip()
    dock.mixer.set_filters("tone", ChannelFilters())
    qtbot.waitUntil(lambda: not strip.filters.denoise.isChecked())
    assert strip.filters.denoise_level.value() == -30.0
