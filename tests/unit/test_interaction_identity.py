"""Viewer identities as an adversary sees them: forged, altered, expired and malformed tokens, and
floods of new identities from one address (clocks injected, no sleeping)."""

from __future__ import annotations

import pytest

from studio.interaction.identity import Admission, Refusal, ViewerIdentities


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(**kwargs: float) -> tuple[ViewerIdentities, Clock, Clock]:
    mono, wall = Clock(), Clock(1_760_000_000.0)
    return ViewerIdentities(b"s" * 32, clock=mono, wall=wall, **kwargs), mono, wall


def test_a_token_names_its_viewer_and_nothing_else_does() -> None:
    ids, _, _ = make()
    viewer, token = ids.issue()
    assert ids.verify(token) == viewer
    body, issued, sig = token.split(".")
    other_viewer, other = ids.issue()
    forged_sig = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    tampered = [
        f"{body}.{issued}.{forged_sig}",  # signature changed
        f"{other_viewer}.{issued}.{sig}",  # someone else's id with my signature
        f"{body}.{int(issued, 16) + 1:x}.{sig}",  # issue time moved
        token + "x", "", "x" * 500, "p.1.2", token.replace(".", "-"), "<script>.1.aaaaaaaaaaaaaaaaaaaaaa",
    ]
    for bad in tampered:
        assert ids.verify(bad) is None, bad
    # another show's secret signs nothing here
    elsewhere = ViewerIdentities(b"t" * 32)
    assert ids.verify(elsewhere.issue()[1]) is None
    assert ids.verify(other) == other_viewer


def test_tokens_expire_and_never_come_from_the_future() -> None:
    ids, _, wall = make(ttl_s=3600)
    viewer, token = ids.issue()
    wall.now += 3599
    assert ids.verify(token) == viewer
    wall.now += 2
    assert ids.verify(token) is None
    wall.now -= 3601 + 3600  # an hour before it was issued
    assert ids.verify(token) is None


def test_new_identities_per_address_are_limited_and_tokens_still_get_in() -> None:
    ids, mono, _ = make()
    first = ids.admit(None, "10.0.0.5")
    assert isinstance(first, Admission) and first.new
    admitted = [ids.admit(None, "10.0.0.5") for _ in range(10)]
    assert sum(isinstance(a, Admission) for a in admitted) == 2  # 3 a minute by default
    refusal = admitted[-1]
    assert isinstance(refusal, Refusal) and 1 <= refusal.retry_after_s <= 20
    assert ids.refused == 8
    # a returning viewer with its token is always let in, whatever the address did
    again = ids.admit(first.token, "10.0.0.5")
    assert isinstance(again, Admission) and again.viewer == first.viewer and not again.new
    # forged tokens are worth no more than none: they count as new identities (and are counted)
    assert isinstance(ids.admit(first.token[:-2] + "AA", "10.0.0.5"), Refusal)
    assert ids.invalid == 1
    # another address has its own allowance; the address key hides the IP and is stable
    other = ids.admit(None, "10.0.0.6")
    assert isinstance(other, Admission) and other.address != first.address
    assert "10.0.0.5" not in first.address and first.address == ids.address_key("10.0.0.5")
    mono.now += 20  # one more a third of a minute later
    assert isinstance(ids.admit(None, "10.0.0.5"), Admission)
    assert isinstance(ids.admit(None, "10.0.0.5"), Refusal)


def test_the_limit_is_configurable_for_a_venue_behind_one_nat() -> None:
    ids, _, _ = make(new_per_minute=300)
    assert all(isinstance(ids.admit(None, "192.168.1.1"), Admission) for _ in range(300))
    assert isinstance(ids.admit(None, "192.168.1.1"), Refusal)
    with pytest.raises(ValueError, match="new identities"):
        ViewerIdentities(new_per_minute=0)
    with pytest.raises(ValueError, match="secret"):
        ViewerIdentities(b"short")
