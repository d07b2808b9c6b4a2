"""The product-question assistant on the demo catalogue: answers, refusals, the product named or
on screen, normalisation, the unanswered list, loading off the calling thread, and auto-reply's
rate limits (clock driven by hand)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.catalogue.assistant import FaqAssistant, Suggestion, looks_like_question
from studio.catalogue.autoreply import AutoReply
from studio.catalogue.demo import BAG, LIPSTICK, demo_catalogue
from studio.catalogue.model import FaqEntry
from studio.catalogue.normalise import canonicalise, normalise


@pytest.fixture(scope="module")
def assistant() -> Iterator[FaqAssistant]:
    a = FaqAssistant(demo_catalogue())
    a.load_now()
    yield a
    a.close()


@pytest.mark.parametrize(("text", "on_screen", "product", "topic"), [
    ("多少钱", LIPSTICK, LIPSTICK, "price"),
    ("有没有小样", LIPSTICK, LIPSTICK, "sample"),
    ("什么色号", LIPSTICK, LIPSTICK, "shade"),
    ("怎么买", LIPSTICK, LIPSTICK, "buy"),
    ("多少錢", LIPSTICK, LIPSTICK, "price"),  # traditional
    ("ＰＲＩＣＥ？", LIPSTICK, LIPSTICK, "price"),  # full-width, English
    ("包多少钱", LIPSTICK, BAG, "price"),  # the product named wins over the one on screen
    ("还有库存吗", BAG, BAG, "stock"),  # from the product's stock field
])
def test_product_questions_get_the_right_answer(assistant: FaqAssistant, text: str, on_screen: str,
                                                product: str, topic: str) -> None:
    s = assistant.suggest(text, on_screen, remember=False)
    assert s is not None, text
    assert (s.product, s.faq_id) == (product, topic)
    assert s.score >= assistant.threshold and s.answer


@pytest.mark.parametrize("text", ["主播多大了", "有没有粉底液", "这部剧叫什么名字", "哈哈哈哈", "", "多" * 300])
def test_out_of_catalogue_messages_are_refused(assistant: FaqAssistant, text: str) -> None:
    assert assistant.suggest(text, LIPSTICK, remember=False) is None


def test_characters_back_up_words_the_segmenter_cut_apart(assistant: FaqAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
    # 淋了雨 is cut into 淋 / 雨: no FAQ word matches, the character pair 淋雨 of 淋雨 in the FAQ does
    s = assistant.suggest("淋了雨会坏吗", BAG, remember=False)
    assert s is not None and s.faq_id == "waterproof"
    monkeypatch.setattr("studio.catalogue.assistant.CHAR_WEIGHT", 0.0)
    assert assistant.suggest("淋了雨会坏吗", BAG, remember=False) is None


def test_a_homophone_typo_finds_the_entry(assistant: FaqAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
    # 斜跨 typed for 斜挎 (both xie kua, the pinyin input method's first choice can be either)
    s = assistant.suggest("可以斜跨背吗", BAG, remember=False)
    assert s is not None and s.faq_id == "strap"
    monkeypatch.setattr("studio.catalogue.assistant.PINYIN_WEIGHT", 0.0)
    assert assistant.suggest("可以斜跨背吗", BAG, remember=False) is None


@pytest.mark.parametrize("text", ["托特包是真皮的吗", "包包真皮的不"])
def test_a_question_of_name_words_asks_about_the_descriptive_one(assistant: FaqAssistant, text: str) -> None:
    # 真皮 and 托特包 are both words of the bag's name (真皮通勤托特包): the question is about 真皮
    s = assistant.suggest(text, BAG, remember=False)
    assert s is not None and s.faq_id == "material"


def test_the_shops_faq_entry_beats_an_answer_made_from_the_product_fields(assistant: FaqAssistant) -> None:
    ranked = assistant.rank("能装电脑吗", BAG)
    assert [s.faq_id for _, s in ranked[:2]] == ["size", "points"]  # points: the selling points (能装13寸电脑)


def test_how_long_is_a_question_word_not_a_topic(assistant: FaqAssistant) -> None:
    s = assistant.suggest("多久能到货", LIPSTICK, remember=False)
    assert s is not None and s.faq_id == "shipping"  # not shelf_life (保质期多久)


def test_stock_answer_follows_the_catalogue(assistant: FaqAssistant) -> None:
    cat = assistant.catalogue
    cat.update(BAG, stock=0)
    try:
        s = assistant.suggest("还有货吗", BAG)
        assert s is not None and "卖完" in s.answer
    finally:
        cat.update(BAG, stock=80)


def test_unanswered_questions_are_listed_once_with_a_count() -> None:
    now = [100.0]
    a = FaqAssistant(demo_catalogue(), clock=lambda: now[0])
    a.load_now()
    seen: list[object] = []
    a.unanswered_changed.connect(seen.append)
    assert a.suggest("主播是哪里人？") is None
    now[0] = 105.0
    assert a.suggest("主播是哪里人?") is None  # the same question, other punctuation
    assert a.suggest("哈哈哈") is None  # not a question: not listed
    [u] = a.unanswered
    assert (u.text, u.count, u.first_at, u.last_at) == ("主播是哪里人？", 2, 100.0, 105.0)
    a.dismiss("主播是哪里人？")
    assert a.unanswered == () and len(seen) == 3
    a.close()


def test_loading_happens_on_a_worker_thread_and_suggest_never_blocks() -> None:
    a = FaqAssistant(demo_catalogue())
    a.start_loading()
    a.start_loading()  # once
    assert a.wait_ready(30)
    assert a.suggest("多少钱", LIPSTICK) is not None
    a.close()


def test_new_faq_entries_are_found_after_an_edit(assistant: FaqAssistant) -> None:
    cat = assistant.catalogue
    old = cat.product(LIPSTICK)
    cat.update(LIPSTICK, faq=(*old.faq, FaqEntry("engrave", "可以刻字吗？", "礼盒可以免费刻字，下单备注即可。")))
    try:
        s = assistant.suggest("能刻字吗", LIPSTICK, remember=False)
        assert s is not None and s.faq_id == "engrave"
    finally:
        cat.replace(old)


def test_normalisation() -> None:
    assert normalise("有沒有小樣！！😍") == "有没有小样"
    assert normalise("乾皮") == "干皮"  # 乾 (dry) is the traditional form of 干
    assert "价格" in canonicalise("多少钱") and "价格" in canonicalise("几块") and "价格" in canonicalise("price")
    assert canonicalise("什么色号").split() == ["什么", "色号"]  # a canonical word is kept whole
    assert looks_like_question("多少钱") and looks_like_question("ok?") and not looks_like_question("哈哈")
    with pytest.raises(ValueError, match="on the catalogue|in the catalogue"):
        FaqAssistant(demo_catalogue()).on_screen = "nope"


def _suggestion(faq_id: str = "price") -> Suggestion:
    return Suggestion("多少钱", LIPSTICK, "口红", faq_id, "多少钱", "129元", 5.0)


def test_auto_reply_is_off_by_default_and_rate_limited() -> None:
    now = [0.0]
    sent: list[str] = []
    auto = AutoReply(sent.append, per_minute=2, repeat_after_s=60, clock=lambda: now[0])
    assert not auto.offer(_suggestion())  # off by default
    auto.enabled = True
    assert auto.offer(_suggestion("price"))
    assert not auto.offer(_suggestion("price"))  # the same answer: cooldown
    assert not auto.offer(_suggestion("sample"))  # another answer: the rate limit (2/min, one at a time)
    now[0] = 30.0
    assert auto.offer(_suggestion("sample"))
    now[0] = 45.0
    assert not auto.offer(_suggestion("price"))  # cooldown still (45 s < 60 s) and no token
    now[0] = 91.0
    assert auto.offer(_suggestion("price"))
    assert sent == ["129元"] * 3 and auto.sent == 3 and auto.held_back == 3
    with pytest.raises(ValueError, match="0-60"):
        auto.per_minute = 0
