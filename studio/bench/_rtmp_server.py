"""A real RTMP server for the outputs bench and the tests: Debian's nginx with libnginx-mod-rtmp, in
the foreground as a child process, on a free 127.0.0.1 port, with its own nginx.conf (the Makefile
installs both)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nginx_rtmp_missing() -> str | None:
    if not os.path.exists(NGINX) or not os.path.exists(RTMP_MODULE):
        return "nginx with libnginx-mod-rtmp is not installed (the Makefile installs them as root)"
    return None


class RtmpServer:
    """``url`` is ``rtmp://127.0.0.1:<port>/live``; publish to ``url + '/<key>'``, play the same."""

    def __init__(self, folder: Path, on_publish: str | None = None, port: int | None = None) -> None:
        missing = nginx_rtmp_missing()
        if missing:
            raise RuntimeError(missing)
        self.folder = folder
        self.port = port or free_port()
        self.on_publish = on_publish
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live"

    def _write_conf(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "logs").mkdir(exist_ok=True)
        publish = f"on_publish {self.on_publish};" if self.on_publish else ""
        conf = self.folder / "nginx.conf"
        conf.write_text(f"""
load_module {RTMP_MODULE};
daemon off;
master_process off;
worker_processes 1;
error_log {self.folder}/logs/error.log info;
pid {self.folder}/nginx.pid;
events {{ worker_connections 64; }}
rtmp {{
    server {{
        listen 127.0.0.1:{self.port};
        chunk_size 4096;
        application live {{
            live on;
            record off;
            wait_key on;
            {publish}
        }}
    }}
}}
""")
        return conf

    def start(self) -> RtmpServer:
        conf = self._write_conf()
        self.process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(self.folder)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait until it listens (a connect is the event)
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"nginx exited: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen within 10 s")

    def kill(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            if process.stderr:
                process.stderr.close()

    stop = kill

    def __enter__(self) -> RtmpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
