"""jieba, loaded once per process: its dictionary takes about a second to load, so the first
``load`` happens on a worker thread (FaqAssistant.start_loading) and every assistant shares it."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable

from studio.catalogue.normalise import STOPWORDS, SYNONYMS

log = logging.getLogger(__name__)

# words of shop questions jieba's general dictionary splits (小样 -> 小/样); the canonical words
# of the synonym table stay whole too
DOMAIN_WORDS = ("小样", "色号", "到手价", "小黄车", "运费险", "无理由", "沾杯", "拔干", "显白", "黄皮", "干皮",
                "斜挎", "肩带", "净含量", "保质期", "礼盒", "托特包", "包包", "哑光", "唇纹", "包")


class Tokeniser:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jieba = None  # jieba.Tokenizer, created by load()
        self._pinyin: Callable[[str], list[str]] | None = None
        self._syllables: dict[str, str] = {}

    def load(self) -> None:
        with self._lock:
            if self._jieba is not None:
                return
            import jieba  # a second of dictionary loading: never at import time

            jieba.setLogLevel(logging.WARNING)  # it prints its loading chatter to stderr otherwise
            tk = jieba.Tokenizer()
            tk.initialize()
            # stop words too: a word jieba does not know falls apart into characters (主播 -> 主/播),
            # and its characters would then match unrelated answers
            for word in (*DOMAIN_WORDS, *SYNONYMS, *(w for w in STOPWORDS if len(w) > 1)):
                tk.add_word(word, freq=20000)
            try:  # homophone typos (斜跨 for 斜挎): same syllables, other characters
                from pypinyin import Style, lazy_pinyin
            except ImportError:  # optional: without it characters alone back up the words
                log.info("pypinyin is not installed: no homophone matching")
            else:
                self._pinyin = lambda ch: lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
            # jieba's half a million dictionary entries and pypinyin's phrase table (190,000 lists,
            # imported just above) live as long as the process: out of every full collection from
            # now on (the show freezes its start-up heap the same way). Frozen after both: the
            # pinyin lists left unfrozen were 95 % of what each gen-2 pass walked under bench chat
            gc.freeze()
            self._jieba = tk

    @property
    def loaded(self) -> bool:
        return self._jieba is not None

    def cut(self, text: str) -> list[str]:
        tk = self._jieba
        if tk is None:
            raise RuntimeError("the tokeniser is not loaded yet (call load() first, off the UI thread)")
        # no HMM: its new-word guessing glues a product noun to the next character (包有, 包重)
        return [t for t in tk.lcut(text, HMM=False) if t.strip()]


    def syllable(self, ch: str) -> str:
        """The toneless pinyin of one Chinese character ("" without pypinyin or for other text)."""
        convert = self._pinyin
        if convert is None:
            return ""
        found = self._syllables.get(ch)
        if found is None:
            found = self._syllables[ch] = "".join(convert(ch))
        return found


_shared = Tokeniser()


def shared_tokeniser() -> Tokeniser:
    return _shared
