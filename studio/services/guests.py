"""Co-hosting (连麦, issue 15): invites, "ask to join" requests and the guests on the relay.

:class:`GuestBook` is the state, sans-I/O, owned by the ``net`` loop (the relay's guest ingest
calls it there) with an injectable clock for tests. :class:`CoHost` is what the studio's co-host
dock binds to: its commands may be called from any thread (they cross to the loop, as the relay
and the hub are driven from the UI) and its events are the book's :class:`Signal`\\ s, emitted on
the loop thread (the UI re-emits them on its own thread, ``widgets/bridge.py``).

Tokens: an invite's token is random, shown once (in the invite link) and kept only as a SHA-256
hash; it is single-use, expires and can be revoked. It is never logged nor part of any event.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol
from urllib.parse import quote

from scenes.events import Signal
from studio.services.guest_link import GuestEndReason, GuestLink

MAX_GUESTS = 4
DEFAULT_INVITE_TTL_S = 15 * 60
REJOIN_S = 120.0  # a guest whose connection dropped may come back this long without a new invite
MAX_REQUESTS = 50  # queued "ask to join" requests kept; more are refused until the host answers
NAME_MAX = 32

GuestState = Literal["waiting", "on_air", "muted_by_host", "ended"]
InviteState = Literal["open", "used", "revoked", "expired"]
Clock = Callable[[], float]


class GuestRefused(Exception):
    """Why a guest cannot join, as an HTTP status and one plain sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Invite:
    """One invite, without its token (the token is only in the link made when it was created)."""

    invite_id: str
    name: str  # who it is for, as the host typed it or the viewer's nick (plain text)
    expires_at: float  # on the book's clock
    state: InviteState = "open"
    viewer: str | None = None  # the viewer identity of an accepted "ask to join" request


@dataclass(frozen=True)
class JoinRequest:
    request_id: str
    viewer: str  # the signed viewer identity from the hub (never a connection)
    nick: str  # plain text
    at: float


@dataclass(frozen=True)
class Guest:
    guest_id: str
    name: str
    invite_id: str
    has_video: bool
    state: GuestState = "waiting"
    end_reason: GuestEndReason | None = None
    detail: str = ""  # why it ended, in words, when it was not simply "left"


@dataclass(frozen=True)
class GuestJoined:
    guest: Guest
    link: GuestLink


@dataclass(frozen=True)
class GuestLeft:
    guest: Guest  # state "ended", with end_reason
    reason: GuestEndReason


@dataclass(frozen=True)
class ViewerInvite:
    """An accepted request: send ``url`` to this viewer's page (and only theirs)."""

    viewer: str
    url: str


class GuestSession(Protocol):
    """The relay side of one guest (``guest_ingest``): what the book tells it. Net loop."""

    def state_changed(self, guest: Guest) -> None: ...

    def end(self, reason: GuestEndReason, detail: str = "") -> None: ...


@dataclass
class _InviteEntry:
    invite: Invite
    token_hash: bytes


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def plain_name(text: str) -> str:
    """A display name: no control characters, trimmed, at most NAME_MAX characters."""
    cleaned = "".join(ch for ch in text if ch.isprintable()).strip()
    return cleaned[:NAME_MAX]


class GuestBook:
    """Invites, requests and guests. Not thread-safe: use on one thread (the net loop)."""

    def __init__(self, *, clock: Clock = time.monotonic, max_guests: int = MAX_GUESTS) -> None:
        self._clock = clock
        self.max_guests = max_guests
        self._invites: dict[str, _InviteEntry] = {}
        self._by_hash: dict[bytes, str] = {}
        self._requests: dict[str, JoinRequest] = {}
        self._guests: dict[str, Guest] = {}
        self._sessions: dict[str, GuestSession] = {}
        self._rejoin: dict[bytes, tuple[str, float]] = {}  # hash(session key) -> (invite id, until)
        self.guest_joined: Signal[GuestJoined] = Signal()
        self.guest_left: Signal[GuestLeft] = Signal()
        self.guests_changed: Signal[tuple[Guest, ...]] = Signal()
        self.requests_changed: Signal[tuple[JoinRequest, ...]] = Signal()
        self.invites_changed: Signal[tuple[Invite, ...]] = Signal()
        self.viewer_invited: Signal[ViewerInvite] = Signal()

    # --- snapshots -----------------------------------------------------------------------------

    def invites(self) -> tuple[Invite, ...]:
        self._expire()
        return tuple(e.invite for e in self._invites.values())

    def requests(self) -> tuple[JoinRequest, ...]:
        return tuple(self._requests.values())

    def guests(self) -> tuple[Guest, ...]:
        return tuple(self._guests.values())

    def guest(self, guest_id: str) -> Guest | None:
        return self._guests.get(guest_id)

    @property
    def live_count(self) -> int:
        return sum(1 for g in self._guests.values() if g.state != "ended")

    # --- invites -------------------------------------------------------------------------------

    def create_invite(self, name: str, ttl_s: float = DEFAULT_INVITE_TTL_S,
                      viewer: str | None = None) -> tuple[Invite, str]:
        """A new invite and its token (the only time the token exists outside the link)."""
        if ttl_s <= 0:
            raise ValueError(f"invite lifetime must be positive, got {ttl_s!r}")
        token = secrets.token_urlsafe(24)
        invite = Invite(uuid.uuid4().hex[:12], plain_name(name) or "guest", self._clock() + ttl_s, viewer=viewer)
        entry = _InviteEntry(invite, _hash(token))
        self._invites[invite.invite_id] = entry
        self._by_hash[entry.token_hash] = invite.invite_id
        self._emit_invites()
        return invite, token

    def revoke_invite(self, invite_id: str) -> bool:
        """Withdraw an invite: an open one can no longer be used; a used one's guest, if still
        on, is ended with the reason "revoked"."""
        entry = self._invites.get(invite_id)
        if entry is None or entry.invite.state in ("revoked", "expired"):
            return False
        live = [g.guest_id for g in self._guests.values() if g.invite_id == invite_id and g.state != "ended"]
        if entry.invite.state == "used" and not live:
            return False
        entry.invite = replace(entry.invite, state="revoked")
        self._emit_invites()
        for guest_id in live:
            session = self._sessions.get(guest_id)
            if session is not None:
                session.end("revoked")
        return True

    def forget_invite(self, invite_id: str) -> None:
        """Drop a used, revoked or expired invite from the list (an open one is revoked first)."""
        entry = self._invites.pop(invite_id, None)
        if entry is not None:
            self._by_hash.pop(entry.token_hash, None)
            self._emit_invites()

    def allow_rejoin(self, invite_id: str, key: str, ttl_s: float = REJOIN_S) -> None:
        """A guest whose connection dropped may join again with ``key`` (its session key, which
        only its page holds) instead of the used invite, once, within ``ttl_s``."""
        now = self._clock()
        self._rejoin = {h: v for h, v in self._rejoin.items() if v[1] > now}
        self._rejoin[_hash(key)] = (invite_id, now + ttl_s)

    def _rejoining(self, token: str) -> _InviteEntry | None:
        found = self._rejoin.get(_hash(token))
        if found is None or found[1] <= self._clock():
            return None
        entry = self._invites.get(found[0])
        if entry is None or entry.invite.state != "used":
            return None  # revoked (or forgotten) since
        return entry

    def check(self, token: str | None) -> Invite:
        """The invite this token lets in (an open one, or a used one for a guest rejoining with its
        session key), or :class:`GuestRefused` (401/403) saying why."""
        if not token:
            raise GuestRefused(401, "a guest invite token is required (open the invite link you were given)")
        self._expire()
        invite_id = self._by_hash.get(_hash(token))
        entry = self._invites.get(invite_id) if invite_id is not None else None
        if entry is None:
            entry = self._rejoining(token)
            if entry is not None:
                return entry.invite
            raise GuestRefused(401, "this guest invite is not valid")
        state = entry.invite.state
        if state == "used":
            raise GuestRefused(403, "this guest invite has already been used; ask the host for a new one")
        if state == "revoked":
            raise GuestRefused(403, "this guest invite was withdrawn by the host")
        if state == "expired":
            raise GuestRefused(403, "this guest invite has expired; ask the host for a new one")
        return entry.invite

    def admit(self, token: str | None, session: GuestSession, link: GuestLink,
              has_video: bool) -> Guest:
        """Use the invite (once) and add its guest; :class:`GuestRefused` when it cannot join."""
        invite = self.check(token)
        if self.live_count >= self.max_guests:
            raise GuestRefused(409, f"the show already has {self.max_guests} guests, the most it takes; "
                                    "try again when one has left")
        entry = self._invites[invite.invite_id]
        entry.invite = replace(invite, state="used")
        self._rejoin.pop(_hash(token or ""), None)  # a session key lets in once
        guest = Guest(link.guest_id, invite.name, invite.invite_id, has_video)
        self._guests[guest.guest_id] = guest
        self._sessions[guest.guest_id] = session
        self._emit_invites()
        self.guest_joined.emit(GuestJoined(guest, link))
        self._emit_guests()
        return guest

    def _expire(self) -> None:
        now = self._clock()
        changed = False
        for entry in self._invites.values():
            if entry.invite.state == "open" and now >= entry.invite.expires_at:
                entry.invite = replace(entry.invite, state="expired")
                changed = True
        if changed:
            self.invites_changed.emit(tuple(e.invite for e in self._invites.values()))

    def _emit_invites(self) -> None:
        self._expire()
        self.invites_changed.emit(tuple(e.invite for e in self._invites.values()))

    # --- "ask to join" requests ----------------------------------------------------------------

    def add_request(self, viewer: str, nick: str) -> JoinRequest | None:
        """Queue a viewer's request (one per viewer: asking again keeps the first); None when
        the queue is full."""
        for request in self._requests.values():
            if request.viewer == viewer:
                return request
        if len(self._requests) >= MAX_REQUESTS:
            return None
        request = JoinRequest(uuid.uuid4().hex[:12], viewer, plain_name(nick) or "viewer", self._clock())
        self._requests[request.request_id] = request
        self.requests_changed.emit(self.requests())
        return request

    def accept_request(self, request_id: str, invite_url: Callable[[str], str],
                       ttl_s: float = DEFAULT_INVITE_TTL_S) -> Invite | None:
        """Invite the viewer who asked: their page gets the link (``viewer_invited``)."""
        request = self._requests.pop(request_id, None)
        if request is None:
            return None
        invite, token = self.create_invite(request.nick, ttl_s, viewer=request.viewer)
        self.requests_changed.emit(self.requests())
        self.viewer_invited.emit(ViewerInvite(request.viewer, invite_url(token)))
        return invite

    def decline_request(self, request_id: str) -> bool:
        if self._requests.pop(request_id, None) is None:
            return False
        self.requests_changed.emit(self.requests())
        return True

    def withdraw_request(self, viewer: str) -> None:
        """The viewer cancelled (or left): their request leaves the queue."""
        gone = [r.request_id for r in self._requests.values() if r.viewer == viewer]
        for request_id in gone:
            del self._requests[request_id]
        if gone:
            self.requests_changed.emit(self.requests())

    # --- guests --------------------------------------------------------------------------------

    def set_on_air(self, guest_id: str, on_air: bool) -> bool:
        guest = self._guests.get(guest_id)
        if guest is None or guest.state == "ended":
            return False
        if guest.state == "muted_by_host":
            return True  # muted stays muted; unmute says where it returns to
        return self._set_state(guest, "on_air" if on_air else "waiting")

    def mute(self, guest_id: str, muted: bool) -> bool:
        guest = self._guests.get(guest_id)
        if guest is None or guest.state == "ended":
            return False
        if muted:
            return self._set_state(guest, "muted_by_host")
        return self._set_state(guest, "on_air") if guest.state == "muted_by_host" else True

    def kick(self, guest_id: str) -> bool:
        session = self._sessions.get(guest_id)
        if session is None:
            return False
        session.end("kicked")  # calls ended() back
        return True

    def ended(self, guest_id: str, reason: GuestEndReason, detail: str = "") -> None:
        """The relay says the guest is gone (left, kicked, timeout, error). Idempotent."""
        guest = self._guests.get(guest_id)
        self._sessions.pop(guest_id, None)
        if guest is None or guest.state == "ended":
            return
        guest = replace(guest, state="ended", end_reason=reason, detail=detail)
        self._guests[guest_id] = guest
        self.guest_left.emit(GuestLeft(guest, reason))
        self._emit_guests()

    def forget_guest(self, guest_id: str) -> None:
        """Drop an ended guest from the list."""
        guest = self._guests.get(guest_id)
        if guest is not None and guest.state == "ended":
            del self._guests[guest_id]
            self._emit_guests()

    def end_all(self, reason: GuestEndReason = "left") -> None:
        for session in list(self._sessions.values()):
            session.end(reason)

    def _set_state(self, guest: Guest, state: GuestState) -> bool:
        if guest.state != state:
            guest = replace(guest, state=state)
            self._guests[guest.guest_id] = guest
            session = self._sessions.get(guest.guest_id)
            if session is not None:
                session.state_changed(guest)
            self._emit_guests()
        return True

    def _emit_guests(self) -> None:
        self.guests_changed.emit(self.guests())


class _Loop(Protocol):
    def in_loop_thread(self) -> bool: ...

    def call_soon(self, callback: Callable[..., object], *args: object) -> None: ...


@dataclass(frozen=True)
class InviteLink:
    invite: Invite
    url: str  # carries the token: show it to the host once, never log it


class CoHost:
    """The co-host dock's model. Commands from any thread; events on the net loop thread.

    ``guest_page_url(room)`` is the public URL of the relay's guest page (``/guest/<room>``); an
    invite link is that URL with the token in the fragment (``#invite=...``), so the token is not
    sent in the page request and stays out of any server's request log.
    """

    def __init__(self, book: GuestBook, net: _Loop, guest_page_url: str) -> None:
        self.book = book
        self._net = net
        self._page_url = guest_page_url
        # the book's events, re-exported for the dock
        self.guest_joined = book.guest_joined
        self.guest_left = book.guest_left
        self.guests_changed = book.guests_changed
        self.requests_changed = book.requests_changed
        self.invites_changed = book.invites_changed
        self.viewer_invited = book.viewer_invited

    def invite_url(self, token: str) -> str:
        return f"{self._page_url}#invite={quote(token, safe='')}"

    def _call(self, fn: Callable[[], object]) -> object:
        """Run ``fn`` on the loop and wait for its result (or directly on the loop thread)."""
        if self._net.in_loop_thread():
            return fn()
        done = threading.Event()
        result: list[object] = []
        error: list[BaseException] = []

        def run() -> None:
            try:
                result.append(fn())
            except BaseException as exc:  # handed back to the caller's thread
                error.append(exc)
            finally:
                done.set()

        self._net.call_soon(run)
        if not done.wait(10):
            raise TimeoutError("the net loop did not answer within 10 s")
        if error:
            raise error[0]
        return result[0]

    def create_invite(self, name: str, ttl_s: float = DEFAULT_INVITE_TTL_S) -> InviteLink:
        def make() -> InviteLink:
            invite, token = self.book.create_invite(name, ttl_s)
            return InviteLink(invite, self.invite_url(token))

        link = self._call(make)
        assert isinstance(link, InviteLink)
        return link

    def revoke_invite(self, invite_id: str) -> None:
        self._net.call_soon(self.book.revoke_invite, invite_id)

    def forget_invite(self, invite_id: str) -> None:
        self._net.call_soon(self.book.forget_invite, invite_id)

    def add_request(self, viewer: str, nick: str) -> None:
        """From the interaction service: a viewer asked to join."""
        self._net.call_soon(self.book.add_request, viewer, nick)

    def withdraw_request(self, viewer: str) -> None:
        self._net.call_soon(self.book.withdraw_request, viewer)

    def accept_request(self, request_id: str, ttl_s: float = DEFAULT_INVITE_TTL_S) -> None:
        self._net.call_soon(self.book.accept_request, request_id, self.invite_url, ttl_s)

    def decline_request(self, request_id: str) -> None:
        self._net.call_soon(self.book.decline_request, request_id)

    def set_on_air(self, guest_id: str, on_air: bool) -> None:
        self._net.call_soon(self.book.set_on_air, guest_id, on_air)

    def mute(self, guest_id: str, muted: bool) -> None:
        self._net.call_soon(self.book.mute, guest_id, muted)

    def kick(self, guest_id: str) -> None:
        self._net.call_soon(self.book.kick, guest_id)

    def forget_guest(self, guest_id: str) -> None:
        self._net.call_soon(self.book.forget_guest, guest_id)

    def snapshot(self) -> tuple[tuple[Invite, ...], tuple[JoinRequest, ...], tuple[Guest, ...]]:
        """Invites, requests and guests now (for a dock that opens after they changed)."""
        snap = self._call(lambda: (self.book.invites(), self.book.requests(), self.book.guests()))
        return snap  # type: ignore[return-value]


__all__ = [
    "MAX_GUESTS",
    "CoHost",
    "Guest",
    "GuestBook",
    "GuestJoined",
    "GuestLeft",
    "GuestRefused",
    "GuestSession",
    "GuestState",
    "Invite",
    "InviteLink",
    "JoinRequest",
    "ViewerInvite",
]
