"""Two row bands at once: every row is worked exactly once, on two threads, and an error in
either band reaches the caller."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from scenes.filters.bands import run_in_two_bands


def test_every_row_once_on_two_threads() -> None:
    rows = np.zeros(1081, np.int32)
    threads: set[str] = set()
    lock = threading.Lock()

    def band(a: int, b: int) -> None:
        rows[a:b] += 1
        with lock:
            threads.add(threading.current_thread().name)

    run_in_two_bands(band, len(rows))
    assert np.all(rows == 1)
    assert threads == {threading.current_thread().name, "filter-band"}


def test_split_is_aligned_and_tiny_pictures_stay_on_the_caller() -> None:
    seen: list[tuple[int, int]] = []
    run_in_two_bands(lambda a, b: seen.append((a, b)), 1080, align=4)
    assert sorted(seen) == [(0, 540), (540, 1080)]
    seen.clear()
    run_in_two_bands(lambda a, b: seen.append((a, b)), 1)
    assert seen == [(0, 1)]


@pytest.mark.parametrize("failing_band_starts_at", [0, 540])
def test_an_error_in_either_band_reaches_the_caller(failing_band_starts_at: int) -> None:
    def band(a: int, b: int) -> None:
        if a == failing_band_starts_at:
            raise ValueError(f"band {a}")

    with pytest.raises(ValueError, match=f"band {failing_band_starts_at}"):
        run_in_two_bands(band, 1080)
    done: list[int] = []
    run_in_two_bands(lambda a, b: done.append(a), 1080)  # the helper thread survived
    assert sorted(done) == [0, 540]
