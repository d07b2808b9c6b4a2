"""RTMP destinations against a real nginx-rtmp server started by the test: push, pull back, decode;
a killed server while WHIP and the recording go on; a refused key; a wrong host; isolation."""

from __future__ import annotations

import statistics
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import pytest
from aiohttp import web
from rtmp_server import RtmpServer, free_port

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.audio.mixer import AudioMixer
from studio.engine import Studio
from studio.net.loop import NetLoop
from studio.outputs.destinations import Destination, DestinationStats
from studio.outputs.mux_destination import WriterConfig
from studio.outputs.pipeline import OutputPipeline
from studio.outputs.recorder import RecorderState
from studio.outputs.whip_events import OutputStatus
from studio.secrets import Secret
from studio.services.local import LocalServices
from studio.sync_clip import av_offsets_ms, click_times, flash_times, write_sync_clip

KEY = "live-key-7f3a9c"
SYNC_BOX = (140, 140, 100, 100)  # inside the clip placed at (100, 100)
FAST = WriterConfig(backoff_initial_s=0.3, backoff_factor=1.5, backoff_max_s=1.0, io_timeout_s=3.0)


class Rig:
    """Studio + mixer + pipeline on a 720p30 canvas with a looping clap-and-flash clip."""

    def __init__(self, tmp_path: Path) -> None:
        clip = tmp_path / "sync.mp4"
        write_sync_clip(clip, [0.5, 1.5, 2.5], seconds=3.0)
        col = SceneCollection("live", VideoFormat(1280, 720, 30))
        col.add_source("bg", "color", {"color": "#FF203040", "width": 1280, "height": 720})
        col.add_source("clip", "media", {"path": str(clip), "loop": True})
        col.add_scene("Show").add_item(SceneItem("bg"))
        col.scene("Show").add_item(SceneItem("clip", x=100, y=100))
        self.studio = Studio(col)
        self.mixer = AudioMixer()
        self.net = NetLoop()
        self.pipeline = OutputPipeline(self.studio, self.mixer, net=self.net)
        self.pipeline.destinations.writer_config = FAST
        self.states: dict[str, list[DestinationStats]] = {}
        self._cond = threading.Condition()
        self.pipeline.destinations.events.changed.connect(self._on_changed)

    def _on_changed(self, stats: DestinationStats) -> None:
        with self._cond:
            self.states.setdefault(stats.id, []).append(stats)
            self._cond.notify_all()

    def wait_for(self, dest: Destination, pred: Callable[[DestinationStats], bool], timeout: float = 60) -> DestinationStats:
        with self._cond:
            found: list[DestinationStats] = []

            def seen() -> bool:
                found[:] = [s for s in self.states.get(dest.id, []) if pred(s)]
                return bool(found)

            assert self._cond.wait_for(seen, timeout), f"{dest.name}: {self.states.get(dest.id, [])[-3:]}"
            return found[-1]

    def last(self, dest: Destination) -> DestinationStats:
        with self._cond:
            return self.states[dest.id][-1]

    def start(self) -> None:
        self.studio.start()
        self.mixer.start()

    def close(self) -> None:
        self.pipeline.close()
        self.mixer.stop()
        self.studio.stop()
        self.net.stop()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    r.start()
    try:
        yield r
    finally:
        r.close()


def live(s: DestinationStats) -> bool:
    return s.state is OutputStatus.LIVE


def pull(url: str, out: Path, video_packets: int = 130) -> Path:
    """Read the published stream back from the server, remuxed (not re-encoded) into ``out``."""
    with av.open(url, timeout=(10, 10)) as src, av.open(str(out), "w", format="matroska") as dst:
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
        seen = 0
        for packet in src.demux():
            if packet.stream.index not in streams or packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)
            if packet.stream.type == "video":
                seen += 1
                if seen >= video_packets:
                    break
    return out


def test_rtmp_push_pull_back_size_rate_and_sync(rig: Rig, tmp_path: Path) -> None:
    with RtmpServer(tmp_path / "nginx") as server:
        dest = Destination(server.url)
        rig.pipeline.destinations.start(dest, Secret(KEY))
        rig.wait_for(dest, live)
        got = pull(f"{server.url}/{KEY}", tmp_path / "pulled.mkv")
        rig.pipeline.destinations.stop(dest.id)
    with av.open(str(got)) as c:
        kinds = sorted(s.type for s in c.streams)
        vstream = c.streams.video[0]
        frames = list(c.decode(video=0))
    assert kinds == ["audio", "video"]
    assert (frames[0].width, frames[0].height) == (1280, 720)
    gaps = [b.time - a.time for a, b in zip(frames, frames[1:], strict=False) if a.time is not None and b.time is not None]
    assert abs(1 / statistics.median(gaps) - 30) < 1, f"frame rate {1 / statistics.median(gaps):.1f}"
    assert vstream.codec_context.name == "h264"
    with av.open(str(got)) as c:
        audio = next(c.decode(audio=0))
    assert audio.sample_rate == 48000
    offsets = av_offsets_ms(flash_times(got, SYNC_BOX), click_times(got))
    assert offsets, "no flash/click pairs in the pulled stream"
    assert abs(statistics.median(offsets)) <= 40, f"A/V offset {offsets} ms"
    final = rig.last(dest)
    assert final.state is OutputStatus.STOPPED and final.reconnects == 0
    assert KEY not in repr(rig.states)  # the key never shows in the events


def test_killed_server_leaves_whip_and_recording_alone_and_rtmp_comes_back(rig: Rig, tmp_path: Path) -> None:
    services = LocalServices(rig.net, relay_port=0, hub_port=0)
    port = free_port()
    server = RtmpServer(tmp_path / "nginx", port=port).start()
    try:
        urls = services.start()
        whip = Destination(urls.whip)
        rtmp = Destination(server.url)
        rig.pipeline.start_recording(tmp_path / "show.mkv")
        rig.pipeline.destinations.start(whip)
        rig.pipeline.destinations.start(rtmp, Secret(KEY))
        rig.wait_for(whip, live)
        first = rig.wait_for(rtmp, lambda s: live(s) and s.sent_frames >= 30)
        assert rig.pipeline.video_fanout.sink_names.count("recorder") == 1
        server.kill()
        rig.wait_for(rtmp, lambda s: s.state is OutputStatus.RECONNECTING)
        recorded = rig.pipeline.recorder.stats().video_packets if rig.pipeline.recorder else 0
        whip_sent = rig.pipeline.stream.state if rig.pipeline.stream else None
        assert whip_sent is not None and whip_sent.state is OutputStatus.LIVE
        server = RtmpServer(tmp_path / "nginx", port=port).start()
        back = rig.wait_for(rtmp, lambda s: live(s) and s.reconnects >= 1 and s.sent_frames > first.sent_frames + 30)
        assert back.reconnects >= 1
        pull(f"{server.url}/{KEY}", tmp_path / "again.mkv", video_packets=20)
        assert rig.pipeline.stream is not None and rig.pipeline.stream.state.state is OutputStatus.LIVE
        assert rig.last(whip).reconnects == 0
        recorder = rig.pipeline.recorder
        assert recorder is not None and recorder.state is RecorderState.RECORDING
        assert recorder.stats().video_packets > recorded and recorder.queue.overflowed == 0  # never held up
    finally:
        rig.pipeline.destinations.stop_all()
        rig.pipeline.stop_recording()
        server.kill()
        services.stop()


def _forbid_app() -> web.Application:
    app = web.Application()

    async def on_publish(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(status=403, text="bad key")

    app.router.add_post("/on_publish", on_publish)
    return app


def test_refused_key_stops_with_a_clear_message_others_unaffected(rig: Rig, tmp_path: Path) -> None:
    port = free_port()

    async def serve() -> web.AppRunner:
        runner = web.AppRunner(_forbid_app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    rig.net.start()
    runner = rig.net.run(serve(), 10)
    try:
        with RtmpServer(tmp_path / "refusing", on_publish=f"http://127.0.0.1:{port}/on_publish") as refusing, \
                RtmpServer(tmp_path / "good") as good:
            bad = Destination(refusing.url, name="refusing")
            ok = Destination(good.url, name="good")
            rig.pipeline.destinations.start(bad, Secret(KEY))
            rig.pipeline.destinations.start(ok, Secret(KEY))
            failed = rig.wait_for(bad, lambda s: s.state is OutputStatus.FAILED)
            assert "stream key" in failed.message and KEY not in failed.message
            rig.wait_for(ok, lambda s: live(s) and s.sent_frames >= 30)
            assert rig.last(ok).reconnects == 0
            rig.pipeline.destinations.stop_all()
    finally:
        rig.net.run(runner.cleanup(), 10)


def test_wrong_host_retries_with_a_message_and_the_other_goes_on(rig: Rig, tmp_path: Path) -> None:
    with RtmpServer(tmp_path / "good") as good:
        nowhere = Destination(f"rtmp://127.0.0.1:{free_port()}/live", name="nowhere")
        ok = Destination(good.url, name="good")
        rig.pipeline.destinations.start(nowhere, Secret(KEY))
        rig.pipeline.destinations.start(ok, Secret(KEY))
        retry = rig.wait_for(nowhere, lambda s: s.state is OutputStatus.RECONNECTING and s.reconnects >= 0
                             and "refused" in s.message)
        assert "connection refused" in retry.message
        rig.wait_for(ok, lambda s: live(s) and s.sent_frames >= 30)
        rig.wait_for(nowhere, lambda s: s.reconnects >= 2)  # keeps trying on its own (a server may come)
        assert rig.last(ok).dropped_frames == 0
        rig.pipeline.destinations.stop_all()


def test_silent_server_cannot_hold_the_writer(rig: Rig) -> None:
    """A host that accepts and never answers (the RTMP handshake hangs): the stall guard ends it."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, name="silent-server")
    thread.start()
    try:
        dest = Destination(f"rtmp://127.0.0.1:{listener.getsockname()[1]}/live")
        rig.pipeline.destinations.start(dest, Secret(KEY))
        rig.wait_for(dest, lambda s: s.state is OutputStatus.RECONNECTING)
        rig.wait_for(dest, lambda s: s.reconnects >= 1)
        rig.pipeline.destinations.stop(dest.id)
    finally:
        stop.set()
        thread.join()
        for s in accepted:
            s.close()
        listener.close()


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown scheme 'ftp'"):
        Destination("ftp://example.com/live/key")




def test_a_host_name_that_does_not_resolve_says_so(rig: Rig) -> None:
    dest = Destination("rtmp://no-such-host.invalid/live", name="typo")
    rig.pipeline.destinations.start(dest, Secret(KEY))
    retry = rig.wait_for(dest, lambda s: s.state is OutputStatus.RECONNECTING)
    assert "does not resolve" in retry.message
    rig.pipeline.destinations.stop(dest.id)


def test_two_whip_destinations_adaptive_and_main_encode(rig: Rig) -> None:
    services = LocalServices(rig.net, relay_port=0, hub_port=0)
    try:
        urls = services.start()
        first = Destination(urls.whip, name="relay")
        second = Destination(urls.whip.replace("/whip/live", "/whip/second"), name="second")
        rig.pipeline.destinations.start(first)
        rig.pipeline.destinations.start(second)
        rig.wait_for(first, live)
        rig.wait_for(second, live)
        assert rig.pipeline.stream is not None  # the first is the adaptive stream
        assert "dest:" + second.id in rig.pipeline.video_fanout.sink_names  # the second: the main encode
        rig.pipeline.destinations.stop_all()
        assert rig.pipeline.stream is None and rig.pipeline.video_fanout.sink_names == []
    finally:
        services.stop()
