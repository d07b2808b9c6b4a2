"""The remote control with the clients directors really use: obsws-python (JSON, no subprotocol,
integer request ids), simpleobsws (MessagePack) and obs-websocket-js under Node (requires the
subprotocol echo). Each connects with the password, lists scenes, switches program and preview,
runs a studio-mode transition, mutes, records, and receives the matching events."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from requirements_check import missing_tool

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.audio.inputs import ToneInput
from studio.commands import SetStudioMode
from studio.control.server import ControlConfig
from studio.secrets import Secret
from studio.show import Show

PASSWORD = "remote-pass-42"
NODE_DIR = Path(__file__).parent / "node"
WAIT_S = 20.0


def small_show(studio_mode: bool = True) -> Show:
    col = SceneCollection("control", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF202020", "width": 1280, "height": 720})
    col.add_source("card", "color", {"color": "#FFFF0000", "width": 320, "height": 180})
    for name in ("A", "B", "C"):
        scene = col.add_scene(name)
        scene.add_item(SceneItem("bg"))
        scene.add_item(SceneItem("card", x=40, y=40))
    return Show(col, serve_locally=False, studio_mode=studio_mode,
                control=ControlConfig(port=0, password=Secret(PASSWORD)))


@pytest.fixture
def show(studio_home: Path) -> Iterator[Show]:
    s = small_show()
    s.start()
    s.mixer.add_input(ToneInput("Mic"))
    try:
        yield s
    finally:
        s.stop()


class Waiter:
    """Collects events from a client's thread; tests wait for a matching one."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._cond = threading.Condition()

    def add(self, event_type: str, data: dict[str, Any]) -> None:
        with self._cond:
            self.events.append((event_type, data))
            self._cond.notify_all()

    def wait(self, event_type: str, **match: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for t, d in self.events:
                if t == event_type and all(d.get(k) == v for k, v in match.items()):
                    return d
            return None
        with self._cond:
            assert self._cond.wait_for(lambda: found() is not None, WAIT_S), \
                f"no {event_type} {match}; got {[t for t, _ in self.events]}"
            result = found()
            assert result is not None
            return result


def test_obsws_python_json_client(show: Show) -> None:
    import obsws_python as obs

    assert show.control is not None
    port = show.control.port
    waiter = Waiter()
    req = obs.ReqClient(host="127.0.0.1", port=port, password=PASSWORD, timeout=10)
    events = obs.EventClient(host="127.0.0.1", port=port, password=PASSWORD, timeout=10)
    # the client's callbacks are named after events; raw dicts are what we compare
    events.callback.trigger = lambda event_type, data: waiter.add(event_type, data)  # type: ignore[method-assign]
    try:
        version = req.get_version()
        assert {"GetSceneList", "SetCurrentProgramScene", "CallVendorRequest", "Sleep"} <= set(version.available_requests)
        assert "png" in version.supported_image_formats
        scenes = req.get_scene_list()
        assert [s["sceneName"] for s in scenes.scenes] == ["C", "B", "A"]  # as OBS lists them: last first
        assert scenes.current_program_scene_name == "A"

        req.set_current_preview_scene("B")
        waiter.wait("CurrentPreviewSceneChanged", sceneName="B")
        req.trigger_studio_mode_transition()
        waiter.wait("SceneTransitionStarted")
        waiter.wait("CurrentProgramSceneChanged", sceneName="B")
        waiter.wait("SceneTransitionEnded")
        assert show.collection.program_scene == "B"  # the engine really switched

        req.set_current_program_scene("C")
        waiter.wait("CurrentProgramSceneChanged", sceneName="C")
        assert req.get_current_program_scene().scene_name == "C"

        req.set_input_mute("Mic", True)
        waiter.wait("InputMuteStateChanged", inputName="Mic", inputMuted=True)
        assert show.mixer.state("Mic").muted
        assert req.toggle_input_mute("Mic").input_muted is False
        waiter.wait("InputMuteStateChanged", inputName="Mic", inputMuted=False)

        item = req.get_scene_item_id("C", "card").scene_item_id
        req.set_scene_item_enabled("C", item, False)
        waiter.wait("SceneItemEnableStateChanged", sceneName="C", sceneItemId=item, sceneItemEnabled=False)

        req.start_record()
        started = waiter.wait("RecordStateChanged", outputState="OBS_WEBSOCKET_OUTPUT_STARTED")
        assert started["outputActive"] is True
        assert req.get_record_status().output_active is True
        path = req.stop_record().output_path
        stopped = waiter.wait("RecordStateChanged", outputState="OBS_WEBSOCKET_OUTPUT_STOPPED")
        assert stopped["outputPath"] == path and Path(path).stat().st_size > 0

        shot = req.get_source_screenshot("C", "png", 320, 180, -1)
        assert shot.image_data.startswith("data:image/png;base64,")

        with pytest.raises(obs.error.OBSSDKRequestError) as unknown:
            req.send("GetGroupList")
        assert unknown.value.code == 204
    finally:
        events.disconnect()
        req.disconnect()


def test_obsws_python_wrong_password_is_closed_with_4009(show: Show) -> None:
    from websockets.sync.client import connect

    from studio.control.auth import auth_response

    assert show.control is not None
    with connect(show.control.url) as ws:
        hello = json.loads(ws.recv(10))
        auth = hello["d"]["authentication"]
        ws.send(json.dumps({"op": 1, "d": {"rpcVersion": 1,
                                           "authentication": auth_response("wrong", auth["salt"], auth["challenge"])}}))
        with pytest.raises(Exception):  # noqa: B017  the server closes; recv raises ConnectionClosed
            ws.recv(10)
        assert ws.close_code == 4009

    import obsws_python as obs

    with pytest.raises(Exception):  # noqa: B017  obsws-python has no error type for a closed identify
        obs.ReqClient(host="127.0.0.1", port=show.control.port, password="wrong", timeout=10)


def test_simpleobsws_msgpack_client_batch_with_sleep(show: Show) -> None:
    import simpleobsws

    assert show.control is not None
    url = show.control.url

    async def run() -> tuple[list[int], list[int], list[str], str | None]:
        client = simpleobsws.WebSocketClient(url=url, password=PASSWORD)
        seen: list[str] = []
        changed = asyncio.Event()

        async def on_event(event_type: str, data: dict[str, Any]) -> None:
            if event_type == "SceneTransitionEnded":
                seen.append(f"ended {data['transitionName']}")
            if event_type == "CurrentProgramSceneChanged":
                seen.append(data["sceneName"])
                if data["sceneName"] == "C":
                    changed.set()

        client.register_event_callback(on_event)
        await client.connect()
        try:
            assert await client.wait_until_identified()
            protocol = client.ws.subprotocol
            listed = await client.call(simpleobsws.Request("GetSceneList"))
            assert listed.ok() and len(listed.responseData["scenes"]) == 3
            results = await client.call_batch([
                simpleobsws.Request("SetCurrentSceneTransition", {"transitionName": "Cut"}),
                simpleobsws.Request("SetCurrentProgramScene", {"sceneName": "B"}),
                simpleobsws.Request("Sleep", {"sleepMillis": 200}),
                simpleobsws.Request("SetCurrentProgramScene", {"sceneName": "C"}),
            ], halt_on_failure=True)
            await asyncio.wait_for(changed.wait(), WAIT_S)
            halted = await client.call_batch([
                simpleobsws.Request("SetCurrentProgramScene", {"sceneName": "No such scene"}),
                simpleobsws.Request("SetCurrentProgramScene", {"sceneName": "A"}),
            ], halt_on_failure=True)
            frames = await client.call_batch([simpleobsws.Request("Sleep", {"sleepFrames": 3})],
                                             execution_type=simpleobsws.RequestBatchExecutionType.SerialFrame)
            assert frames[0].ok()
            return ([r.requestStatus.code for r in results], [r.requestStatus.code for r in halted], seen, protocol)
        finally:
            await client.disconnect()

    codes, halted, seen, protocol = asyncio.run(run())
    assert protocol == "obswebsocket.msgpack"
    assert codes == [100, 100, 100, 100]
    assert halted == [600]  # haltOnFailure: the second request never ran
    scenes = [s for s in seen if not s.startswith("ended")]
    assert scenes[-2:] == ["B", "C"]  # the Sleep kept both cuts apart, in order
    assert "ended Cut" in seen  # a cut is a transition too, as in OBS
    assert show.collection.program_scene == "C"


def test_obs_websocket_js_under_node(show: Show) -> None:
    node = shutil.which("node") or ""
    if not node:
        missing_tool("node is not installed (the Makefile installs Debian's nodejs and npm)")
    if not (NODE_DIR / "node_modules" / "obs-websocket-js").is_dir():
        missing_tool(f"obs-websocket-js is not installed: run `npm ci` in {NODE_DIR} (make setup does)")
    assert show.control is not None
    show.studio.submit(SetStudioMode(False))  # the panel turns it on itself
    run = subprocess.run([node, "control_client.mjs", show.control.url, PASSWORD], cwd=NODE_DIR,
                         capture_output=True, text=True, timeout=120, env={**os.environ, "NODE_NO_WARNINGS": "1"},
                         check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["protocol"] == "obswebsocket.json"  # the subprotocol was echoed
    assert out["scenes"] == ["C", "B", "A"]
    assert out["preview"] == "B" and out["program"] == "B" and out["transitionEnded"]
    assert out["muted"] is True
    assert out["recordStarted"] is True and out["recordStopped"] is True and Path(out["recordPath"]).exists()
    assert out["batchCodes"] == [100, 100, 100, 204]
    assert out["msgpackProtocol"] == "obswebsocket.msgpack" and out["msgpackScenes"] == 3
    assert out["wrongPassword"] == 4009
