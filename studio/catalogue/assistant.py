"""The product-question assistant (智能客服), local and offline: a chat message is matched against
the catalogue's FAQ entries and product fields, and either a suggested answer comes back (product,
FAQ entry, score) or nothing.

How: messages and FAQ texts are normalised (full/half width, traditional -> simplified, synonyms:
studio.catalogue.normalise), tokenised with jieba (a dictionary-based Chinese word segmenter; a
character n-gram model alone would match 口红 inside unrelated words and needs more data than a
shop's FAQ; character n-grams only back up the words an entry lacks), and ranked with BM25 within
the product the message is about: the one it names, else the
one on screen. A best score under ``threshold`` is a refusal: small talk, questions about the
show or products not in the catalogue get no answer rather than a wrong one. Refused messages that
look like questions are kept (counted, newest last) for the host.

jieba loads its dictionary in about a second: ``start_loading`` does it once per process on a
worker thread; until it is ready ``suggest`` answers nothing (it never blocks a caller).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scenes.events import Signal
from studio.catalogue.bm25 import BM25
from studio.catalogue.model import Catalogue, CatalogueChanged, FaqEntry, Product
from studio.catalogue.normalise import STOPWORDS, SYNONYMS, canonicalise, normalise
from studio.catalogue.tokeniser import Tokeniser, shared_tokeniser

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 2.0
MAX_UNANSWERED = 200
MAX_MESSAGE = 200  # longer chat text is not a product question
QUESTION_WEIGHT = 2.0  # an FAQ's question says what it is about more than its answer does
ANSWER_WEIGHT = 1.0  # answers add words viewers use (顺丰, 包邮) but also incidental ones (商品卡, 吃饭)
NAME_WEIGHT = 0.5
SINGLE_CHAR_WEIGHT = 0.3  # a product's own name words in a question (口红 in 口红多少钱) say little about the topic
# character unigrams and bigrams as a back-off for the query words an entry lacks: a typo (斜跨 for
# 斜挎) or a compound jieba cuts differently (下雨天, 脏了) still shares characters with the FAQ text.
# Only for unmatched words (a matched word counted again as its characters inflated small talk such as
# 吃饭 over the threshold), weaker than a word, and a lone character weaker than a pair.
CHAR_WEIGHT = 0.5
UNIGRAMS = 0.5
# a character pair that is not in the entry but sounds like one that is (斜跨 / 斜挎: xie kua):
# danmaku is typed with a pinyin input method, so a typo is most often a homophone
PINYIN_WEIGHT = 1.0
# answers made from the product's fields (price, stock, selling points) back up the shop's own FAQ;
# where both match, the FAQ entry written for the question should win
FIELD_WEIGHT = 0.8

QUESTION_MARKERS = ("?", "吗", "么", "呢", "怎么", "什么", "啥", "多少", "几", "哪", "能不能", "有没有", "可不可以",
                    "是不是", "会不会", "how", "what")


@dataclass(frozen=True)
class Suggestion:
    message: str  # the chat text it answers
    product: str  # product id
    product_name: str
    faq_id: str  # the FAQ entry's id, or a product field: price, stock, buy, points
    question: str  # the FAQ question it matched
    answer: str
    score: float


@dataclass(frozen=True)
class Unanswered:
    text: str
    count: int
    first_at: float
    last_at: float


@dataclass(frozen=True)
class _Doc:
    product: str
    entry: FaqEntry
    weight: float = 1.0


def field_entries(product: Product) -> list[FaqEntry]:
    """Answers built from the product's own fields, for topics its FAQ does not cover."""
    have = {e.id for e in product.faq}
    price = f"{product.price:g}元" + (f"（原价{product.original_price:g}元）" if product.original_price > product.price else "")
    made = [
        FaqEntry("price", "多少钱？价格？", f"{product.name}：直播间价格{price}。"),
        FaqEntry("stock", "还有货吗？库存还有多少？",
                 f"{product.name}还有{product.stock}件现货，喜欢的抓紧下单。" if product.stock > 0
                 else f"{product.name}暂时卖完了，补货会在直播间通知。"),
        FaqEntry("points", "有什么特点？有什么卖点？", "；".join(product.selling_points) or product.name),
    ]
    if product.link:
        made.append(FaqEntry("buy", "怎么买？链接？", f"点屏幕上的商品卡下单，或打开链接：{product.link}"))
    return [e for e in made if e.id not in have and (e.id != "points" or product.selling_points)]


def _weight(term: str) -> float:
    """A single character is what the segmenter leaves of words it does not know (卡, 发, 用):
    weak evidence of a topic, so it counts less than a word."""
    return SINGLE_CHAR_WEIGHT if len(term) == 1 else 1.0


def _nouns(name: frozenset[str]) -> frozenset[str]:
    """The product noun among a product's name words: the head nouns the index adds (包, 包包) and
    the name words ending in one (托特包)."""
    heads = {w for w in name if len(w) == 1}
    return frozenset(w for w in name if w[-1] in heads)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def char_grams(terms: list[str]) -> list[str]:
    """CJK character unigrams and bigrams of ``terms`` (stop words already dropped), bigrams across
    neighbouring terms too: the segmenter's cut is where a typo lands."""
    grams: list[str] = []
    prev = ""
    for term in terms:
        for ch in term:
            if not _is_cjk(ch):
                prev = ""
                continue
            grams.append(ch)
            if prev:
                grams.append(prev + ch)
            prev = ch
    return grams


def looks_like_question(text: str) -> bool:
    t = normalise(text) + ("?" if "?" in text or "？" in text else "")
    return any(m in t for m in QUESTION_MARKERS)


class FaqAssistant:
    def __init__(self, catalogue: Catalogue, *, threshold: float = DEFAULT_THRESHOLD,
                 tokeniser: Tokeniser | None = None, clock: Callable[[], float] = time.time,
                 max_unanswered: int = MAX_UNANSWERED) -> None:
        if not threshold > 0:
            raise ValueError(f"assistant threshold must be > 0, got {threshold}")
        self.catalogue = catalogue
        self.threshold = threshold
        self._tokeniser = tokeniser or shared_tokeniser()
        self._clock = clock
        self._max_unanswered = max_unanswered
        self._lock = threading.Lock()
        self._docs: list[_Doc] = []
        self._index: BM25 | None = None
        self._char_index: BM25 | None = None
        self._names: dict[str, frozenset[str]] = {}
        self._unanswered: OrderedDict[str, Unanswered] = OrderedDict()
        self._on_screen: str | None = None
        self._loader: threading.Thread | None = None
        self.ready_event = threading.Event()
        self.ready_changed: Signal[bool] = Signal()
        self.unanswered_changed: Signal[tuple[Unanswered, ...]] = Signal()
        self._disconnect = catalogue.changed.connect(self._on_catalogue)

    # ---- life cycle ----

    def start_loading(self) -> None:
        """Load jieba and build the index on a worker thread (once); returns at once."""
        with self._lock:
            if self._loader is not None or self.ready_event.is_set():
                return
            self._loader = threading.Thread(target=self._load, name="faq-jieba", daemon=True)
            self._loader.start()

    def _load(self) -> None:
        try:
            self._tokeniser.load()
            self._rebuild()
        except Exception:  # noqa: BLE001  the assistant stays off; the show goes on
            log.exception("product-question assistant: could not load the tokeniser")
            return
        self.ready_event.set()
        self.ready_changed.emit(True)

    def load_now(self) -> None:
        """Load on the calling thread (CLI, bench, tests); never on the UI thread."""
        self._load()

    def wait_ready(self, timeout: float | None = None) -> bool:
        ok = self.ready_event.wait(timeout)
        loader = self._loader
        if ok and loader is not None:
            loader.join(timeout)
        return ok

    @property
    def ready(self) -> bool:
        return self.ready_event.is_set()

    def close(self) -> None:
        self._disconnect()

    # ---- context ----

    @property
    def on_screen(self) -> str | None:
        """The product being presented (its card is up): questions naming no product are about it."""
        return self._on_screen

    @on_screen.setter
    def on_screen(self, product_id: str | None) -> None:
        if product_id is not None and self.catalogue.get(product_id) is None:
            raise ValueError(f"no product with id {product_id!r} in the catalogue")
        self._on_screen = product_id

    # ---- index ----

    def _on_catalogue(self, _change: CatalogueChanged) -> None:
        if self.ready_event.is_set():
            self._rebuild()

    def _terms(self, text: str) -> list[str]:
        tokens = self._tokeniser.cut(canonicalise(text))
        return [t for t in tokens if t.strip() and t not in STOPWORDS]

    def _sounds(self, pair: str) -> str:
        """A character pair's pinyin as an index term ("~" never starts a character gram); "" without
        pypinyin (then no pair sounds like another)."""
        syllables = [self._tokeniser.syllable(ch) for ch in pair]
        return "~" + " ".join(syllables) if all(syllables) else ""

    def _rebuild(self) -> None:
        docs: list[_Doc] = []
        bags: list[dict[str, float]] = []
        char_bags: list[dict[str, float]] = []
        names: dict[str, frozenset[str]] = {}
        for product in self.catalogue.products:
            words = [t for t in self._terms(product.name) if not re.fullmatch(r"#?\d+", t)]
            # the head noun of a compound name word too (托特包 is asked about as 包, or 包包)
            heads = [w[-1] for w in words if len(w) >= 3 and _is_cjk(w[-1])]
            names[product.id] = frozenset(words + heads + [h + h for h in heads])
            fields = field_entries(product)
            for entry in (*product.faq, *fields):
                bag: defaultdict[str, float] = defaultdict(float)
                chars: defaultdict[str, float] = defaultdict(float)
                question, answer = self._terms(entry.question), self._terms(entry.answer)
                for t in question:
                    bag[t] += QUESTION_WEIGHT * (NAME_WEIGHT if t in names[product.id] else _weight(t))
                for t in answer:
                    bag[t] += ANSWER_WEIGHT * (NAME_WEIGHT if t in names[product.id] else _weight(t))
                for g in char_grams([t for t in question if t not in names[product.id]]):
                    chars[g] += QUESTION_WEIGHT
                    if len(g) == 2 and (sound := self._sounds(g)):
                        chars[sound] += QUESTION_WEIGHT
                for g in char_grams([t for t in answer if t not in names[product.id]]):
                    chars[g] += ANSWER_WEIGHT
                    if len(g) == 2 and (sound := self._sounds(g)):
                        chars[sound] += ANSWER_WEIGHT
                docs.append(_Doc(product.id, entry, FIELD_WEIGHT if entry in fields else 1.0))
                bags.append(bag)
                char_bags.append(chars)
        index, char_index = BM25(bags), BM25(char_bags)
        with self._lock:
            self._docs, self._index, self._char_index, self._names = docs, index, char_index, names

    # ---- answering ----

    def _product_for(self, terms: list[str], on_screen: str | None) -> str | None:
        named = {pid: len(set(terms) & words) for pid, words in self._names.items()}
        best = max(named.values(), default=0)
        if best > 0:
            top = [pid for pid, n in named.items() if n == best]
            return on_screen if on_screen in top else top[0]
        if on_screen is not None:
            return on_screen
        return None  # no product named or on screen: the best match over all products

    def rank(self, text: str, on_screen: str | None = None) -> list[tuple[float, Suggestion]]:
        """Every candidate answer for ``text``, best first (for the bench and the dock's tooltip)."""
        with self._lock:
            docs, index, char_index, names = self._docs, self._index, self._char_index, self._names
        if index is None or char_index is None or not text.strip() or len(text) > MAX_MESSAGE:
            return []
        terms = self._terms(text)
        if not terms:
            return []
        on_screen = on_screen if on_screen is not None else self._on_screen
        product = self._product_for(terms, on_screen)
        name = names.get(product, frozenset()) if product is not None else frozenset()
        # a question made only of the product's name words (包包是真皮吗: 真皮 is in 真皮通勤托特包) asks
        # about the descriptive ones, not the product noun (包, 包包) every entry of it shares
        query = [t for t in terms if t not in name] or [t for t in terms if t not in _nouns(name)] or terms
        sound_of = {g: self._sounds(g) for g in char_grams(query) if len(g) == 2}  # once, not per entry
        scored = []
        for i, doc in enumerate(docs):
            if product is not None and doc.product != product:
                continue
            # characters only for the words this entry lacks: a word that matched is not counted again
            unmatched = char_grams([t for t in query if t not in index.docs[i]])
            unigrams = [g for g in unmatched if len(g) == 1]
            bigrams = [g for g in unmatched if len(g) == 2]
            # the sound of a pair only where the pair itself is not in the entry
            sounds = [sound for g in bigrams if g not in char_index.docs[i] and (sound := sound_of.get(g, ""))]
            score = doc.weight * (index.score(query, i) + CHAR_WEIGHT * (
                UNIGRAMS * char_index.score(unigrams, i) + char_index.score(bigrams, i)
                + PINYIN_WEIGHT * char_index.score(sounds, i)))
            if score > 0:
                p = self.catalogue.get(doc.product)
                scored.append((score, Suggestion(text, doc.product, p.name if p else doc.product, doc.entry.id,
                                                 doc.entry.question, doc.entry.answer, round(score, 3))))
        scored.sort(key=lambda s: -s[0])
        return scored

    def suggest(self, text: str, on_screen: str | None = None, *, remember: bool = True) -> Suggestion | None:
        """The answer to suggest for one chat message, or None (not a catalogue question, or the
        assistant is still loading). A refused message that looks like a question is remembered."""
        if not self.ready_event.is_set():
            return None
        ranked = self.rank(text, on_screen)
        if ranked and ranked[0][0] >= self.threshold:
            return ranked[0][1]
        if remember and text.strip() and len(text) <= MAX_MESSAGE and looks_like_question(text):
            self._remember(text.strip())
        return None

    # ---- unanswered questions ----

    def _remember(self, text: str) -> None:
        key = normalise(text)
        now = self._clock()
        with self._lock:
            old = self._unanswered.pop(key, None)
            self._unanswered[key] = Unanswered(old.text if old else text, (old.count if old else 0) + 1,
                                               old.first_at if old else now, now)
            while len(self._unanswered) > self._max_unanswered:
                self._unanswered.popitem(last=False)
            snapshot = tuple(self._unanswered.values())
        self.unanswered_changed.emit(snapshot)

    @property
    def unanswered(self) -> tuple[Unanswered, ...]:
        with self._lock:
            return tuple(self._unanswered.values())

    def dismiss(self, text: str) -> None:
        with self._lock:
            self._unanswered.pop(normalise(text), None)
            snapshot = tuple(self._unanswered.values())
        self.unanswered_changed.emit(snapshot)

    def clear_unanswered(self) -> None:
        with self._lock:
            self._unanswered.clear()
        self.unanswered_changed.emit(())


def synonyms_table() -> dict[str, Any]:
    """The synonym table in use (for the bench's report)."""
    return {k: list(v) for k, v in SYNONYMS.items()}
