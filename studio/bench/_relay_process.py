"""`studio serve` in a child process on a given port, for measurements that kill the server.

The relay runs the real command (``python -m studio serve``); :meth:`RelayProcess.start` returns
once it has printed its WHIP ingest URL (it accepts publishers from then on). :meth:`kill` sends
SIGKILL, as a crash or the OOM killer would: no DTLS close, no HTTP answer, nothing.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

READY_PREFIX = "studio: WHIP ingest"


def studio_command() -> list[str]:
    """How to run `studio` here: the frozen app itself, or this interpreter with ``-m studio``."""
    return [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "studio"]


class RelayProcess:
    def __init__(self, relay_port: int, home: Path | None = None) -> None:
        self.relay_port = relay_port
        self.home = home
        self.whip_url: str | None = None
        self.spawned_at = 0.0  # time.monotonic()
        self.ready_at = 0.0
        self.output: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> str:
        """Spawn the relay and wait for its WHIP URL; RuntimeError if it exits or stays silent."""
        env = dict(os.environ)
        if self.home is not None:
            env["DRAMA_STUDIO_HOME"] = str(self.home)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        self.spawned_at = time.monotonic()
        self._proc = subprocess.Popen(
            [*studio_command(), "serve", "--relay-port", str(self.relay_port), "--hub-port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self._lines = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, args=(self._proc, self._lines),
                                        name="relay-process-output", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise RuntimeError(f"`studio serve` printed no WHIP URL within {timeout:g} s: {self.output}") from None
            if line is None:
                self.wait()
                raise RuntimeError(f"`studio serve` exited before it was ready: {self.output}")
            if line.startswith(READY_PREFIX):
                self.ready_at = time.monotonic()
                self.whip_url = line[len(READY_PREFIX):].strip()
                return self.whip_url

    def _read(self, proc: subprocess.Popen[str], lines: queue.SimpleQueue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line.rstrip())
            lines.put(line.rstrip())
        lines.put(None)

    def kill(self) -> None:
        """SIGKILL, then reap the process and its output reader."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
        self.wait()

    def stop(self) -> None:
        """SIGTERM (a clean stop), then reap."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
        self.wait()

    def wait(self, timeout: float = 30.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.join(timeout)  # ends at EOF: the process is gone
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
