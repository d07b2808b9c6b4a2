"""`studio headless --stream URL` repeated: the scheme picks the protocol, --key-env gives the RTMP
key; the key never appears in the output; an unknown scheme is one clear line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from rtmp_server import RtmpServer
from test_headless_stream_token import NO_KEYRING, collection

from studio.bench._relay_process import studio_command
from studio.headless_destinations import destination_line, destinations_from_args
from studio.outputs.destinations import DestinationKind, DestinationStats
from studio.outputs.whip_events import OutputStatus

KEY = "headless-key-91c2e8"
_ = collection  # the fixture, imported for this module's tests


def run(tmp_path: Path, collection: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DRAMA_STUDIO_HOME=str(tmp_path / "home"), PYTHON_KEYRING_BACKEND=NO_KEYRING,
               QT_QPA_PLATFORM="offscreen", RTMP_KEY=KEY)
    return subprocess.run([*studio_command(), "headless", "--collection", str(collection), *args],
                          env=env, capture_output=True, text=True, timeout=300)


def test_two_rtmp_destinations_from_one_encode_key_never_shown(tmp_path: Path, collection: Path) -> None:
    with RtmpServer(tmp_path / "a") as a, RtmpServer(tmp_path / "b") as b:
        done = run(tmp_path, collection, "--stream", a.url, "--stream", f"{b.url}/{KEY}2",
                   "--key-env", "RTMP_KEY", "--seconds", "6", "--control-port", "0")
    output = done.stdout + done.stderr
    assert "rtmp stream1 live" in output and "rtmp stream2 live" in output, output
    assert KEY not in output and "Traceback" not in output
    assert done.returncode == 0


def test_unknown_scheme_is_one_clear_line(tmp_path: Path, collection: Path) -> None:
    done = run(tmp_path, collection, "--stream", "ftp://example.com/live/secret", "--seconds", "1")
    assert done.returncode == 2
    assert "unknown scheme 'ftp'" in done.stderr and "Traceback" not in done.stderr


def test_destinations_from_args_split_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K", "rtmp-key-abcdef")
    monkeypatch.setenv("T", "whip-token-abcdef")
    found = destinations_from_args(["rtmp://h/app", "rtmp://h/app/inurlkey", "srt://h:9000?latency=300",
                                    "https://w.example/whip"], "T", "K")
    kinds = [d.kind for d, _, _ in found]
    assert kinds == [DestinationKind.RTMP, DestinationKind.RTMP, DestinationKind.SRT, DestinationKind.WHIP]
    assert found[0][1] is not None and found[0][1].reveal() == "rtmp-key-abcdef"
    assert found[1][1] is None  # the key is already in the URL
    assert found[2][2] is not None and found[2][0].srt.latency_ms == 300  # SRT: --key-env is the passphrase
    assert found[3][1] is not None and found[3][1].reveal() == "whip-token-abcdef"
    line = destination_line(DestinationStats(found[1][0].id, "x", DestinationKind.RTMP, OutputStatus.RECONNECTING,
                                             f"failed at {found[1][0].url}"))
    assert "inurlkey" not in line
    assert found[1][0].display_url.endswith("/app/***")
