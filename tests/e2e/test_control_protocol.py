"""Bad input to the remote control over a real websocket: every malformed frame, unknown op, wrong
type, request before Identify and flood ends in the documented close code or request status, and
the server keeps serving the next client."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.control.auth import auth_response
from studio.control.server import ControlConfig
from studio.control.session import RateLimit
from studio.secrets import Secret
from studio.show import Show

PASSWORD = "p4ssw0rd-for-tests"


def make_show(config: ControlConfig, studio_mode: bool = False) -> Show:
    col = SceneCollection("control", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF202020", "width": 1280, "height": 720})
    for name in ("A", "B"):
        col.add_scene(name).add_item(SceneItem("bg"))
    return Show(col, serve_locally=False, studio_mode=studio_mode, control=config)


@pytest.fixture
def show(studio_home: Path) -> Iterator[Show]:
    s = make_show(ControlConfig(port=0, password=Secret(PASSWORD), identify_timeout_s=0.5, max_sessions=4))
    s.start()
    try:
        yield s
    finally:
        s.stop()


def url(show: Show) -> str:
    assert show.control is not None
    return show.control.url


def identify(ws: ClientConnection, **extra: Any) -> dict[str, Any]:
    hello = json.loads(ws.recv(10))
    assert hello["op"] == 0 and hello["d"]["rpcVersion"] == 1
    auth = hello["d"]["authentication"]
    data = {"rpcVersion": 1, "authentication": auth_response(PASSWORD, auth["salt"], auth["challenge"]), **extra}
    ws.send(json.dumps({"op": 1, "d": data}))
    identified = json.loads(ws.recv(10))
    assert identified == {"op": 2, "d": {"negotiatedRpcVersion": 1}}
    return identified


def closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            ws.recv(10)
    return ws.close_code


def request(ws: ClientConnection, request_type: str, data: Any = None, request_id: Any = "r") -> dict[str, Any]:
    d: dict[str, Any] = {"requestType": request_type, "requestId": request_id}
    if data is not None:
        d["requestData"] = data
    ws.send(json.dumps({"op": 6, "d": d}))
    reply = json.loads(ws.recv(10))
    assert reply["op"] == 7 and reply["d"]["requestId"] == request_id
    return reply["d"]  # type: ignore[no-any-return]


BEFORE_IDENTIFY: list[tuple[str, str | bytes, int]] = [
    ("binary frame on JSON", b"\x81\xa2op\x01", 4002),
    ("not JSON", "{op: 1", 4002),
    ("not an object", "[1, 2]", 4002),
    ("no op", json.dumps({"d": {}}), 4006),
    ("unknown op", json.dumps({"op": 42, "d": {}}), 4006),
    ("server op from a client", json.dumps({"op": 0, "d": {}}), 4006),
    ("d missing", json.dumps({"op": 1}), 4003),
    ("d not an object", json.dumps({"op": 1, "d": [1]}), 4004),
    ("request before Identify", json.dumps({"op": 6, "d": {"requestType": "GetVersion", "requestId": "1"}}), 4007),
    ("rpcVersion missing", json.dumps({"op": 1, "d": {}}), 4003),
    ("rpcVersion a string", json.dumps({"op": 1, "d": {"rpcVersion": "1"}}), 4004),
    ("rpcVersion 2", json.dumps({"op": 1, "d": {"rpcVersion": 2}}), 4010),
    ("obs-websocket 4.x", json.dumps({"request-type": "GetVersion", "message-id": "1"}), 4010),
    ("no authentication", json.dumps({"op": 1, "d": {"rpcVersion": 1}}), 4009),
    ("authentication a number", json.dumps({"op": 1, "d": {"rpcVersion": 1, "authentication": 5}}), 4009),
]


def test_bad_frames_before_identify_close_with_the_documented_codes(show: Show) -> None:
    for what, frame, code in BEFORE_IDENTIFY:
        with connect(url(show)) as ws:
            ws.recv(10)  # Hello
            ws.send(frame)
            assert closed_with(ws) == code, what
    with connect(url(show)) as ws:  # silence: no Identify within the timeout
        ws.recv(10)
        assert closed_with(ws) == 4007
    with connect(url(show)) as ws:  # the server still serves
        identify(ws)
        assert request(ws, "GetVersion")["requestStatus"] == {"result": True, "code": 100}


def test_bad_messages_after_identify(show: Show) -> None:
    cases: list[tuple[str, Any, int]] = [
        ("Identify again", {"op": 1, "d": {"rpcVersion": 1}}, 4008),
        ("request without requestId", {"op": 6, "d": {"requestType": "GetVersion"}}, 4003),
        ("request without requestType", {"op": 6, "d": {"requestId": "1"}}, 4003),
        ("requestType a number", {"op": 6, "d": {"requestId": "1", "requestType": 3}}, 4004),
        ("eventSubscriptions a string", {"op": 3, "d": {"eventSubscriptions": "all"}}, 4004),
        ("batch without requests", {"op": 8, "d": {"requestId": "b"}}, 4003),
        ("batch requests not a list", {"op": 8, "d": {"requestId": "b", "requests": {}}}, 4004),
        ("batch executionType 7", {"op": 8, "d": {"requestId": "b", "requests": [], "executionType": 7}}, 4005),
        ("batch haltOnFailure a string", {"op": 8, "d": {"requestId": "b", "requests": [], "haltOnFailure": "y"}}, 4004),
    ]
    for what, message, code in cases:
        with connect(url(show)) as ws:
            identify(ws)
            ws.send(json.dumps(message))
            assert closed_with(ws) == code, what


def test_wrong_types_and_missing_fields_are_request_statuses(show: Show) -> None:
    with connect(url(show)) as ws:
        identify(ws)
        statuses = {
            "missing": request(ws, "SetCurrentProgramScene", {}),
            "wrong type": request(ws, "SetCurrentProgramScene", {"sceneName": 5}),
            "empty": request(ws, "SetCurrentProgramScene", {"sceneName": ""}),
            "unknown scene": request(ws, "SetCurrentProgramScene", {"sceneName": "Z"}),
            "requestData not an object": request(ws, "GetVersion", [1]),
            "unknown request": request(ws, "CreateScene", {"sceneName": "X"}),
            "empty requestType": request(ws, "", {}),
            "out of range": request(ws, "SetCurrentSceneTransitionDuration", {"transitionDuration": 999_999}),
            "not in studio mode": request(ws, "TriggerStudioModeTransition"),
            "sleep outside a batch": request(ws, "Sleep", {"sleepMillis": 10}),
            "stop a recording that is not running": request(ws, "StopRecord"),
        }
        codes = {k: v["requestStatus"]["code"] for k, v in statuses.items()}
        assert codes == {"missing": 300, "wrong type": 401, "empty": 403, "unknown scene": 600,
                         "requestData not an object": 401, "unknown request": 204, "empty requestType": 203,
                         "out of range": 402, "not in studio mode": 506, "sleep outside a batch": 206,
                         "stop a recording that is not running": 501}
        assert all(v["requestStatus"]["result"] is False and v["requestStatus"]["comment"] for v in statuses.values())
        # integer request ids (obsws-python) come back as they were sent
        assert request(ws, "GetVersion", request_id=17)["requestId"] == 17


def test_a_flood_is_rate_limited_then_closed(studio_home: Path) -> None:
    show = make_show(ControlConfig(port=0, password=Secret(PASSWORD),
                                   limit=RateLimit(rate=0.1, burst=5, close_after_refused=20)))
    show.start()
    try:
        flood(show)
    finally:
        show.stop()


def flood(show: Show) -> None:
    with connect(url(show)) as ws:
        identify(ws)
        codes = [request(ws, "GetSceneList", request_id=i)["requestStatus"]["code"] for i in range(10)]
        assert codes[:5] == [100] * 5  # the burst
        assert 207 in codes[5:]  # then "not ready": retry later
        for i in range(40):  # keep hammering: the session is closed with SessionInvalidated
            try:
                ws.send(json.dumps({"op": 6, "d": {"requestType": "GetSceneList", "requestId": i}}))
            except ConnectionClosed:
                break
        assert closed_with(ws) == 4011
    with connect(url(show)) as ws:  # others are not affected
        identify(ws)


def test_msgpack_subprotocol_is_echoed_and_text_frames_refused(show: Show) -> None:
    with connect(url(show), subprotocols=["obswebsocket.msgpack"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "obswebsocket.msgpack"
        hello = msgpack.unpackb(ws.recv(10))
        auth = hello["d"]["authentication"]
        ws.send(msgpack.packb({"op": 1, "d": {"rpcVersion": 1, "eventSubscriptions": 0,
                                             "authentication": auth_response(PASSWORD, auth["salt"], auth["challenge"])}}))
        assert msgpack.unpackb(ws.recv(10))["op"] == 2
        ws.send(msgpack.packb({"op": 6, "d": {"requestType": "GetSceneList", "requestId": "m"}}))
        reply = msgpack.unpackb(ws.recv(10))
        assert reply["d"]["responseData"]["currentProgramSceneName"] == "A"
        ws.send(b"\xc1")  # never used in MessagePack
        assert closed_with(ws) == 4002
    with connect(url(show), subprotocols=["obswebsocket.msgpack"]) as ws:  # type: ignore[list-item]
        ws.recv(10)
        ws.send(json.dumps({"op": 1, "d": {"rpcVersion": 1}}))
        assert closed_with(ws) == 4002
    with connect(url(show), subprotocols=["something.else"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None  # JSON, as with no subprotocol at all
        identify(ws)


def test_too_many_sessions_are_turned_away(show: Show) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(4):
            stack.enter_context(connect(url(show))).recv(10)
        with pytest.raises(InvalidStatus) as refused, connect(url(show)):
            pass
        assert refused.value.response.status_code == 503


def test_without_a_password_hello_has_no_challenge(studio_home: Path) -> None:
    show = make_show(ControlConfig(port=0, password=None))
    show.start()
    try:
        with connect(url(show)) as ws:
            hello = json.loads(ws.recv(10))
            assert "authentication" not in hello["d"]
            ws.send(json.dumps({"op": 1, "d": {"rpcVersion": 1}}))
            assert json.loads(ws.recv(10))["op"] == 2
        # without a password, a web page from another site cannot drive the show through a browser
        with pytest.raises(InvalidStatus) as refused, connect(url(show), origin=Origin("https://evil.example")):
            pass
        assert refused.value.response.status_code == 403
        with connect(url(show), origin=Origin("http://localhost:8080")) as ws:
            assert json.loads(ws.recv(10))["op"] == 0
    finally:
        show.stop()


OUTPUT_STARTERS = {"StartRecord", "ToggleRecord", "StartStream", "ToggleStream"}
GARBAGE = {"sceneName": 5, "sceneUuid": [], "inputName": {}, "inputUuid": 1.5, "sceneItemId": "x",
           "sourceName": None, "imageFormat": 7, "transitionName": True, "transitionDuration": "long",
           "position": "half", "inputMuted": "yes", "inputVolumeDb": "loud", "inputSettings": [],
           "sceneItemEnabled": 1, "sceneItemLocked": 0, "sceneItemTransform": "big", "studioModeEnabled": "on",
           "eventData": "x", "hotkeyName": 3, "vendorName": 9, "requestType": 9, "requestData": 9,
           "sleepMillis": -1}


def test_every_request_survives_empty_and_wrongly_typed_data(show: Show) -> None:
    with connect(url(show)) as ws:
        identify(ws)
        available = request(ws, "GetVersion")["responseData"]["availableRequests"]
        assert len(available) >= 50
        for request_type in available:
            if request_type in OUTPUT_STARTERS:
                continue  # with no data they really start an output; covered by the client tests
            for data in ({}, GARBAGE):
                status = request(ws, request_type, data)["requestStatus"]
                assert not status.get("comment", "").startswith("internal error"), (request_type, status)
                assert status["code"] != 702 or request_type == "GetSourceScreenshot", (request_type, status)


def test_read_requests_answer_with_the_documented_fields(show: Show) -> None:
    with connect(url(show)) as ws:
        identify(ws)

        def data(request_type: str, **fields: Any) -> dict[str, Any]:
            reply = request(ws, request_type, fields)
            assert reply["requestStatus"]["code"] == 100, (request_type, reply["requestStatus"])
            return reply.get("responseData") or {}

        assert {"obsVersion", "obsWebSocketVersion", "rpcVersion", "availableRequests", "supportedImageFormats",
                "platform", "platformDescription"} <= set(data("GetVersion"))
        assert {"cpuUsage", "memoryUsage", "availableDiskSpace", "activeFps", "averageFrameRenderTime",
                "renderSkippedFrames", "renderTotalFrames", "outputSkippedFrames", "outputTotalFrames",
                "webSocketSessionIncomingMessages", "webSocketSessionOutgoingMessages"} <= set(data("GetStats"))
        assert data("GetVideoSettings")["baseWidth"] == 1280
        assert data("GetStudioModeEnabled") == {"studioModeEnabled": False}
        inputs = data("GetInputList")["inputs"]
        assert {"inputName": "bg", "inputKind": "color"}.items() <= inputs[0].items()
        assert "color" in data("GetInputKindList")["inputKinds"]
        assert data("GetInputSettings", inputName="bg")["inputSettings"]["width"] == 1280
        items = data("GetSceneItemList", sceneName="A")["sceneItems"]
        item = items[0]
        assert {"sceneItemId", "sceneItemIndex", "sourceName", "sceneItemEnabled", "sceneItemLocked",
                "sceneItemTransform"} <= set(item)
        transform = data("GetSceneItemTransform", sceneName="A", sceneItemId=item["sceneItemId"])["sceneItemTransform"]
        assert {"positionX", "positionY", "scaleX", "scaleY", "rotation", "width", "height", "sourceWidth",
                "cropLeft"} <= set(transform)
        data("SetSceneItemTransform", sceneName="A", sceneItemId=item["sceneItemId"],
             sceneItemTransform={"positionX": 10, "scaleX": 0.5})
        assert data("GetSceneItemLocked", sceneName="A", sceneItemId=item["sceneItemId"]) == {"sceneItemLocked": False}
        transitions = data("GetSceneTransitionList")
        assert [t["transitionName"] for t in transitions["transitions"]] == ["Cut", "Fade", "Slide"]
        assert data("GetCurrentSceneTransition")["transitionName"] == "Fade"
        assert data("GetStreamStatus")["outputActive"] is False
        assert data("GetRecordStatus")["outputActive"] is False
        assert data("GetReplayBufferStatus") == {"outputActive": False}
        assert [o["outputName"] for o in data("GetOutputList")["outputs"]] == ["simple_stream", "simple_file_output"]
        assert data("GetProfileList")["profiles"] and data("GetSceneCollectionList")["sceneCollections"] == ["control"]
        assert "OBSBasic.Transition" in data("GetHotkeyList")["hotkeys"]
        show.studio.program.wait_newer(0, timeout_s=10)  # before the first frame the answer is 207 (not ready)
        shot = data("GetSourceScreenshot", sourceName="A", imageFormat="jpg", imageWidth=64)
        assert shot["imageData"].startswith("data:image/jpeg;base64,")
        assert request(ws, "GetSourceScreenshot", {"sourceName": "B", "imageFormat": "png"})[
            "requestStatus"]["code"] == 604  # a scene neither on program nor preview is not rendered
