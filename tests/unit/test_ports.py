"""Ports the user gives are used as given: a port left in TIME_WAIT by a crashed server binds (as
aiohttp's and websockets' SO_REUSEADDR bind does), a port another process listens on fails with one
clear message, and only an unspecified port falls back to a free one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.net import NetLoop
from studio.net.ports import PortInUseError, choose_port
from studio.services.local import DEFAULT_HUB_PORT, DEFAULT_RELAY_PORT, LocalServices

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"

LISTENER = """
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()  # hold the port until the test closes our stdin
"""


def plain_bind_fails(port: int) -> bool:
    """What the old probe did: bind without SO_REUSEADDR."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def port_in_time_wait() -> int:
    """A port whose server side closed first: its connection sits in TIME_WAIT (as after a crash of
    a server with open connections), and no one listens on it any more."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp's server does
        listener.bind((HOST, 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        with socket.create_connection((HOST, port)) as client:
            conn, _ = listener.accept()
            conn.close()  # the server closes first: its side goes FIN-WAIT, then TIME_WAIT
            assert client.recv(1) == b""  # the client saw the server's FIN
    assert plain_bind_fails(port), "the kernel let a plain bind through: no TIME_WAIT to test with"
    return port


@pytest.fixture
def other_process_port() -> Iterator[int]:
    """A port another process listens on."""
    proc = subprocess.Popen([sys.executable, "-c", LISTENER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline())
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()


def run_serve(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-m", "studio", "serve", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_explicit_port_in_time_wait_is_used_as_given(tmp_path: Path) -> None:
    relay_port, hub_port = port_in_time_wait(), port_in_time_wait()
    proc = run_serve("--relay-port", str(relay_port), "--hub-port", str(hub_port))
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{relay_port}/whip/live" in text, text
        assert f"ws://127.0.0.1:{hub_port}/" in text, text
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


def test_explicit_port_taken_by_another_process_fails_with_one_clear_line(other_process_port: int) -> None:
    proc = run_serve("--relay-port", str(other_process_port), "--hub-port", "0")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "WHIP ingest" not in out  # it did not start elsewhere
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (f"studio: relay port {other_process_port} on 127.0.0.1 is in use "
                                            "by another process; stop it or pass another --relay-port"), err


def test_explicit_hub_port_taken_fails_and_the_relay_is_not_left_running(other_process_port: int) -> None:
    net = NetLoop()
    with pytest.raises(PortInUseError, match=f"hub port {other_process_port} on 127.0.0.1 is in use"):
        LocalServices(net, relay_port=0, hub_port=other_process_port)
    assert not net.running


def test_local_services_bind_explicit_ports_in_time_wait() -> None:
    relay_port, hub_port = port_in_time_wait(), port_in_time_wait()
    net = NetLoop()
    services = LocalServices(net, relay_port=relay_port, hub_port=hub_port)
    try:
        urls = services.start()
        assert services.relay.port == relay_port and services.hub.port == hub_port
        assert urls.whip == f"http://127.0.0.1:{relay_port}/whip/live"
    finally:
        services.stop()
        net.stop()


def test_unspecified_port_falls_back_when_another_process_holds_the_default(other_process_port: int) -> None:
    # "unspecified" (None: the GUI's built-in relay and hub, a plain `studio serve`) prefers the default
    assert choose_port("relay", HOST, None, other_process_port) == 0  # a free one, picked at bind
    assert choose_port("relay", HOST, 0, DEFAULT_RELAY_PORT) == 0
    with pytest.raises(PortInUseError):
        choose_port("relay", HOST, other_process_port, DEFAULT_RELAY_PORT)
    with pytest.raises(ValueError, match="0-65535"):
        choose_port("hub", HOST, 70000, DEFAULT_HUB_PORT)


def test_hub_server_names_the_port_when_the_bind_itself_fails(other_process_port: int) -> None:
    from studio.interaction.hub import HubConfig, HubServer

    net = NetLoop()
    net.start()
    try:
        hub = HubServer(HubConfig(host=HOST, port=other_process_port))
        with pytest.raises(PortInUseError, match=f"hub port {other_process_port}"):
            net.run(hub.start(), 30)
    finally:
        net.stop()
