"""`studio headless --stream … --record …` as a user runs it (a child process) onto a disk with
far under 1 GB free that fills up during the show: the show starts (low disk is a warning), the
full disk stops the recording in one status line with no traceback, the stream goes on, and the
file written so far plays."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from pattern_show import pattern_collection

from studio.bench._relay_process import studio_command
from studio.collections import save_collection
from studio.net import NetLoop
from studio.services.local import LocalServices

NO_KEYRING = "keyring.backends.fail.Keyring"


@pytest.fixture
def relay(net: NetLoop) -> Iterator[LocalServices]:
    services = LocalServices(net, relay_port=0, hub_port=0)
    services.start()
    yield services
    services.stop()


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    col = pattern_collection("moving")
    path = tmp_path / "moving.json"
    save_collection(col, path)
    return path


def test_full_disk_stops_the_recording_in_one_line_and_the_stream_goes_on(
        relay: LocalServices, collection: Path, tiny_filesystem: Path, tmp_path: Path) -> None:
    target = tiny_filesystem / "show.mkv"
    env = dict(os.environ, DRAMA_STUDIO_HOME=str(tmp_path / "home"), PYTHON_KEYRING_BACKEND=NO_KEYRING,
               QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [*studio_command(), "headless", "--collection", str(collection), "--stream", relay.urls.whip,
         "--record", str(target), "--seconds", "12"],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert done.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert f"studio: recording to {target}" in lines  # far under 1 GB free: started anyway
    assert len([line for line in lines if "low disk space" in line]) == 1
    full = [i for i, line in enumerate(lines) if "the disk is full" in line]
    assert len(full) == 1, output[-3000:]
    assert lines[full[0]].startswith("studio: recording: the disk is full: recording stopped after ")
    assert any(line.startswith("studio: stream live") for line in lines[:full[0]])
    after = lines[full[0] + 1:]
    assert sum(line.startswith("studio: net ") for line in after) >= 2, output[-3000:]  # still streaming
    changes = [line for line in after if line.startswith("studio: stream ")]
    assert changes == ["studio: stream stopped: stopped"], "\n".join(after)  # live until the show ended
    with av.open(str(target)) as recording:
        frames = 0
        try:
            for _ in recording.decode(video=0):
                frames += 1
        except av.FFmpegError:
            pass  # the packet the disk cut short
    assert frames >= 30
