"""`studio headless --stream` as a user runs it (a child process), against a fake WHIP server on
127.0.0.1: no OS keyring never ends in a traceback, a token the server echoes back never shows in
the output, and a stream that failed for good gives a non-zero exit code."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from pattern_show import pattern_collection

from studio.bench._relay_process import studio_command
from studio.collections import save_collection
from studio.net import NetLoop

TOKEN = "sk-live-ECHOED-9f3b2c71"
NO_KEYRING = "keyring.backends.fail.Keyring"


class EchoingServer:
    """Answers every POST with ``status`` and a body that quotes the request's Authorization header."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status, self.headers = status, headers or {}
        self.authorizations: list[str | None] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._lock = threading.Lock()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization")
        with self._lock:
            self.authorizations.append(auth)
        return web.Response(status=self.status, headers=self.headers,
                            text=f"rejected: {auth} is not valid here (you sent {auth})")

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/whip/live"


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    col = pattern_collection("tiny")
    path = tmp_path / "tiny.json"
    save_collection(col, path)
    return path


@pytest.fixture
def serve(net: NetLoop) -> Iterator[list[EchoingServer]]:
    servers: list[EchoingServer] = []
    yield servers
    for server in servers:
        net.run(server.stop())


def start(net: NetLoop, servers: list[EchoingServer], status: int, **headers: str) -> EchoingServer:
    server = EchoingServer(status, headers)
    net.run(server.start())
    servers.append(server)
    return server


def headless(tmp_path: Path, collection: Path, url: str, *extra: str,
             token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DRAMA_STUDIO_HOME=str(tmp_path / "home"), PYTHON_KEYRING_BACKEND=NO_KEYRING,
               QT_QPA_PLATFORM="offscreen")
    args = [*studio_command(), "headless", "--collection", str(collection), "--stream", url, *extra]
    if token is not None:
        env["WHIP_TOKEN"] = token
        args += ["--token-env", "WHIP_TOKEN"]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def test_a_refused_token_echoed_by_the_server_is_never_shown_and_the_exit_code_says_failed(
        net: NetLoop, serve: list[EchoingServer], tmp_path: Path, collection: Path) -> None:
    server = start(net, serve, 401)
    done = headless(tmp_path, collection, server.url())
    output = done.stdout + done.stderr
    assert server.authorizations == [f"Bearer {TOKEN}"]  # the server really got (and echoed) it
    assert TOKEN not in output
    assert "stream failed" in output and "401" in output and "***" in output
    assert "Traceback" not in output
    assert done.returncode == 1


def test_a_busy_server_echoing_the_token_while_retrying_never_shows_it(
        net: NetLoop, serve: list[EchoingServer], tmp_path: Path, collection: Path) -> None:
    server = start(net, serve, 503, **{"Retry-After": "1"})
    done = headless(tmp_path, collection, server.url(), "--seconds", "6")
    output = done.stdout + done.stderr
    assert "stream reconnecting" in output and "503" in output
    assert server.authorizations and TOKEN not in output
    assert "Traceback" not in output


def test_no_keyring_and_no_token_streams_without_one(
        net: NetLoop, serve: list[EchoingServer], tmp_path: Path, collection: Path) -> None:
    server = start(net, serve, 404)  # the attempt is all this test needs: it fails for good, quickly
    done = headless(tmp_path, collection, server.url(), token=None)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert server.authorizations == [None]  # the stream was attempted, without a token
    assert "no stored stream token" in output and "no OS keyring" in output
    assert done.returncode == 1  # 404: the stream failed for good
