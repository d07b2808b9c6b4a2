"""The benches' record of garbage-collector passes (studio.bench.gc_passes)."""

from __future__ import annotations

import gc

from studio.bench.gc_passes import GcPasses


def _cycle() -> None:
    a: list[object] = []
    a.append(a)  # unreachable once this returns: only a collection frees it


def test_records_passes_while_watching_only() -> None:
    watch = GcPasses()
    gc.collect()
    watch.start()
    watch.start()  # once only: one record per pass
    _cycle()
    gc.collect(2)
    gc.collect(0)
    watch.stop()
    gc.collect()  # not watched
    assert [p.generation for p in watch.passes] == [2, 0]
    full = watch.passes[0]
    assert full.collected >= 1 and full.wall_ms >= 0.0 and full.cpu_ms >= 0.0
    assert gc.callbacks.count(watch._on_gc) == 0
    summary = watch.summary()
    assert summary["by_generation"]["2"]["passes"] == 1
    assert summary["by_generation"]["1"] == {"passes": 0, "max_wall_ms": 0.0, "max_cpu_ms": 0.0}


def test_frozen_objects_leave_the_full_pass() -> None:
    watch = GcPasses()
    kept = [[n] for n in range(5000)]  # tracked: lists
    gc.collect()
    before = watch.summary()["full_pass_objects"]
    gc.freeze()
    try:
        frozen = watch.summary()
        assert frozen["full_pass_objects"] <= before - len(kept)
        assert frozen["frozen_objects"] >= len(kept)
    finally:
        gc.unfreeze()
