"""`studio headless --stream URL [--stream URL ...]`: destinations from URLs, secrets from the
environment or the keyring; and their status lines.

The scheme picks the protocol (http/https = WHIP, rtmp/rtmps = RTMP, srt = SRT). ``--token-env VAR``
gives the WHIP bearer token (else the keyring's); ``--key-env VAR`` gives RTMP's stream key (appended
to the URL; a key already inside the URL is used as it is) and SRT's passphrase. No secret is
printed: lines go through ``studio.secrets.redact`` and show ``Destination.display_url``.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from studio.outputs.destinations import Destination, DestinationKind, DestinationStats
from studio.secrets import Secret, redact, remember
from studio.stream_token import resolve_token


def _env_secret(var: str | None, flag: str) -> Secret | None:
    if not var:
        return None
    value = os.environ.get(var)
    if not value:
        raise ValueError(f"{flag}: the environment variable {var} is empty or not set")
    return Secret(value)


def destinations_from_args(urls: list[str], token_env: str | None,
                           key_env: str | None) -> list[tuple[Destination, Secret | None, Secret | None]]:
    """(destination, key or token, SRT passphrase) for each URL; a ValueError names the bad one."""
    key = _env_secret(key_env, "--key-env")
    found: list[tuple[Destination, Secret | None, Secret | None]] = []
    for i, url in enumerate(urls):
        dest = Destination(url, name=f"stream{i + 1}")  # an unknown scheme: a clear ValueError
        if dest.kind == DestinationKind.WHIP:
            found.append((dest, resolve_token(url, token_env), None))
        elif dest.kind == DestinationKind.RTMP:
            segments = [s for s in urlsplit(url).path.split("/") if s]  # app[/key]
            in_url = segments[-1] if len(segments) >= 2 else ""
            if in_url:
                remember(in_url)  # a key pasted into the URL is redacted like any other
            found.append((dest, None if in_url else key, None))
        else:
            found.append((dest, None, key))
    return found


def destination_line(stats: DestinationStats) -> str:
    retry = f" (retry in {stats.retry_in_s:.0f} s)" if stats.retry_in_s else ""
    figures = (f"  {stats.bitrate_kbps:.0f} kb/s  dropped {stats.dropped_frames}  reconnects {stats.reconnects}"
               if stats.state == "live" else "")
    return redact(f"studio: {stats.kind.value} {stats.name} {stats.state.value}"
                  f"{': ' + stats.message if stats.message else ''}{retry}{figures}")
