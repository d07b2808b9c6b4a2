"""Per-user chat state stays out of the garbage collector's walks.

At platform rates a show meets tens of thousands of users; every tracked object their state keeps
is walked by each full collection, which holds the GIL and so stalls the UI and the clock (issue 13).
The service keeps what it knows per user (a vote, a slow-mode time) in dicts of plain values, which
CPython does not track: a thousand more users must add (next to) no tracked objects.
"""

from __future__ import annotations

import gc

from studio.interaction.messages import Danmaku, Like, platform_user
from studio.interaction.moderation import Moderator
from studio.interaction.service import InteractionService


def _feed(service: InteractionService, first: int, users: int) -> None:
    for n in range(first, first + users):
        user = platform_user("bilibili", n)
        service._dispatch(Danmaku(user=user, nick=f"观众{n}", platform="bilibili", text=str(1 + n % 2)))
        service._dispatch(Danmaku(user=user, nick=f"观众{n}", platform="bilibili", text="主播好"))
        service._dispatch(Like(user=user, platform="bilibili"))


def _tracked() -> int:
    gc.collect()
    return len(gc.get_objects())


def test_more_users_add_no_tracked_objects() -> None:
    moderator = Moderator(["违禁词"])
    moderator.set_slow_mode(5.0)  # a last-shown time per user
    service = InteractionService(moderator=moderator, vote_coalesce_s=0.0)
    batches: list[object] = []
    service.danmaku_batch.connect(lambda batch: batches.clear())  # delivered, not kept
    poll = service.open_poll("她应该买吗?", ("买", "不买"), 600.0)
    _feed(service, 0, 2000)  # the moderation history (500 lines) is full from here on
    before = _tracked()
    _feed(service, 2000, 4000)
    grown = _tracked() - before
    assert poll.counts == (3000, 3000)  # every user's first line voted once
    assert service.counters().danmaku_hidden == 6000  # the second line of each user: slow mode
    # 4,000 more users: their votes and slow-mode times, kept in untracked dicts of plain values
    assert grown < 40, f"{grown} more tracked objects for 4,000 more users"
