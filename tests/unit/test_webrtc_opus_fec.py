"""Opus in-band FEC follows the receiver's reported loss (issue 11, item 6)."""

from __future__ import annotations

import numpy as np
import pytest

from encoders.audio import AudioEncoder, fec_step
from encoders.packets import EncodedPacket
from encoders.settings import AudioEncoderSettings

BLOCK = 960


def signal(blocks: int, seed: int = 1) -> np.ndarray:
    t = np.arange(blocks * BLOCK) / 48_000
    rng = np.random.default_rng(seed)
    mono = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(len(t))
    return np.stack([mono, mono], axis=1).astype(np.float32)


def encode(encoder: AudioEncoder, samples: np.ndarray, start: int) -> list[EncodedPacket]:
    out: list[EncodedPacket] = []
    for i in range(0, len(samples), BLOCK):
        out.extend(encoder.encode(samples[i : i + BLOCK], start + i))
    return out


def carries_fec(packet: bytes) -> bool:
    """SILK/hybrid single-frame packet whose mid channel has its LBRR (FEC) flag set: after the
    TOC byte, the range coder's first two equiprobable symbols are the VAD and LBRR flags."""
    config, code = packet[0] >> 3, packet[0] & 3
    return config < 16 and code == 0 and len(packet) > 1 and bool(packet[1] & 0x40)


def test_no_fec_is_paid_for_on_a_clean_link_and_it_turns_on_with_reported_loss() -> None:
    encoder = AudioEncoder(AudioEncoderSettings("opus"))
    clean = encode(encoder, signal(50), 0)
    assert encoder.expected_loss_pct == 0
    assert not any(carries_fec(p.data) for p in clean)
    assert all(p.data[0] >> 3 >= 16 for p in clean[1:])  # CELT: no room for FEC

    encoder.set_expected_loss(12.0)  # RTCP fraction lost 31/256
    lossy = encode(encoder, signal(50, seed=2), 50 * BLOCK)
    assert encoder.expected_loss_pct == 20 and encoder.fec_reopens == 1
    assert sum(carries_fec(p.data) for p in lossy) >= 5
    # the reopen keeps the packet clock: one packet per 20 ms, no jump or overlap
    pts = [p.pts for p in clean + lossy]
    assert np.all(np.diff(pts) == BLOCK)


def test_the_expected_loss_steps_up_at_once_and_down_with_hysteresis() -> None:
    assert fec_step(0.4, 0) == 0
    assert fec_step(3, 0) == 5
    assert fec_step(12, 5) == 20
    assert fec_step(15, 20) == 20  # still above half the step: stay
    assert fec_step(8, 20) == 10
    assert fec_step(0, 10) == 0
    assert fec_step(70, 0) == 30  # the top step


def test_a_repeated_report_does_not_reopen_the_encoder() -> None:
    encoder = AudioEncoder(AudioEncoderSettings("opus"))
    for i, loss in enumerate((6.0, 7.0, 9.0, 6.0)):
        encoder.set_expected_loss(loss)
        encode(encoder, signal(3), i * 3 * BLOCK)
    assert encoder.expected_loss_pct == 10 and encoder.fec_reopens == 1


@pytest.mark.parametrize("codec", ["aac"])
def test_other_codecs_ignore_loss_reports(codec: str) -> None:
    encoder = AudioEncoder(AudioEncoderSettings(codec))  # type: ignore[arg-type]
    encoder.set_expected_loss(30)
    encode(encoder, signal(3), 0)
    assert encoder.expected_loss_pct == 0 and encoder.fec_reopens == 0
