"""What the operator sees of the stream's network: the stats rows, the health badge in the status bar
(the same verdict headless prints), the reconnect countdown with its reason, tokens never shown, and
where a token is kept when there is no keyring."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from studio.outputs.health import HealthLevel
from studio.outputs.pipeline import PipelineStats
from studio.outputs.whip_events import OutputState, OutputStatus, WhipStats
from studio.secrets import Secret
from studio.stream_token import resolve_token
from widgets.docks.controls import stream_status
from widgets.i18n import translator

LIVE = OutputState(OutputStatus.LIVE, "live")
URL = "https://live.example.com/whip/room-3"


def snapshot(stream: WhipStats | None, state: OutputState | None) -> PipelineStats:
    return PipelineStats(video=None, recorder=None, stream=stream, stream_state=state, audio_skipped_blocks=0)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_stats_rows_and_the_badge_follow_the_stream(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    stats, badge = window.stats, window.health_badge
    assert badge.isHidden()
    healthy = WhipStats(bitrate_bps=5_800_000, target_bitrate_bps=6_000_000, max_bitrate_bps=6_000_000,
                        rtt_ms=18.0, packet_loss_pct=0.2, nacks=4, retransmissions=3, packets_sent=1000,
                        delay_target_bps=6_000_000, loss_target_bps=5_500_000, ladder_step="1080p30",
                        feedback_age_s=0.4, audio_red_copies=1)
    stats.show_pipeline(snapshot(healthy, LIVE))
    values = {key: label.text() for key, label in stats.values.items()}
    assert values["target"] == "6000 / 6000 kb/s" and values["controllers"] == "6000 / 5500 kb/s"
    assert values["ladder"] == "1080p30" and values["retransmissions"] == "3 (0.3 %)"
    assert values["audio_red"] == "1"  # one redundant copy per Opus packet
    assert values["rtt"] == "18 ms" and values["feedback"] == "0.4 s" and values["nacks"] == "4"
    assert values["health"] == "Network good" and stats.values["health"].property("level") == "ok"
    assert badge.isVisible() and badge.text() == "● Network good" and badge.property("health") == "good"

    squeezed = WhipStats(target_bitrate_bps=1_200_000, max_bitrate_bps=6_000_000, rtt_ms=210.0,
                         packet_loss_pct=3.5, packets_sent=500, nacks_unanswered=7)
    stats.show_pipeline(snapshot(squeezed, LIVE))
    assert badge.property("health") == HealthLevel.FAIR.value
    assert "loss 3.5 %" in badge.toolTip() and "RTT 210 ms" in badge.toolTip()
    assert "bitrate held at 1200 of 6000 kb/s" in badge.toolTip()
    assert stats.values["target"].property("level") == "warn"
    assert stats.values["unanswered"].text() == "7" and stats.values["unanswered"].property("level") == "warn"
    assert stats.values["ladder"].text() == "—" and stats.values["controllers"].text() == "—"  # not measured
    assert stats.values["audio_red"].text() == "—"  # the server took plain Opus

    # the same verdict in the window's language
    translator().set_language("zh_CN")
    assert badge.text() == "● 网络一般" and "丢包 3.5 %" in badge.toolTip()
    translator().set_language("en")

    stats.show_pipeline(snapshot(squeezed, OutputState(OutputStatus.RECONNECTING, "no RTCP", 2.0)))
    assert badge.property("health") == "poor" and "reconnecting" in badge.toolTip()
    assert stats.values["rtt"].text() == "—" and stats.values["health"].text() == "Network poor: reconnecting"
    stats.show_pipeline(snapshot(None, None))  # the stream stopped
    assert badge.isHidden() and stats.values["rtt"].text() == "—" and stats.values["health"].text() == "—"


def test_reconnecting_says_why_and_when_and_never_shows_a_token(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    Secret("sk-echoed-by-the-server-31337")
    state = OutputState(OutputStatus.RECONNECTING,
                        "the server stopped answering (no RTCP for 3.0 s); body: sk-echoed-by-the-server-31337", 2.4)
    text, level = stream_status(state)
    assert text.startswith("Reconnecting in 3 s") and "no RTCP" in text and level == "warn"
    window.controls.set_status("stream", lambda: stream_status(state))
    shown = window.controls.status_text("stream")
    assert "no RTCP" in shown and "sk-echoed-by-the-server-31337" not in shown and "***" in shown
    window._show_message("POST failed: Bearer sk-echoed-by-the-server-31337")
    assert "31337" not in window.statusBar().currentMessage()


def test_without_a_keyring_the_token_may_go_to_a_user_only_file(make_window, qtbot, no_keyring: None,  # type: ignore[no-untyped-def]
                                                                 studio_home: Path) -> None:
    window = make_window()
    dialog = window.open_settings()
    assert dialog.keyring_missing and dialog.token_storage.currentData() == "session"
    assert dialog.token_file_warning.isHidden()
    dialog.token_storage.setCurrentIndex(dialog.token_storage.findData("file"))
    assert "readable only by your user account" in dialog.token_file_warning.text()
    dialog.local_relay.setChecked(False)
    dialog.stream_url.setText(URL)
    dialog.stream_token.setText("sk-file-KEPT-5150")
    assert dialog.apply()
    assert "readable only by you" in dialog.token_status.text()
    files = list(studio_home.rglob("stream-tokens.json"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert dialog.values().session_token is None  # kept in the file, not only for this session
    token = resolve_token(URL, None)  # what the stream's worker does
    assert token is not None and token.reveal() == "sk-file-KEPT-5150"
    dialog.forget_stored_token()
    assert "removed" in dialog.token_status.text() and resolve_token(URL, None) is None
    dialog.reject()
