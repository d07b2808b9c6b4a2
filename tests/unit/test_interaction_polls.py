"""Poll life cycle with an injected clock: votes, ties (default / director), no votes, countdown."""

from __future__ import annotations

import pytest

from studio.interaction.polls import Poll, PollClosed, PollUpdated


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: FakeClock, **kw: object) -> tuple[Poll, list[PollUpdated], list[PollClosed]]:
    poll = Poll("谁是真凶?", ["管家", "妹妹", "医生"], 30, clock=clock, **kw)  # type: ignore[arg-type]
    updates: list[PollUpdated] = []
    closed: list[PollClosed] = []
    poll.updated.connect(updates.append)
    poll.closed.connect(closed.append)
    poll.open()
    return poll, updates, closed


def test_one_vote_per_viewer_and_percentages() -> None:
    clock = FakeClock()
    poll, updates, closed = make(clock)
    assert poll.vote("u1", 1) == "accepted"
    assert poll.vote("u1", 2) == "duplicate"  # later votes by the same viewer are ignored and counted
    assert poll.vote("u2", 1) == "accepted"
    assert poll.vote("u3", 0) == "accepted"
    assert poll.vote("u4", 7) == "invalid"
    assert poll.counts == (1, 2, 0) and poll.duplicate_votes == 1 and poll.invalid_votes == 1
    snap = poll.snapshot()
    assert snap.percentages == (33.3, 66.7, 0.0) and snap.total == 3 and snap.remaining == 30
    result = poll.close()
    assert result is not None and result.winner == 1 and result.decided_by == "votes" and not result.tie
    assert result.winner_option == "妹妹" and closed == [result]
    assert poll.vote("u9", 0) == "closed" and poll.late_votes == 1


def test_tie_with_default_option() -> None:
    poll, _, _ = make(FakeClock(), default_option=2)
    poll.vote("a", 2)
    poll.vote("b", 1)
    result = poll.close()
    assert result is not None and result.tie and result.winner == 2 and result.decided_by == "default"


def test_tie_not_including_default_takes_first_tied() -> None:
    poll, _, _ = make(FakeClock(), default_option=0)
    poll.vote("a", 2)
    poll.vote("b", 1)
    result = poll.close()
    assert result is not None and result.winner == 1


def test_tie_with_director_pick_and_branch_binding() -> None:
    poll, updates, closed = make(FakeClock(), tie_rule="director", branch_binding="ep3-branch-a")
    poll.vote("a", 0)
    poll.vote("b", 2)
    assert poll.close() is None
    assert poll.state == "needs_pick" and poll.tied_options == (0, 2) and not closed
    assert updates[-1].state == "needs_pick"
    with pytest.raises(ValueError, match="tied"):
        poll.pick(1)
    result = poll.pick(2)
    assert result.winner == 2 and result.decided_by == "director" and result.branch_binding == "ep3-branch-a"
    assert closed == [result] and poll.state == "closed"
    with pytest.raises(ValueError):
        poll.pick(0)


def test_no_votes_falls_back_to_default_even_with_director_rule() -> None:
    for rule in ("default", "director"):
        poll, _, _ = make(FakeClock(), tie_rule=rule, default_option=1)
        result = poll.close()
        assert result is not None and result.winner == 1 and result.decided_by == "no_votes"


def test_countdown_ticks_and_closes_on_time() -> None:
    clock = FakeClock()
    poll, updates, closed = make(clock)
    n = len(updates)
    poll.tick()
    assert len(updates) == n  # nothing changed, same second
    poll.vote("a", 0)
    poll.tick()
    assert len(updates) == n + 1 and updates[-1].counts == (1, 0, 0)
    clock.now += 10.5
    poll.tick()
    assert updates[-1].remaining == pytest.approx(19.5)
    clock.now += 19.5
    assert poll.vote("late", 1) == "closed"
    poll.tick()
    assert poll.state == "closed" and closed[0].winner == 0
    state = poll.to_state()
    assert state.state == "closed" and state.winner == 0 and state.remaining == 0


@pytest.mark.parametrize(
    ("args", "kw", "match"),
    [
        (("Q", ["A"]), {}, "2-5 options"),
        (("Q", ["A", "B", "C", "D", "E", "F"]), {}, "2-5 options"),
        (("Q", ["A", "A"]), {}, "different"),
        (("", ["A", "B"]), {}, "question"),
        (("Q", ["A", "B"], 5), {}, "10-600"),
        (("Q", ["A", "B"], 601), {}, "10-600"),
        (("Q", ["A", "B"]), {"tie_rule": "coin"}, "tie rule"),
        (("Q", ["A", "B"]), {"default_option": 2}, "default option"),
        (("Q", ["A", "x" * 41]), {}, "longer"),
    ],
)
def test_validation(args: tuple, kw: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Poll(*args, **kw)


def test_state_machine_errors() -> None:
    poll = Poll("Q", ["A", "B"])
    with pytest.raises(ValueError, match="only an open poll"):
        poll.close()
    assert poll.vote("u", 0) == "closed"
    poll.open()
    with pytest.raises(ValueError, match="only a draft"):
        poll.open()
