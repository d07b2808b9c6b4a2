"""`studio bench chat`: platform chat at platform rates into the running studio.

A fake Bilibili room (loopback, a process of its own) sends ``--rate`` messages a second (default 2,000) for ``--seconds``
(default 30) from ``--users`` distinct users (default 10,000) while a poll is open, into the 1080p30
demo with the window (offscreen). Reports ``received``, ``votes_counted`` (must equal
``distinct_voters``), ``gifts_lost`` (0), ``ui_max_gap_ms`` (<= 50), ``lagged_pct`` (< 0.5) and
``overlay_max_on_screen``. The measuring, ``--path`` included, lives in ``widgets.chat_bench`` (the
engine packages never import Qt).

``--path``: the chat path alone, without the window's painting, the engine or other threads, so it
reads the same on a busy machine: the same messages as brotli batches through the Bilibili adapter's
frame decoding, the interaction service (moderation, counters, votes, one batch per read), the
overlay binding, a 1080p bullet overlay and the poll overlay ticked at 30 fps (sprites taken each
frame), the product-question queue (sorting each read, then matching what it lets through: in the
studio its own thread) and the danmaku dock (offscreen), all on one thread; reports the thread CPU
seconds each stage took.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "platform chat at 2,000 msg/s from 10,000 users into the running demo: votes, gifts, UI gaps, lag"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=30.0, help="sending time (default 30)")
    parser.add_argument("--rate", type=int, default=2000, help="messages a second (default 2000)")
    parser.add_argument("--users", type=int, default=10_000, help="distinct users (default 10000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--collection", type=Path, help="scene collection (default: the built-in demo)")
    parser.add_argument("--colors", action="store_true", help="use colour sources instead of the demo")
    parser.add_argument("--path", action="store_true",
                        help="the chat path alone (adapter, service, overlay, dock): CPU seconds per stage")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.seconds <= 0 or args.rate <= 0 or args.users <= 0:
        raise ValueError("--seconds, --rate and --users must be positive")
    from widgets.chat_bench import measure, measure_path

    if args.path:
        return measure_path(seconds=args.seconds, rate=args.rate, users=args.users, seed=args.seed)
    return measure(seconds=args.seconds, rate=args.rate, users=args.users, seed=args.seed,
                   collection=args.collection, colors=args.colors)
