"""`studio serve`: the embedded relay (WHIP in, WHEP + viewer page out) and interaction hub alone,
for a studio on another machine or any WHIP encoder. Loopback only unless ``--lan`` (then a token
is required for every request)."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from studio.net.loop import NetLoop
from studio.services.local import DEFAULT_HUB_PORT, DEFAULT_RELAY_PORT, LocalServices


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # given: used as given, or the command fails; not given: the default, else any free port
    parser.add_argument("--relay-port", type=int, default=None,
                        help=f"relay port (default {DEFAULT_RELAY_PORT}, or a free one when that is taken; "
                             "a port given here is used or the command fails)")
    parser.add_argument("--hub-port", type=int, default=None,
                        help=f"hub port (default {DEFAULT_HUB_PORT}, or a free one when that is taken)")
    parser.add_argument("--lan", action="store_true",
                        help="listen on all interfaces (needs --token-env): viewers on the LAN can watch")
    parser.add_argument("--token-env", metavar="VAR", help="environment variable holding the access token")


def run_serve(args: argparse.Namespace) -> int:
    token = os.environ.get(args.token_env, "") if args.token_env else None
    if args.lan and not token:
        raise ValueError("--lan needs a token: pass --token-env VAR with VAR set to a long random string")
    net = NetLoop()
    services = LocalServices(net, host="0.0.0.0" if args.lan else "127.0.0.1", relay_port=args.relay_port,
                             hub_port=args.hub_port, token=token or None, allow_lan=args.lan)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        urls = services.start()
        print(f"studio: WHIP ingest  {urls.whip}", flush=True)
        print(f"studio: viewer page  {urls.viewer}", flush=True)
        print(f"studio: hub (viewers) {urls.hub_viewer}", flush=True)
        print("studio: Ctrl-C stops the relay", flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        services.stop()
        net.stop()
    return 0
