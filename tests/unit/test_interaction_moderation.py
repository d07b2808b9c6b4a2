"""Moderation: banned words (with NFKC/case variants), blocked users, slow mode, remove and pin."""

from __future__ import annotations

import pytest

from studio.interaction.messages import Danmaku
from studio.interaction.moderation import (
    BANNED_WORD,
    BLOCKED_USER,
    SLOW_MODE,
    DanmakuPinned,
    DanmakuRemoved,
    ModerationChanged,
    Moderator,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def dm(text: str, user: str = "u1") -> Danmaku:
    return Danmaku(user=user, text=text)


def test_banned_word_flagged_and_hidden() -> None:
    mod = Moderator(["傻瓜", "SB"])
    event = mod.check(dm("你是傻瓜吗"))
    assert not event.visible and event.flags == {BANNED_WORD} and event.matched == ("傻瓜",)
    assert mod.check(dm("今天很开心")).visible


@pytest.mark.parametrize("text", ["ｓｂ主播", "Sb", "全角ＳＢ", "sB!"])
def test_nfkc_and_case_variants_caught(text: str) -> None:
    event = Moderator(["sb"]).check(dm(text))
    assert BANNED_WORD in event.flags and event.matched == ("sb",)


def test_full_width_banned_word_matches_half_width_text() -> None:
    assert not Moderator(["ＶＸ"]).check(dm("加vx领券")).visible


def test_word_list_editing_emits_and_validates() -> None:
    mod = Moderator()
    changes: list[ModerationChanged] = []
    mod.changed.connect(changes.append)
    mod.add_banned_word("  刷单 ")
    assert mod.banned_words == ("刷单",) and changes[-1].banned_words == ("刷单",)
    assert not mod.check(dm("刷单返利")).visible
    mod.remove_banned_word("刷单")
    assert mod.check(dm("刷单返利", user="u2")).visible
    with pytest.raises(ValueError, match="empty"):
        mod.add_banned_word("   ")
    with pytest.raises(ValueError, match="longer"):
        mod.set_banned_words(["x" * 51])


def test_blocked_user_dropped_from_overlay() -> None:
    mod = Moderator()
    mod.block("troll")
    event = mod.check(dm("hello", user="troll"))
    assert not event.visible and event.flags == {BLOCKED_USER}
    assert mod.check(dm("hello", user="nice")).visible
    mod.unblock("troll")
    assert mod.check(dm("sorry", user="troll")).visible
    with pytest.raises(ValueError):
        mod.block("")


def test_slow_mode_per_user() -> None:
    clock = FakeClock()
    mod = Moderator(clock=clock)
    mod.set_slow_mode(5)
    assert mod.check(dm("1", "a")).visible
    assert mod.check(dm("1", "b")).visible  # per user
    clock.now = 2
    event = mod.check(dm("2", "a"))
    assert not event.visible and event.flags == {SLOW_MODE}
    clock.now = 5
    assert mod.check(dm("3", "a")).visible  # 5 s after the last *shown* one
    mod.set_slow_mode(0)
    assert mod.check(dm("4", "a")).visible
    with pytest.raises(ValueError, match="0-600"):
        mod.set_slow_mode(-1)
    with pytest.raises(ValueError):
        mod.set_slow_mode(float("nan"))


def test_remove_and_pin_by_id() -> None:
    mod = Moderator(history=2)
    removed: list[DanmakuRemoved] = []
    pins: list[DanmakuPinned] = []
    mod.removed.connect(removed.append)
    mod.pinned_changed.connect(pins.append)
    first, second, third = dm("a"), dm("b"), dm("c")
    for message in (first, second, third):
        mod.check(message)
    assert mod.pin(third.id) == third and mod.pinned == third and pins[-1].message == third
    with pytest.raises(ValueError, match="no recent danmaku"):
        mod.pin(first.id)  # fell out of the bounded history
    mod.remove(third.id)
    assert removed == [DanmakuRemoved(third.id)] and mod.pinned is None and pins[-1].message is None
    mod.pin(second.id)
    mod.unpin()
    assert mod.pinned is None and len(pins) == 4


def test_block_covers_identity_and_address_and_is_listed() -> None:
    mod = Moderator()
    changes: list[ModerationChanged] = []
    mod.changed.connect(changes.append)
    entry = mod.block("p1", "a-home", "troll")
    assert changes[-1].blocked == (entry,) and entry.label == "troll"
    assert BLOCKED_USER in mod.check(Danmaku(user="p1", text="hi")).flags
    # a new identity from the blocked address is blocked too; the same address key only
    assert BLOCKED_USER in mod.check(Danmaku(user="p2", address="a-home", text="hi")).flags
    assert mod.check(Danmaku(user="p3", address="a-cafe", text="hi")).visible
    assert mod.blocked_by("p2", "a-home") == entry and mod.blocked_by("p3", "a-cafe") is None
    mod.unblock("p1")
    assert mod.check(Danmaku(user="p2", address="a-home", text="hi")).visible and mod.blocked == ()


def test_slow_mode_keys_on_identity_and_a_fresh_identity_keeps_its_address_pace() -> None:
    now = [0.0]
    mod = Moderator(clock=lambda: now[0])
    mod.set_slow_mode(10)
    assert mod.check(Danmaku(user="p1", address="a1", text="1")).visible
    assert SLOW_MODE in mod.check(Danmaku(user="p1", address="a1", text="2")).flags
    # the token thrown away: a new identity from the same address waits too
    assert SLOW_MODE in mod.check(Danmaku(user="p2", address="a1", text="3")).flags
    assert mod.check(Danmaku(user="p3", address="a2", text="4")).visible
    now[0] = 11.0
    assert mod.check(Danmaku(user="p2", address="a1", text="5")).visible
    # viewers behind one NAT then keep their own pace
    assert mod.check(Danmaku(user="p1", address="a1", text="6")).visible
