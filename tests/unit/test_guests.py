"""The co-host model (issue 15): invite tokens, expiry, revoke, reuse, the limit of 4, requests."""

from __future__ import annotations

import threading

import av
import pytest

from studio.net import NetLoop
from studio.services.guest_link import GuestEndReason, GuestMediaSink
from studio.services.guests import (
    CoHost,
    Guest,
    GuestBook,
    GuestJoined,
    GuestLeft,
    GuestRefused,
    ViewerInvite,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeLink:
    """Stands in for the relay's GuestLink: the book only reads its id."""

    def __init__(self, guest_id: str) -> None:
        self._id = guest_id

    @property
    def guest_id(self) -> str:
        return self._id

    @property
    def display_name(self) -> str:
        return "x"

    @property
    def has_video(self) -> bool:
        return True

    def attach(self, sink: GuestMediaSink) -> None: ...

    def detach(self) -> None: ...

    def request_keyframe(self) -> None: ...

    def push_return_audio(self, packet: av.Packet) -> None: ...


class FakeSession:
    def __init__(self, book: GuestBook, guest_id: str) -> None:
        self.book = book
        self.guest_id = guest_id
        self.states: list[str] = []
        self.ended: list[GuestEndReason] = []

    def state_changed(self, guest: Guest) -> None:
        self.states.append(guest.state)

    def end(self, reason: GuestEndReason, detail: str = "") -> None:
        self.ended.append(reason)
        self.book.ended(self.guest_id, reason, detail)


def join(book: GuestBook, token: str | None, guest_id: str = "g1") -> tuple[Guest, FakeSession]:
    session = FakeSession(book, guest_id)
    return book.admit(token, session, FakeLink(guest_id), has_video=True), session


def test_an_invite_admits_one_guest_once() -> None:
    book = GuestBook(clock=FakeClock())
    joined: list[GuestJoined] = []
    book.guest_joined.connect(joined.append)
    invite, token = book.create_invite("  Alice\x00 ")
    assert invite.name == "Alice" and invite.state == "open"
    assert token not in repr(invite) and token not in repr(book.invites())  # the token is not kept
    guest, _ = join(book, token)
    assert guest.name == "Alice" and guest.state == "waiting"
    assert [j.guest.guest_id for j in joined] == ["g1"] and joined[0].link.guest_id == "g1"
    assert book.invites()[0].state == "used"
    with pytest.raises(GuestRefused) as reused:
        join(book, token, "g2")
    assert reused.value.status == 403 and "already been used" in reused.value.message
    assert [g.guest_id for g in book.guests()] == ["g1"]


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_a_missing_or_wrong_token_is_401(token: str | None) -> None:
    book = GuestBook(clock=FakeClock())
    book.create_invite("Bob")
    with pytest.raises(GuestRefused) as refused:
        join(book, token)
    assert refused.value.status == 401
    assert book.guests() == ()


def test_expired_and_revoked_invites_are_403() -> None:
    clock = FakeClock()
    book = GuestBook(clock=clock)
    changes: list[tuple[str, ...]] = []
    book.invites_changed.connect(lambda invites: changes.append(tuple(i.state for i in invites)))
    _, short = book.create_invite("short", ttl_s=60)
    revoked, withdrawn = book.create_invite("revoked", ttl_s=600)
    assert book.check(short).name == "short"
    clock.now += 60
    with pytest.raises(GuestRefused) as expired:
        join(book, short)
    assert expired.value.status == 403 and "expired" in expired.value.message
    assert book.revoke_invite(revoked.invite_id)
    assert not book.revoke_invite(revoked.invite_id)  # only an open invite can be revoked
    with pytest.raises(GuestRefused) as gone:
        join(book, withdrawn)
    assert gone.value.status == 403 and "withdrawn" in gone.value.message
    assert changes[-1] == ("expired", "revoked")
    book.forget_invite(revoked.invite_id)
    with pytest.raises(GuestRefused) as forgotten:
        book.check(withdrawn)
    assert forgotten.value.status == 401


def test_at_most_four_guests_and_a_fifth_is_refused_clearly() -> None:
    book = GuestBook(clock=FakeClock())
    sessions = []
    for n in range(4):
        _, token = book.create_invite(f"g{n}")
        sessions.append(join(book, token, f"g{n}")[1])
    _, fifth = book.create_invite("fifth")
    with pytest.raises(GuestRefused) as full:
        join(book, fifth, "g4")
    assert full.value.status == 409 and "4 guests" in full.value.message
    assert book.check(fifth).state == "open"  # not used up: it works once a guest has left
    sessions[0].end("left")
    guest, _ = join(book, fifth, "g4")
    assert guest.state == "waiting" and book.live_count == 4


def test_states_mute_kick_and_leaving() -> None:
    book = GuestBook(clock=FakeClock())
    left: list[GuestLeft] = []
    book.guest_left.connect(left.append)
    _, token = book.create_invite("Carol")
    guest, session = join(book, token)
    assert book.set_on_air(guest.guest_id, True)
    assert book.mute(guest.guest_id, True)
    assert book.set_on_air(guest.guest_id, True)  # still muted
    assert book.guest(guest.guest_id).state == "muted_by_host"  # type: ignore[union-attr]
    assert book.mute(guest.guest_id, False)
    assert session.states == ["on_air", "muted_by_host", "on_air"]
    assert book.kick(guest.guest_id)
    assert session.ended == ["kicked"]
    assert [(x.guest.state, x.reason) for x in left] == [("ended", "kicked")]
    assert not book.kick(guest.guest_id)
    book.ended(guest.guest_id, "left")  # a late report changes nothing
    assert len(left) == 1
    assert not book.set_on_air(guest.guest_id, True)
    book.forget_guest(guest.guest_id)
    assert book.guests() == ()


def test_join_requests_queue_accept_and_decline() -> None:
    clock = FakeClock()
    book = GuestBook(clock=clock)
    queues: list[list[str]] = []
    invited: list[ViewerInvite] = []
    book.requests_changed.connect(lambda rs: queues.append([r.nick for r in rs]))
    book.viewer_invited.connect(invited.append)
    first = book.add_request("viewer-1", "小明")
    again = book.add_request("viewer-1", "小明")
    second = book.add_request("viewer-2", "Dan\n")
    assert first is again and first is not None and second is not None
    assert queues == [["小明"], ["小明", "Dan"]]
    invite = book.accept_request(first.request_id, lambda token: f"http://x/guest/live#invite={token}")
    assert invite is not None and invite.viewer == "viewer-1" and invite.name == "小明"
    assert [i.viewer for i in invited] == ["viewer-1"]
    token = invited[0].url.split("#invite=")[1]
    assert book.check(token).invite_id == invite.invite_id
    assert book.accept_request(first.request_id, str) is None  # answered already
    assert book.decline_request(second.request_id)
    assert not book.decline_request(second.request_id)
    assert queues[-1] == [] and book.requests() == ()
    book.add_request("viewer-3", "Eve")
    book.withdraw_request("viewer-3")
    assert book.requests() == ()


def test_cohost_commands_cross_to_the_loop() -> None:
    net = NetLoop()
    net.start()
    try:
        book = GuestBook()
        cohost = CoHost(book, net, "http://127.0.0.1:8889/guest/live")
        threads: set[str] = set()
        changed = threading.Event()

        def on_requests(requests: object) -> None:
            threads.add(threading.current_thread().name)
            changed.set()

        cohost.requests_changed.connect(on_requests)
        link = cohost.create_invite("Frank", ttl_s=30)
        assert link.url.startswith("http://127.0.0.1:8889/guest/live#invite=")
        assert book.check(link.url.split("#invite=")[1]).name == "Frank"
        cohost.add_request("viewer-9", "Gina")
        assert changed.wait(10)
        assert threads == {"net"}  # events come from the loop that owns the state
        invites, requests, guests = cohost.snapshot()
        assert [i.name for i in invites] == ["Frank"] and [r.nick for r in requests] == ["Gina"]
        assert guests == ()
    finally:
        net.stop()


def test_revoking_a_used_invite_ends_its_guest() -> None:
    book = GuestBook(clock=FakeClock())
    invite, token = book.create_invite("Hana")
    guest, session = join(book, token)
    assert book.revoke_invite(invite.invite_id)
    assert session.ended == ["revoked"]
    assert book.guest(guest.guest_id).end_reason == "revoked"  # type: ignore[union-attr]
    assert not book.revoke_invite(invite.invite_id)
    used, token2 = book.create_invite("Ivan")
    _, gone = join(book, token2, "g2")
    gone.end("left")
    assert not book.revoke_invite(used.invite_id)  # nobody left to end: nothing to withdraw


def test_a_guest_whose_connection_dropped_may_rejoin_once_with_its_session_key() -> None:
    clock = FakeClock()
    book = GuestBook(clock=clock)
    invite, token = book.create_invite("Jo")
    _, session = join(book, token)
    session.end("timeout")
    book.allow_rejoin(invite.invite_id, "session-key-1", ttl_s=60)
    with pytest.raises(GuestRefused):
        join(book, token, "g2")  # the invite itself stays used
    again, _ = join(book, "session-key-1", "g2")
    assert again.name == "Jo" and again.state == "waiting"
    with pytest.raises(GuestRefused) as twice:
        join(book, "session-key-1", "g3")
    assert twice.value.status == 401
    book.allow_rejoin(invite.invite_id, "session-key-2", ttl_s=60)
    clock.now += 60
    with pytest.raises(GuestRefused):
        join(book, "session-key-2", "g4")  # too late
    book.allow_rejoin(invite.invite_id, "session-key-3", ttl_s=60)
    book.revoke_invite(invite.invite_id)
    with pytest.raises(GuestRefused):
        join(book, "session-key-3", "g5")  # withdrawn since
