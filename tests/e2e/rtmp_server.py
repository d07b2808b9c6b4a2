"""The RTMP server the destination tests start (``studio.bench._rtmp_server``); missing nginx-rtmp
skips (fails under CI=true)."""

from __future__ import annotations

from pathlib import Path

from requirements_check import missing_tool

from studio.bench._rtmp_server import RtmpServer as _RtmpServer
from studio.bench._rtmp_server import free_port, nginx_rtmp_missing

__all__ = ["RtmpServer", "free_port"]


class RtmpServer(_RtmpServer):
    def __init__(self, folder: Path, on_publish: str | None = None, port: int | None = None) -> None:
        missing = nginx_rtmp_missing()
        if missing:
            missing_tool(missing)
        super().__init__(folder, on_publish, port)
