"""One client's session: Identify / Reidentify, its event subscriptions and its rate limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.control.auth import Challenge
from studio.control.protocol import RPC_VERSION, CloseCode, EventSubscription, ProtocolError

# every bit a client may ask for (unknown bits are ignored, as obs-websocket does)
KNOWN_BITS = int(EventSubscription.ALL | EventSubscription.INPUT_VOLUME_METERS
                 | EventSubscription.INPUT_ACTIVE_STATE_CHANGED | EventSubscription.INPUT_SHOW_STATE_CHANGED
                 | EventSubscription.SCENE_ITEM_TRANSFORM_CHANGED)


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate`` requests a second on average, ``burst`` at once. A Stream Deck sends a
    handful a second; a script polling GetSceneList in a tight loop stays well inside 200/s."""

    rate: float = 200.0
    burst: int = 400
    # a session that keeps sending past the limit (this many refused in a row) is closed
    close_after_refused: int = 2000


class TokenBucket:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._at = clock()
        self.refused_in_a_row = 0  # refusals not yet forgiven (one per request let through)

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(float(self.limit.burst), self._tokens + (now - self._at) * self.limit.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            # one request let through now and then does not forgive a flood: refusals decay slowly
            self.refused_in_a_row = max(0, self.refused_in_a_row - 1)
            return True
        self.refused_in_a_row += 1
        return False

    @property
    def flooding(self) -> bool:
        return self.refused_in_a_row >= self.limit.close_after_refused


def _subscriptions(data: dict[str, Any]) -> EventSubscription:
    if "eventSubscriptions" not in data:
        return EventSubscription.ALL
    value = data["eventSubscriptions"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(CloseCode.INVALID_DATA_FIELD_TYPE, "eventSubscriptions must be a number")
    if value < 0:
        raise ProtocolError(CloseCode.INVALID_DATA_FIELD_VALUE, "eventSubscriptions must not be negative")
    return EventSubscription(value & KNOWN_BITS)


class Session:
    """State of one connection. Touched only on the net thread."""

    def __init__(self, challenge: Challenge | None, password: str | None, limit: RateLimit | None = None,
                 remote: str = "") -> None:
        self.challenge = challenge  # None: no authentication required
        self._password = password
        self.remote = remote
        self.identified = False
        self.rpc_version = RPC_VERSION
        self.subscriptions = EventSubscription.NONE
        self.bucket = TokenBucket(limit or RateLimit())
        self.incoming = 0
        self.outgoing = 0

    def identify(self, data: dict[str, Any]) -> dict[str, Any]:
        """Check an Identify; returns the Identified data or raises ProtocolError (close the session)."""
        if self.identified:
            raise ProtocolError(CloseCode.ALREADY_IDENTIFIED, "already identified; use Reidentify")
        if "rpcVersion" not in data:
            raise ProtocolError(CloseCode.MISSING_DATA_FIELD, "missing rpcVersion")
        version = data["rpcVersion"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise ProtocolError(CloseCode.INVALID_DATA_FIELD_TYPE, "rpcVersion must be a number")
        if version != RPC_VERSION:
            raise ProtocolError(CloseCode.UNSUPPORTED_RPC_VERSION, f"rpcVersion {version} is not supported (1)")
        if self.challenge is not None:
            assert self._password is not None
            if not self.challenge.verify(self._password, data.get("authentication")):
                raise ProtocolError(CloseCode.AUTHENTICATION_FAILED, "authentication failed")
        self.subscriptions = _subscriptions(data)
        self.identified = True
        self._password = None  # no longer needed by this session
        return {"negotiatedRpcVersion": RPC_VERSION}

    def reidentify(self, data: dict[str, Any]) -> dict[str, Any]:
        self.subscriptions = _subscriptions(data)
        return {"negotiatedRpcVersion": RPC_VERSION}

    def wants(self, intent: EventSubscription) -> bool:
        return bool(self.subscriptions & intent)
