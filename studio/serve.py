"""`studio serve`: the embedded relay (WHIP in, WHEP + viewer page out) and interaction hub alone,
for a studio on another machine or any WHIP encoder. Loopback only unless ``--lan``: then the token
from ``--token-env`` is the publisher's, and separate host and view tokens are derived from it; the
printed viewer link (the machine's LAN address) carries only the view token."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from studio.interaction.identity import DEFAULT_NEW_PER_MINUTE
from studio.net.loop import NetLoop
from studio.services.local import DEFAULT_HUB_PORT, DEFAULT_RELAY_PORT, LocalServices, ServiceUrls


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # given: used as given, or the command fails; not given: the default, else any free port
    parser.add_argument("--relay-port", type=int, default=None,
                        help=f"relay port (default {DEFAULT_RELAY_PORT}, or a free one when that is taken; "
                             "a port given here is used or the command fails)")
    parser.add_argument("--hub-port", type=int, default=None,
                        help=f"hub port (default {DEFAULT_HUB_PORT}, or a free one when that is taken)")
    parser.add_argument("--lan", action="store_true",
                        help="listen on all interfaces (needs --token-env): viewers on the LAN can watch")
    parser.add_argument("--token-env", metavar="VAR",
                        help="environment variable holding the publisher's token (>= 16 characters); with "
                             "--lan the host and viewer tokens are derived from it")
    parser.add_argument("--cors-origin", metavar="ORIGIN", action="append", default=[],
                        help="a browser player's origin (https://host[:port]) allowed to use WHIP/WHEP "
                             "(repeatable; '*' allows any)")
    parser.add_argument("--chat-origin", metavar="ORIGIN", action="append", default=[],
                        help="a web page's origin, besides the relay's own page, allowed to join the chat "
                             "(repeatable)")
    parser.add_argument("--new-viewers-per-minute", type=float, default=DEFAULT_NEW_PER_MINUTE, metavar="N",
                        help=f"new chat identities per address a minute (default {DEFAULT_NEW_PER_MINUTE:g}; "
                             "raise it for a venue whose audience shares one NAT address)")


def describe(urls: ServiceUrls, lan: bool, token_env: str | None) -> list[str]:
    """What `studio serve` prints: where to publish, the link viewers open, where the studio reads chat.

    Only the view token appears (it is what viewers are given); the publish and host tokens never do.
    """
    lines = [f"studio: WHIP ingest   {urls.whip}" + (f"  (bearer token: ${token_env})" if lan else "")]
    lines.append(f"studio: viewer page   {urls.viewer}")
    lines.append(f"studio: hub (viewers) {urls.hub_viewer}")
    if lan:
        lines.append(f"studio: hub (host)    {urls.hub_host}  (host token: derived from ${token_env}, "
                     "studio.services.access.scoped_token(token, 'host'))")
    lines.append("studio: Ctrl-C stops the relay")
    return lines


def run_serve(args: argparse.Namespace) -> int:
    token = os.environ.get(args.token_env, "") if args.token_env else None
    if args.lan and not token:
        raise ValueError("--lan needs a token: pass --token-env VAR with VAR set to a long random string")
    net = NetLoop()
    services = LocalServices(net, host="0.0.0.0" if args.lan else "127.0.0.1", relay_port=args.relay_port,
                             hub_port=args.hub_port, token=token or None, allow_lan=args.lan,
                             cors_origins=tuple(args.cors_origin), chat_origins=tuple(args.chat_origin),
                             new_viewers_per_minute=args.new_viewers_per_minute)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        urls = services.start()
        for line in describe(urls, args.lan, args.token_env):
            print(line, flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        services.stop()
        net.stop()
    return 0
