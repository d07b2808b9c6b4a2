"""A 4K show headless, for real: a 3840x2160 canvas starts with the libx264 plan (figures injected:
16 fps at 4K here, so it records 1080p scaled), `--stream-max-height 720` gives the stream its own
720p encode to a real relay, a real aiortc viewer sees 720p, the recording is 1080p; SIGTERM (as a
service manager sends it) stops it cleanly once the viewer has its frames."""

from __future__ import annotations

import argparse
import functools
import os
import signal
import threading
from pathlib import Path
from typing import Any

import av
import pytest
from whep_viewer import open_viewer

from encoders.capability import EncodeCapability
from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio import headless
from studio.collections import save_collection
from studio.net.loop import NetLoop
from studio.outputs.output_plan import plan_outputs
from studio.outputs.whip_events import OutputStatus
from studio.services.relay import RelayServer
from studio.show import Show

WAIT_S = 120.0  # the shared 2-core box composites 4K slowly; every wait is on an event


def _collection(path: Path) -> Path:
    col = SceneCollection("uhd", VideoFormat(3840, 2160, 30))
    col.add_source("bg", "color", {"color": "#FF203040", "width": 3840, "height": 2160})
    col.add_source("box", "color", {"color": "#FFE0C020", "width": 960, "height": 540})
    col.add_scene("Show").add_item(SceneItem("bg"))
    col.scene("Show").add_item(SceneItem("box", x=400, y=300))
    save_collection(col, path)
    return path


def x264_at_4k(*_args: object, **_kwargs: object) -> EncodeCapability:
    return EncodeCapability("libx264", "superfast", 3840, 2160, 16.0, 8)


def test_a_4k_show_records_the_plan_and_streams_at_the_cap(
        tmp_path: Path, studio_home: Path, memory_keyring: object, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(headless, "plan_outputs", functools.partial(
        plan_outputs, usable=lambda: ["libx264"], measure=x264_at_4k))
    shows: list[Show] = []
    created = threading.Event()

    class WatchedShow(Show):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            shows.append(self)
            created.set()

    monkeypatch.setattr(headless, "Show", WatchedShow)
    net = NetLoop()
    net.start()
    relay = RelayServer(port=0, keyframe_request_interval_s=0.0)
    net.run(relay.start())
    out = tmp_path / "show.mkv"
    args = argparse.Namespace(collection=_collection(tmp_path / "uhd.json"), scene=None, record=out,
                              stream=[relay.url("/whip/live")], token_env=None, seconds=None,
                              stream_max_height=720)
    seen: list[tuple[int, int]] = []
    problems: list[BaseException] = []

    def watch_then_stop() -> None:
        try:
            assert created.wait(WAIT_S)
            pipeline = shows[0].pipeline
            live = threading.Event()
            pipeline.stream_state.connect(lambda s: live.set() if s.state is OutputStatus.LIVE else None)
            stream = pipeline.stream
            if stream is not None and stream.state.state is OutputStatus.LIVE:
                live.set()
            assert live.wait(WAIT_S)

            async def frames() -> list[tuple[int, int]]:
                viewer = await open_viewer(relay.url("/whep/live"))
                try:
                    return [(f.width, f.height) for f in await viewer.wait("video", 3)]  # type: ignore[attr-defined]
                finally:
                    await viewer.close()

            seen.extend(net.run(frames(), WAIT_S))
        except BaseException as exc:  # noqa: BLE001 - reported on the test's thread
            problems.append(exc)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # headless stops on SIGTERM, as under a service manager

    previous = signal.getsignal(signal.SIGTERM)
    watcher = threading.Thread(target=watch_then_stop, name="test-4k-watcher")
    try:
        watcher.start()
        code = headless.run_headless(args)  # on the main thread: it installs the SIGTERM handler
    finally:
        watcher.join(WAIT_S * 3)
        signal.signal(signal.SIGTERM, previous)
        net.run(relay.stop())
        net.stop()
    if problems:
        raise problems[0]
    assert code == 0
    text = capsys.readouterr().out
    assert "studio: 4K: libx264 (superfast) encodes 3840×2160 at 16 fps here; records 1920×1080 scaled " \
           "from the 3840×2160 canvas, streams 720p" in text, text
    assert "studio: stopped after" in text
    assert set(seen) == {(1280, 720)}, seen  # the stream at the cap, its own encode
    with av.open(str(out)) as container:
        sizes = {(f.width, f.height) for f in container.decode(video=0)}
    assert sizes == {(1920, 1080)}  # the recording at the plan's size
