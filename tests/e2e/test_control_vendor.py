"""Vendor requests (vendorName ``drama-live-studio``) and vendor events on a show served locally
(hub and interaction service running), plus the high-volume InputVolumeMeters opt-in."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from scenes.model import SceneCollection, SceneItem, VideoFormat
from studio.audio.inputs import ToneInput
from studio.control.auth import auth_response
from studio.control.protocol import EventSubscription
from studio.control.server import ControlConfig
from studio.secrets import Secret
from studio.show import Show

PASSWORD = "vendor-pass"
ALL = int(EventSubscription.ALL)
METERS = int(EventSubscription.ALL | EventSubscription.INPUT_VOLUME_METERS)


@pytest.fixture
def show(studio_home: Path) -> Iterator[Show]:
    col = SceneCollection("vendor", VideoFormat(1280, 720, 30))
    col.add_source("bg", "color", {"color": "#FF202020", "width": 1280, "height": 720})
    col.add_source("Product", "product_card", {"title": "好物"})
    scene = col.add_scene("Live")
    scene.add_item(SceneItem("bg"))
    scene.add_item(SceneItem("Product", visible=False))
    s = Show(col, relay_port=0, hub_port=0, control=ControlConfig(port=0, password=Secret(PASSWORD)))
    s.start()
    s.mixer.add_input(ToneInput("Mic"))
    try:
        yield s
    finally:
        s.stop()


@contextlib.contextmanager
def open_session(show: Show, subscriptions: int) -> Iterator[ClientConnection]:
    assert show.control is not None
    with connect(show.control.url) as ws:
        hello = json.loads(ws.recv(10))
        auth = hello["d"]["authentication"]
        ws.send(json.dumps({"op": 1, "d": {"rpcVersion": 1, "eventSubscriptions": subscriptions,
                                           "authentication": auth_response(PASSWORD, auth["salt"], auth["challenge"])}}))
        assert json.loads(ws.recv(10))["op"] == 2
        yield ws


def call(ws: ClientConnection, request_type: str, data: dict[str, Any] | None = None,
         events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    ws.send(json.dumps({"op": 6, "d": {"requestType": request_type, "requestId": request_type,
                                       "requestData": data or {}}}))
    while True:
        message = json.loads(ws.recv(10))
        if message["op"] == 7:
            return message["d"]  # type: ignore[no-any-return]
        if events is not None:
            events.append(message["d"])


def vendor(ws: ClientConnection, request_type: str, data: dict[str, Any] | None = None,
           events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return call(ws, "CallVendorRequest", {"vendorName": "drama-live-studio", "requestType": request_type,
                                          "requestData": data or {}}, events)


def next_event(ws: ClientConnection, event_type: str, seen: list[dict[str, Any]]) -> dict[str, Any]:
    for earlier in seen:
        if earlier["eventType"] == event_type:
            seen.remove(earlier)
            return earlier
    while True:
        message = json.loads(ws.recv(20))
        if message["op"] == 5 and message["d"]["eventType"] == event_type:
            return message["d"]  # type: ignore[no-any-return]


def test_vendor_requests_and_events(show: Show) -> None:
    seen: list[dict[str, Any]] = []
    with open_session(show, ALL) as ws:
        opened = vendor(ws, "OpenPoll", {"question": "她应该买吗？", "options": ["买", "不买"], "durationS": 30}, seen)
        assert opened["requestStatus"]["code"] == 100
        poll_id = opened["responseData"]["responseData"]["pollId"]
        closed = vendor(ws, "ClosePoll", events=seen)
        assert closed["requestStatus"]["code"] == 100
        event = next_event(ws, "VendorEvent", seen)
        assert event["eventIntent"] == int(EventSubscription.VENDORS)
        data = event["eventData"]
        assert data["vendorName"] == "drama-live-studio" and data["eventType"] == "PollClosed"
        assert data["eventData"]["pollId"] == poll_id and data["eventData"]["options"] == ["买", "不买"]

        shown = vendor(ws, "ShowProductCard", {"sourceName": "Product"}, seen)
        assert shown["requestStatus"]["code"] == 100
        enabled = next_event(ws, "SceneItemEnableStateChanged", seen)
        assert enabled["eventData"]["sceneName"] == "Live" and enabled["eventData"]["sceneItemEnabled"] is True
        assert vendor(ws, "HideProductCard", {"sourceName": "Product"}, seen)["requestStatus"]["code"] == 100
        assert next_event(ws, "SceneItemEnableStateChanged", seen)["eventData"]["sceneItemEnabled"] is False

        codes = {
            "not a card": vendor(ws, "ShowProductCard", {"sourceName": "bg"}),
            "unknown message": vendor(ws, "PinDanmaku", {"messageId": "nope"}),
            "unpin": vendor(ws, "PinDanmaku"),
            "no rundown to advance": vendor(ws, "NextSegment"),
            "no rundown to stop": vendor(ws, "StopRundown"),
            "no rundown file": vendor(ws, "StartRundown"),
            "unknown vendor request": vendor(ws, "Dance"),
            "unknown vendor": call(ws, "CallVendorRequest", {"vendorName": "obs", "requestType": "x"}),
        }
        assert {k: v["requestStatus"]["code"] for k, v in codes.items()} == {
            "not a card": 602, "unknown message": 600, "unpin": 100, "no rundown to advance": 604,
            "no rundown to stop": 604, "no rundown file": 300, "unknown vendor request": 204, "unknown vendor": 600}


def test_input_volume_meters_only_for_sessions_that_opt_in(show: Show) -> None:
    with open_session(show, METERS) as meters, open_session(show, ALL) as plain:
        got = [next_event(meters, "InputVolumeMeters", []) for _ in range(3)]
        mic = [i for i in got[-1]["eventData"]["inputs"] if i["inputName"] == "Mic"]
        assert mic and len(mic[0]["inputLevelsMul"]) == 2 and all(len(ch) == 3 for ch in mic[0]["inputLevelsMul"])
        assert got[-1]["eventIntent"] == 1 << 16
        between: list[dict[str, Any]] = []
        call(plain, "GetVersion", events=between)  # meters sent meanwhile would have arrived first
        assert not [e for e in between if e["eventType"] == "InputVolumeMeters"]
        # Reidentify: the plain session opts in, the meter session opts out
        plain.send(json.dumps({"op": 3, "d": {"eventSubscriptions": METERS}}))
        assert next_event(plain, "InputVolumeMeters", []) is not None
