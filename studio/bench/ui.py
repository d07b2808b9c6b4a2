"""`studio bench ui`: does the director's window stay responsive while the show runs?

Runs the main window (offscreen) as ``studio`` opens it, with a real Show on the 1080p30 demo
(colour sources when the demo cannot be built): every dock, the local relay and hub, the
interaction service, the encoder streaming to the relay. Reports the Qt event loop's longest gaps
(p99, max; target max <= 50 ms) and the preview's paint cost, side by side with the engine's render
time. The measuring lives in
``widgets.bench_window`` because the engine packages never import Qt widgets.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "UI responsiveness with a real Show streaming: event-loop gaps and paint cost while the engine renders"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds ignored at the start (default 1)")
    parser.add_argument("--collection", type=Path, help="scene collection (default: the built-in demo)")
    parser.add_argument("--colors", action="store_true", help="use colour sources instead of the demo")
    parser.add_argument("--multiview", action="store_true", help="with the multiview window open as well")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.seconds <= 0 or args.warmup < 0:
        raise ValueError("--seconds must be positive and --warmup not negative")
    from widgets.bench_window import measure

    return measure(seconds=args.seconds, warmup=args.warmup, collection=args.collection, colors=args.colors,
                   multiview=args.multiview)
