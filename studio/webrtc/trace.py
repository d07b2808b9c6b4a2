"""Opt-in event log of the loss-recovery path (NACK give-ups, keyframe waits, unanswered NACKs).

Also the studio's rate reports, ladder steps and stream keyframes (a capped uplink's onset, step by step).
Set ``DLS_RTP_TRACE`` to a file path and every process of the path (studio, relay) appends one JSON
line per event: ``{"t": wall-clock seconds, "pid": ..., "ev": name, ...}``. Wall-clock time so the
lines line up with a viewer's frame times (``studio bench network`` freezes). Unset (the default):
:func:`event` is one dictionary lookup and writes nothing.
"""

from __future__ import annotations

import json
import os
import time
from typing import IO

ENV = "DLS_RTP_TRACE"

_file: IO[str] | None = None
_path: str | None = None


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def event(name: str, **fields: object) -> None:
    """Append one event (no-op unless ``DLS_RTP_TRACE`` names a file)."""
    global _file, _path
    path = os.environ.get(ENV)
    if not path:
        return
    if _file is None or _path != path:
        _file = open(path, "a", buffering=1)  # noqa: SIM115 (kept open for the process's life)
        _path = path
    _file.write(json.dumps({"t": round(time.time(), 4), "pid": os.getpid(), "ev": name, **fields}) + "\n")


__all__ = ["ENV", "enabled", "event"]
