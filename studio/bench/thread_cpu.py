"""CPU seconds per thread of this process (Linux ``/proc``), for benches that say which thread
spent the time: Python threads by their ``threading`` name, native ones by the OS's name."""

from __future__ import annotations

import os
import threading


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) each live thread has used so far, summed by name; {} off Linux."""
    try:
        tids = os.listdir("/proc/self/task")
        tick = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return {}
    names = {t.native_id: t.name for t in threading.enumerate()}
    used: dict[str, float] = {}
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state) on: utime is 14, stime 15
        name = names.get(int(tid), comm)
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return used


def thread_cpu_since(before: dict[str, float], top: int = 12) -> dict[str, float]:
    """The ``top`` threads by CPU seconds used since ``before`` (a ``thread_cpu()`` snapshot)."""
    now = thread_cpu()
    spent = {name: round(cpu - before.get(name, 0.0), 2) for name, cpu in now.items()}
    ranked = sorted(((cpu, name) for name, cpu in spent.items() if cpu > 0), reverse=True)
    return {name: cpu for cpu, name in ranked[:top]}
