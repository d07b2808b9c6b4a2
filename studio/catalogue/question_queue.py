"""Chat matched against the product-question assistant on its own ``faq-match`` thread.

A busy platform room sends thousands of messages a second; the assistant (jieba and BM25, tens of
microseconds to a millisecond a message) must neither hold the UI thread nor run on every one.
``offer`` takes one network read's danmaku (any thread, a few microseconds a message) and sorts
them with a cheap check for question words (``may_be_question``: the assistant's question markers
after traditional -> simplified, no segmenting): questions wait in a bounded queue and are matched
first; other chat (a product asked about without a question word: 口红色号) is matched only while no
question waits and at most ``other_per_s`` a second. The worker matches at most ``per_s`` messages
a second in all (a host reads a few suggestions a second; a flood of 多少钱 must not take a core
from the studio's other threads): meanwhile the oldest waiting messages are dropped and counted
(``skipped``): sampling, as the dock and overlay do.

Suggestions come out on ``suggested`` (on the worker thread: a widget queues them to its own).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scenes.events import Signal
from studio.catalogue.assistant import QUESTION_MARKERS, FaqAssistant, Suggestion
from studio.catalogue.normalise import _T2S

log = logging.getLogger(__name__)
MAX_QUESTIONS = 64  # questions waiting; beyond that the oldest go (a flood of 多少钱 says the same)
MAX_OTHER = 8  # chat without a question word waiting: only the newest are worth a look
OTHER_PER_S = 10.0
PER_S = 50.0  # matches a second in all (about 0.1-1 ms each)

_MARKERS = re.compile("|".join(re.escape(m) for m in (*QUESTION_MARKERS, "？")), re.IGNORECASE)


def may_be_question(text: str) -> bool:
    """Whether ``text`` holds one of the assistant's question markers (traditional characters
    too). Cheaper than ``looks_like_question``: no width folding or symbol cleaning."""
    return _MARKERS.search(text.translate(_T2S)) is not None


@dataclass(frozen=True)
class Asked:
    """A chat message offered for matching: its text and who sent it (shown beside the answer)."""

    text: str
    who: str


@dataclass(frozen=True)
class Suggested:
    suggestion: Suggestion
    who: str


class QuestionQueue:
    def __init__(self, assistant: FaqAssistant, *, max_questions: int = MAX_QUESTIONS, max_other: int = MAX_OTHER,
                 other_per_s: float = OTHER_PER_S, per_s: float = PER_S,
                 clock: Callable[[], float] = time.monotonic, start: bool = True) -> None:
        if max_questions < 1 or max_other < 0 or other_per_s < 0 or per_s <= 0:
            raise ValueError("question queue: max_questions >= 1, max_other >= 0, other_per_s >= 0, per_s > 0")
        self.assistant = assistant
        self.other_per_s = other_per_s
        self.per_s = per_s
        self._clock = clock
        self._questions: deque[Asked] = deque(maxlen=max_questions)
        self._other: deque[Asked] = deque(maxlen=max_other)
        self._cond = threading.Condition()
        self._closed = False
        self._other_due = clock()  # the next time a non-question may be matched
        self._due = clock() - 1.0  # the next time anything may be matched
        self.offered = 0
        self.skipped = 0  # dropped unmatched: the queue was full, or chat over the rate
        self.matched = 0  # messages the assistant looked at
        self.suggested: Signal[Suggested] = Signal()
        self._thread: threading.Thread | None = None
        if start:
            self._thread = threading.Thread(target=self._run, name="faq-match", daemon=True)
            self._thread.start()

    def offer(self, asked: Sequence[Asked]) -> None:
        """Queue one read's messages (any thread; never blocks on matching)."""
        with self._cond:
            if self._closed:
                return
            for a in asked:
                target = self._questions if may_be_question(a.text) else self._other
                if len(target) == target.maxlen:
                    self.skipped += 1  # the deque drops its oldest
                target.append(a)
            self.offered += len(asked)
            self._cond.notify()

    def take(self) -> Asked | None:
        """The next message to match: a question first, else other chat within its rate; None
        when nothing waits or the overall rate says not yet (``due_in``)."""
        with self._cond:
            now = self._clock()
            if now < self._due:
                return None
            if self._questions:
                asked = self._questions.popleft()
            elif not self._other:
                return None
            elif self.other_per_s <= 0 or now < self._other_due:
                self.skipped += len(self._other)  # over the rate: sampled out
                self._other.clear()
                return None
            else:
                self._other_due = max(self._other_due, now - 1.0) + 1.0 / self.other_per_s
                asked = self._other.pop()  # the newest
            # a token bucket of one second: ``per_s`` at once after a quiet spell, then one per 1/per_s
            self._due = max(self._due, now - 1.0 + 1.0 / self.per_s) + 1.0 / self.per_s
            return asked

    def due_in(self) -> float:
        """Seconds until the overall rate lets the next message be matched (0: now)."""
        with self._cond:
            return max(0.0, self._due - self._clock())

    def match(self, asked: Asked) -> Suggestion | None:
        """Match one message now on the calling thread and announce a suggestion."""
        try:
            suggestion = self.assistant.suggest(asked.text)
            if suggestion is not None:
                self.suggested.emit(Suggested(suggestion, asked.who))
        except Exception:  # one odd message must not end matching for the show
            log.exception("product-question assistant: could not match %r", asked.text[:40])
            suggestion = None
        self.matched += 1  # after the suggestion went out: a reader of ``matched`` sees it sent
        return suggestion

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._questions) + len(self._other)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._questions and not self._other:
                    self._cond.wait()
                if self._closed:
                    return
                wait = self._due - self._clock()
                if wait > 0:
                    self._cond.wait(wait)  # the rate: meanwhile the queue samples what arrives
                    continue
            asked = self.take()
            if asked is not None:
                self.match(asked)
