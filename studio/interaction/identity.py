"""Viewer identity: a signed token a viewer keeps, so votes, blocks and slow mode survive reconnects.

A connection is not a viewer: one browser can open twenty. The hub gives each new viewer an id and
a token ``<id>.<issued, hex seconds>.<HMAC-SHA256 over both, base64url>`` signed with a per-show
secret; the page keeps it (localStorage) and sends it back on every reconnect (``?vt=``), and the
hub then knows it is the same viewer. Forged, altered and expired tokens are worth nothing: the
viewer gets a new identity, which counts against the address's limit on new identities
(default 3 a minute; raise it for a venue whose audience shares one NAT address).

Addresses are never passed on as they are: ``address_key`` is a keyed hash of the IP, stable for
the show, so the studio can block an address without keeping viewers' IPs in its logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass

from studio.interaction.ratelimit import Clock, TokenBucket

DEFAULT_NEW_PER_MINUTE = 3.0
DEFAULT_TTL_S = 12 * 3600.0  # a show; a token from last week's show starts over
TOKEN_MAX = 80
_TOKEN = re.compile(r"^(p[0-9a-f]{16})\.([0-9a-f]{1,12})\.([A-Za-z0-9_-]{22})$")
_TRACKED_ADDRESSES = 65536  # per-address buckets kept (least recently used dropped)


@dataclass(frozen=True)
class Admission:
    viewer: str  # the stable viewer id (``user`` in every message)
    token: str  # what the viewer keeps for next time
    address: str  # keyed hash of the viewer's IP
    new: bool  # True: a new identity was made for this connection


@dataclass(frozen=True)
class Refusal:
    retry_after_s: int  # when the address may make a new identity again


class ViewerIdentities:
    """Issues and checks viewer tokens and limits how fast one address makes new identities."""

    def __init__(
        self,
        secret: bytes | None = None,
        *,
        new_per_minute: float = DEFAULT_NEW_PER_MINUTE,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        if secret is not None and len(secret) < 16:
            raise ValueError("the viewer identity secret must be at least 16 bytes")
        if not math.isfinite(new_per_minute) or new_per_minute < 1:
            raise ValueError(f"new identities per address must be >= 1 a minute, got {new_per_minute}")
        if not math.isfinite(ttl_s) or ttl_s <= 0:
            raise ValueError(f"viewer token lifetime must be > 0 s, got {ttl_s}")
        self._secret = secret or os.urandom(32)
        self.new_per_minute = float(new_per_minute)
        self.ttl_s = float(ttl_s)
        self._clock = clock
        self._wall = wall
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self.issued = 0
        self.refused = 0
        self.invalid = 0  # forged, altered, malformed or expired tokens offered

    # ---- tokens ----

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    def issue(self) -> tuple[str, str]:
        """A new (viewer id, token). Not rate-limited: ``admit`` is the door viewers come through."""
        viewer = "p" + os.urandom(8).hex()
        body = f"{viewer}.{int(self._wall()):x}"
        self.issued += 1
        return viewer, f"{body}.{self._sign(body)}"

    def verify(self, token: str | None) -> str | None:
        """The viewer id in a genuine, unexpired token; None otherwise."""
        if not token or len(token) > TOKEN_MAX:
            return None
        match = _TOKEN.match(token)
        if match is None:
            return None
        viewer, issued, signature = match.groups()
        if not hmac.compare_digest(signature, self._sign(f"{viewer}.{issued}")):
            return None
        age = self._wall() - int(issued, 16)
        if not -300 <= age <= self.ttl_s:  # a little clock skew, never from the far future
            return None
        return viewer

    def address_key(self, ip: str) -> str:
        digest = hmac.new(self._secret, b"addr:" + ip.encode(), hashlib.sha256).hexdigest()
        return "a" + digest[:12]

    # ---- the door ----

    def admit(self, token: str | None, ip: str) -> Admission | Refusal:
        """Who this connection is: the token's viewer, or a new identity if the address may make one."""
        address = self.address_key(ip)
        viewer = self.verify(token)
        if viewer is not None:
            return Admission(viewer, token or "", address, new=False)
        if token:
            self.invalid += 1
        bucket = self._bucket(address)
        if not bucket.try_take():
            self.refused += 1
            wait = (1.0 - bucket.tokens) * 60.0 / self.new_per_minute
            return Refusal(max(1, math.ceil(wait)))
        viewer, token = self.issue()
        return Admission(viewer, token, address, new=True)

    def _bucket(self, address: str) -> TokenBucket:
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = TokenBucket(self.new_per_minute / 60.0, self.new_per_minute, self._clock)
            self._buckets[address] = bucket
            while len(self._buckets) > _TRACKED_ADDRESSES:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(address)
        return bucket


__all__ = ["Admission", "Refusal", "ViewerIdentities"]
