"""`studio headless --control-port P --control-password-env VAR` as a user runs it (a child process):
a script connects with the password, switches scenes, hears ExitStarted when the show stops;
the password never shows in the output."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from pathlib import Path

from pattern_show import pattern_collection
from websockets.sync.client import connect

from scenes.model import SceneItem
from studio.bench._relay_process import studio_command
from studio.collections import save_collection
from studio.control.auth import auth_response

PASSWORD = "headless-control-7c1e"


def test_headless_remote_control(tmp_path: Path) -> None:
    col = pattern_collection("tiny", scene="One")
    col.add_scene("Two").add_item(SceneItem("pattern"))
    collection = tmp_path / "tiny.json"
    save_collection(col, collection)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, DRAMA_STUDIO_HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen",
               CONTROL_PASSWORD=PASSWORD, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    args = [*studio_command(), "headless", "--collection", str(collection), "--control-port", str(port),
            "--control-password-env", "CONTROL_PASSWORD"]
    lines: list[str] = []
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as child:
        assert child.stdout is not None
        try:
            for line in child.stdout:
                lines.append(line)
                if "remote control (obs-websocket v5) at" in line:
                    break
            assert f"ws://127.0.0.1:{port}" in lines[-1], "".join(lines)
            with connect(f"ws://127.0.0.1:{port}") as ws:
                hello = json.loads(ws.recv(20))["d"]["authentication"]
                ws.send(json.dumps({"op": 1, "d": {"rpcVersion": 1, "authentication": auth_response(
                    PASSWORD, hello["salt"], hello["challenge"])}}))
                assert json.loads(ws.recv(20))["op"] == 2
                ws.send(json.dumps({"op": 6, "d": {"requestType": "SetCurrentProgramScene", "requestId": 1,
                                                   "requestData": {"sceneName": "Two"}}}))
                events: list[str] = []
                while "CurrentProgramSceneChanged" not in events:
                    message = json.loads(ws.recv(20))
                    if message["op"] == 5:
                        events.append(message["d"]["eventType"])
                child.send_signal(signal.SIGTERM)  # headless stops on SIGTERM as on Ctrl-C
                while "ExitStarted" not in events:
                    message = json.loads(ws.recv(20))
                    if message["op"] == 5:
                        events.append(message["d"]["eventType"])
            rest, _ = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
    output = "".join(lines) + rest
    assert child.returncode == 0, output
    assert PASSWORD not in output
