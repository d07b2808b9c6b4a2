"""Where the stream token comes from when the keyring fails, the user-only token file, and the one
redaction for log records and status lines."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from tests_keyring import MemoryKeyring

from studio import secrets
from studio.outputs.health import HealthLevel, network_health
from studio.outputs.whip_events import OutputState, OutputStatus, WhipStats
from studio.stream_token import keyring_key, resolve_token, store_token
from studio.webrtc.liveness import FeedbackSilence

URL = "https://live.example.com/whip/room-1"


@pytest.fixture
def failing_keyring(studio_home: Path) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def broken_keyring() -> MemoryKeyring:
    """A keyring that raises what a dead Secret Service raises. An instance, not a subclass: keyring's
    chainer backend picks up every KeyringBackend subclass it can build, so a failing class would leak
    into every later test that uses the default keyring."""
    backend = MemoryKeyring()

    def get_password(service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")  # not even a KeyringError

    backend.get_password = get_password  # type: ignore[method-assign]
    return backend


def test_no_keyring_is_no_token_not_an_error(failing_keyring: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert resolve_token(URL, None) is None
    assert "no OS keyring" in caplog.text and "without one" in caplog.text


def test_a_broken_keyring_backend_does_not_stop_the_stream(studio_home: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(broken_keyring())
    try:
        assert resolve_token(URL, None) is None
    finally:
        keyring.set_keyring(previous)


def test_a_named_environment_variable_must_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    with pytest.raises(ValueError, match="NO_SUCH_TOKEN_VAR"):
        resolve_token(URL, "NO_SUCH_TOKEN_VAR")


def test_the_keyring_comes_first(memory_keyring: MemoryKeyring, studio_home: Path) -> None:
    store_token(URL, "tok-keyring-1")
    secrets.set_file_token(keyring_key(URL), "tok-file-2")
    token = resolve_token(URL, None)
    assert token is not None and token.reveal() == "tok-keyring-1"


def test_the_token_file_is_readable_only_by_the_user(failing_keyring: None, studio_home: Path) -> None:
    path = secrets.set_file_token(keyring_key(URL), "tok-in-a-file-77")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = resolve_token(URL, None)  # no keyring: the file serves
    assert token is not None and token.reveal() == "tok-in-a-file-77"
    path.chmod(0o644)  # loosened by someone: closed again before it is read
    assert secrets.get_file_token(keyring_key(URL)) is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.delete_file_token(keyring_key(URL)) and not path.exists()
    assert not secrets.delete_file_token(keyring_key(URL))
    assert resolve_token(URL, None) is None


def test_one_redaction_for_logs_and_status_lines() -> None:
    secrets.Secret("tok/with spaces&more")
    line = "403: tok/with spaces&more rejected (tok%2Fwith%20spaces%26more) Authorization: Bearer other-xyz"
    assert secrets.redact(line) == "403: *** rejected (***) Authorization: Bearer ***"


def test_output_state_messages_are_redacted_at_the_source() -> None:
    from studio.net import NetLoop
    from studio.outputs.whip import WhipConfig, WhipOutput

    output = WhipOutput(WhipConfig(url="http://127.0.0.1:9/whip", token="tok-echo-5555",
                                   audio=_opus()), NetLoop())
    seen: list[OutputState] = []
    output.state_changed.connect(seen.append)
    output._emit(OutputStatus.FAILED, "401: you sent tok-echo-5555")
    assert seen[-1].message == "401: you sent ***" and output.state.message == "401: you sent ***"


def _opus():  # type: ignore[no-untyped-def]
    from fractions import Fraction

    from encoders.packets import StreamInfo

    return StreamInfo(kind="audio", codec="opus", time_base=Fraction(1, 48000))


def test_silence_counts_only_after_the_first_rtcp_and_only_while_awake() -> None:
    watch = FeedbackSilence(silence_s=3.0, poll_s=0.25)
    assert not any(watch.tick(0, t / 4) for t in range(100))  # never reported: never armed
    assert not watch.tick(1, 25.0) and watch.armed
    assert watch.allowance_s == 10.0  # its pace is not known yet
    for packets, now in ((1, 25.5), (2, 26.0)):  # a report a second later: the pace is known
        assert not watch.tick(packets, now)
    assert watch.allowance_s == 3.0
    for packets, now in ((2, 26.5), (3, 27.0)):
        assert not watch.tick(packets, now)
    assert watch.allowance_s == 3.0
    assert not watch.tick(3, 27.25)
    assert not watch.tick(3, 42.25)  # a 15 s loop stall counts as one tick (0.5 s), not as silence
    ticks = [watch.tick(3, 42.25 + i * 0.25) for i in range(1, 10)]
    assert ticks[-1] and not any(ticks[:-1])  # 0.25 + 0.5 + 9 * 0.25 = 3.0
    assert not watch.tick(4, 44.75) and watch.quiet_s == 0.0  # a report resets it


def test_a_receiver_that_reports_slowly_gets_a_longer_allowance() -> None:
    watch = FeedbackSilence(silence_s=3.0, poll_s=0.25, max_silence_s=10.0)
    now, packets = 0.0, 1
    watch.tick(packets, now)
    for _ in range(4):  # reports every 5 s (RFC 3550's minimum, libwebrtc's audio-only interval)
        for _ in range(19):
            now += 0.25
            assert not watch.tick(packets, now)
        now += 0.25
        packets += 1
        assert not watch.tick(packets, now)
    assert watch.allowance_s == 10.0  # 2.5 x 5 s, capped
    fast = FeedbackSilence(silence_s=3.0)
    fast.tick(1, 0.0)
    for i in range(1, 6):  # about once a second
        fast.tick(1 + i, i * 1.0)
    assert fast.allowance_s == 3.0


def test_network_health_levels_and_reasons() -> None:
    live = OutputState(OutputStatus.LIVE)
    assert network_health(None, None) is None
    assert network_health(WhipStats(), OutputState(OutputStatus.STOPPED)) is None
    good = network_health(WhipStats(rtt_ms=20, target_bitrate_bps=6_000_000, max_bitrate_bps=6_000_000), live)
    assert good is not None and good.level is HealthLevel.GOOD and not good.reasons
    fair = network_health(WhipStats(rtt_ms=200, packet_loss_pct=3.0), live)
    assert fair is not None and fair.level is HealthLevel.FAIR
    assert fair.summary() == "loss 3.0 %; RTT 200 ms"
    squeezed = network_health(WhipStats(target_bitrate_bps=1_000_000, max_bitrate_bps=6_000_000), live)
    assert squeezed is not None and squeezed.level is HealthLevel.FAIR
    assert squeezed.summary() == "bitrate held at 1000 of 6000 kb/s"
    poor = network_health(WhipStats(packet_loss_pct=12.0, feedback_age_s=2.6), live)
    assert poor is not None and poor.level is HealthLevel.POOR and len(poor.reasons) == 2
    reconnecting = network_health(None, OutputState(OutputStatus.RECONNECTING, "gone", 2.0))
    assert reconnecting is not None and reconnecting.level is HealthLevel.POOR


def test_headless_network_line_is_compact_and_never_stale() -> None:
    from studio.headless import stream_line

    stats = WhipStats(bitrate_bps=2_400_000, target_bitrate_bps=2_500_000, max_bitrate_bps=6_000_000,
                      rtt_ms=35.0, packet_loss_pct=1.2, nacks=9, retransmissions=7, nacks_unanswered=1,
                      delay_target_bps=2_500_000, loss_target_bps=3_000_000, ladder_step="720p30",
                      feedback_age_s=0.5, audio_red_copies=2)
    line = stream_line(stats, OutputState(OutputStatus.LIVE))
    assert line.startswith("studio: net fair (bitrate held at 2500 of 6000 kb/s)  2400/2500 kb/s")
    for part in ("delay 2500", "loss 3000", "rtt 35 ms", "loss 1.2 %", "nack 9", "rtx 7", "unanswered 1",
                 "ladder 720p30", "red 2", "fb 0.5 s"):
        assert part in line, part
    waiting = stream_line(stats, OutputState(OutputStatus.RECONNECTING, "gone", 2.0))
    assert waiting == "studio: net poor (reconnecting)"


def test_a_broken_keyring_backend_is_a_store_error_and_the_control_password_falls_back(studio_home: Path) -> None:
    from studio.control.password import load_password
    from studio.secrets import SecretStoreError, get_token, set_file_token

    previous = keyring.get_keyring()
    keyring.set_keyring(broken_keyring())
    try:
        with pytest.raises(SecretStoreError, match="cannot read the token"):
            get_token("control:password")
        set_file_token("control:password", "kept-in-the-file")
        password = load_password()
        assert password is not None and password.reveal() == "kept-in-the-file"
    finally:
        keyring.set_keyring(previous)
