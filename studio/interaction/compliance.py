"""Advertising-law check: flag extreme words (最, 第一, 国家级 ...) that China's Advertising Law bans.

Used by the properties editor (product cards, captions) and the pre-live check. Matching folds
full-width forms and case (``１００％`` matches ``100%``); positions refer to the original text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from scenes.model import SceneCollection
from scenes.properties import PropertyKind
from scenes.registry import get_type
from studio.interaction.textnorm import find_words, fold

DEFAULT_EXTREME_WORDS: tuple[str, ...] = (
    "最", "第一", "唯一", "首个", "首选", "顶级", "极品", "最佳", "最高", "最低", "最优", "最强",
    "国家级", "世界级", "全球级", "全网最低", "全国首发", "独家", "绝对", "万能", "100%",
    "史无前例", "前所未有", "永久", "王牌", "冠军", "销量第一", "领导品牌", "极致", "无敌",
    "零风险", "根治", "特效", "纯天然", "老字号", "填补空白", "独一无二", "遥遥领先",
)  # fmt: skip
MAX_WORD = 30


@dataclass(frozen=True)
class ComplianceWarning:
    word: str  # as listed
    start: int  # character offsets into the checked text
    end: int

    def describe(self, text: str) -> str:
        return f"extreme word {self.word!r} at {self.start}: {text[max(0, self.start - 8):self.end + 8]!r}"


class ComplianceChecker:
    """An editable extreme-word list; ``check`` lists every hit, longest match first at a place."""

    def __init__(self, words: Iterable[str] = DEFAULT_EXTREME_WORDS) -> None:
        self._lock = threading.Lock()
        self._words: dict[str, str] = {}
        self.set_words(words)

    def set_words(self, words: Iterable[str]) -> None:
        table: dict[str, str] = {}
        for word in words:
            if not isinstance(word, str) or not word.strip():
                raise ValueError(f"extreme word must be a non-empty string, got {word!r}")
            word = word.strip()
            if len(word) > MAX_WORD:
                raise ValueError(f"extreme word {word[:20]!r} is longer than {MAX_WORD} characters")
            table[fold(word)] = word
        with self._lock:
            self._words = table

    def add_word(self, word: str) -> None:
        self.set_words([*self.words, word])

    def remove_word(self, word: str) -> None:
        self.set_words([w for w in self.words if fold(w) != fold(word.strip())])

    @property
    def words(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._words.values())

    def check(self, text: str) -> list[ComplianceWarning]:
        if not isinstance(text, str):
            raise ValueError(f"compliance check needs text, got {type(text).__name__}")
        with self._lock:
            table = dict(self._words)
        return [ComplianceWarning(table[w], s, e) for w, s, e in find_words(text, frozenset(table))]


def check_text(text: str, words: Iterable[str] = DEFAULT_EXTREME_WORDS) -> list[ComplianceWarning]:
    return ComplianceChecker(words).check(text)


_default = ComplianceChecker()


def default_checker() -> ComplianceChecker:
    """The studio's one extreme-word list (the properties editor and the pre-live check share it)."""
    return _default


@dataclass(frozen=True)
class SourceTextWarning:
    source: str
    field: str
    text: str
    warning: ComplianceWarning

    def describe(self) -> str:
        return f"{self.source} · {self.field}: {self.warning.describe(self.text)}"


def scan_collection(collection: SceneCollection, checker: ComplianceChecker | None = None) -> list[SourceTextWarning]:
    """Every extreme word in the text that sources put on screen (titles, captions, cards)."""
    checker = checker or _default
    found: list[SourceTextWarning] = []
    with collection.lock:
        configs = list(collection.sources.values())
    for cfg in configs:
        for spec in get_type(cfg.type_id).properties:
            if spec.kind not in (PropertyKind.STRING, PropertyKind.TEXT):
                continue
            text = cfg.settings.get(spec.name)
            if isinstance(text, str) and text:
                found += [SourceTextWarning(cfg.name, spec.label or spec.name, text, w) for w in checker.check(text)]
    return found
