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
