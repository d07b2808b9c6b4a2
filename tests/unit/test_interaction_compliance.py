"""Advertising-law extreme words: positions, folding, longest match, editing."""

from __future__ import annotations

import pytest

from studio.interaction.compliance import ComplianceChecker, ComplianceWarning, check_text


def test_finds_words_with_positions() -> None:
    text = "本店销量第一，国家级品质，效果100%保证"
    warnings = check_text(text)
    assert [(w.word, text[w.start:w.end]) for w in warnings] == [
        ("销量第一", "销量第一"), ("国家级", "国家级"), ("100%", "100%"),
    ]  # fmt: skip
    assert warnings[0].start == 2 and "销量第一" in warnings[0].describe(text)


def test_longest_match_wins_and_full_width_folds() -> None:
    text = "全网最低价，１００％纯棉"
    warnings = check_text(text)
    assert [(w.word, w.start, w.end) for w in warnings] == [("全网最低", 0, 4), ("100%", 6, 10)]


def test_clean_text_and_editing() -> None:
    checker = ComplianceChecker(["爆款"])
    assert checker.check("性价比很高的好物") == []
    assert checker.check("今日爆款") == [ComplianceWarning("爆款", 2, 4)]
    checker.add_word("秒杀")
    assert {w.word for w in checker.check("秒杀爆款")} == {"秒杀", "爆款"}
    checker.remove_word("爆款")
    assert [w.word for w in checker.check("秒杀爆款")] == ["秒杀"]
    with pytest.raises(ValueError):
        checker.add_word(" ")
    with pytest.raises(ValueError):
        checker.check(None)  # type: ignore[arg-type]
