"""Text folding shared by moderation and the compliance check.

NFKC folds full-width and compatibility forms (``ＳＢ`` -> ``SB``, ``１００％`` -> ``100%``) and
``casefold`` removes case, so a banned word matches its visual variants. Folding is done one
character at a time so every folded character maps back to its position in the original text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).casefold()


def fold(text: str) -> str:
    """The folded form of ``text`` (for words in a list and quick containment checks)."""
    return "".join(_fold_char(ch) for ch in text)


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Folded text plus, for each folded character, the index of the original character."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def find_words(text: str, words: Iterable[str]) -> list[tuple[str, int, int]]:
    """Occurrences of folded ``words`` in ``text`` as (word, start, end) in original positions.

    A match inside a longer match at the same place (``最`` inside ``最佳``) is left out.
    """
    folded, index = fold_with_map(text)
    found: list[tuple[str, int, int]] = []
    for word in words:
        if not word:
            continue
        start = folded.find(word)
        while start >= 0:
            end = index[start + len(word) - 1] + 1
            found.append((word, index[start], end))
            start = folded.find(word, start + 1)
    found.sort(key=lambda m: (m[1], -(m[2] - m[1]), m[0]))
    kept: list[tuple[str, int, int]] = []
    for match in found:
        if any(k[1] <= match[1] and match[2] <= k[2] and k != match for k in kept):
            continue
        kept.append(match)
    return kept
