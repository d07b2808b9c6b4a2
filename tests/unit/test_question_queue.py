"""The question queue in front of the product-question assistant: a cheap question-word check
sorts chat, questions are matched first, other chat within a rate, the oldest dropped (and
counted) when behind; suggestions come out on its own thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from studio.catalogue.assistant import FaqAssistant
from studio.catalogue.demo import LIPSTICK, demo_catalogue
from studio.catalogue.question_queue import Asked, QuestionQueue, Suggested, may_be_question


@pytest.fixture(scope="module")
def assistant() -> Iterator[FaqAssistant]:
    a = FaqAssistant(demo_catalogue())
    a.load_now()
    a.on_screen = LIPSTICK
    yield a
    a.close()


def asked(*texts: str) -> list[Asked]:
    return [Asked(t, f"u{i}") for i, t in enumerate(texts)]


def test_question_words_are_found_cheaply_traditional_too() -> None:
    for text in ("多少钱", "有嗎", "還有幾件", "How much?", "包邮吗？", "有没有小样", "这个能不能用"):
        assert may_be_question(text), text
    for text in ("主播好看 123", "1", "2", "哈哈哈", "口红色号好看"):
        assert not may_be_question(text), text


def test_questions_first_then_the_newest_other_chat_within_its_rate(assistant: FaqAssistant) -> None:
    now = [100.0]
    q = QuestionQueue(assistant, other_per_s=2, per_s=1000, clock=lambda: now[0], start=False)
    q.offer(asked("主播好看", "多少钱", "口红色号", "有小样吗"))
    assert [a.text for a in (q.take(), q.take(), q.take())] == ["多少钱", "有小样吗", "口红色号"]  # type: ignore[union-attr]
    q.offer(asked("色号好看"))
    # another at the same instant: over 2 a second, dropped with the older 主播好看
    assert q.take() is None and q.skipped == 2 and q.waiting == 0
    now[0] += 0.5
    q.offer(asked("还不错"))
    assert q.take() == Asked("还不错", "u0")
    assert q.offered == 6 and q.skipped == 2


def test_a_full_queue_drops_its_oldest_and_counts_them(assistant: FaqAssistant) -> None:
    q = QuestionQueue(assistant, max_questions=3, max_other=1, per_s=1000, clock=lambda: 0.0, start=False)
    q.offer(asked("1吗", "2吗", "3吗", "4吗", "5吗", "a", "b"))
    assert q.skipped == 3  # two questions and one other over the bounds
    assert [q.take().text for _ in range(4)] == ["3吗", "4吗", "5吗", "b"]  # type: ignore[union-attr]


def test_at_most_per_s_matches_a_second_in_all(assistant: FaqAssistant) -> None:
    now = [0.0]
    q = QuestionQueue(assistant, per_s=4, clock=lambda: now[0], start=False)
    q.offer(asked(*(f"{i}吗" for i in range(10))))
    taken = []
    while (a := q.take()) is not None:  # a burst of up to a second's worth
        taken.append(a.text)
    assert len(taken) == 4 and q.due_in() > 0 and q.waiting == 6
    now[0] += q.due_in()
    assert q.take() is not None and q.take() is None  # then one per 1/per_s


def test_the_worker_matches_and_suggests_on_its_thread_then_closes(assistant: FaqAssistant) -> None:
    q = QuestionQueue(assistant)
    got: list[tuple[Suggested, str]] = []
    done = threading.Event()

    def on_suggested(s: Suggested) -> None:
        got.append((s, threading.current_thread().name))
        done.set()

    q.suggested.connect(on_suggested)
    q.offer(asked("主播好", "这个口红多少钱？"))
    assert done.wait(10)
    (suggested, thread), = got
    assert thread == "faq-match" and suggested.who == "u1" and suggested.suggestion.faq_id == "price"
    q.close()
    assert not any(t.name == "faq-match" for t in threading.enumerate())
    q.offer(asked("多少钱"))  # after close: ignored
    assert q.offered == 2
