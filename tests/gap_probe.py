"""How long the GUI thread's event loop was blocked: the gaps between the ticks of a
5 ms timer (for tests/test_gui_responsiveness.py and its live driver).

A gap has four parts: the loop's own work, the loop waiting on something (a lock, a
pipe, a sleep), the thread ready to run while the OS gave both cores to other processes
(Whisper's two threads, the busy core, anything else on the machine), and, on a virtual
machine, the whole virtual CPU paused by the host while the thread was on it. Only the
first two are the window's doing.

- The kernel counts the third per thread (`/proc/self/task/TID/schedstat`, time spent
  waiting on a run queue).
- The fourth is the CPU's "steal" time (`/proc/stat`), which the guest kernel counts in
  ticks of 10 ms: a count that rose by n ticks during a gap means at least n - 1 ticks
  were stolen, and only that lower bound is taken off (the CPU the thread ran on at both
  ends of the gap; the smaller figure when it moved).

So each gap is kept as measured (`gaps`) and less those waits (`blocked`): a loop that
works or waits longer than the budget still shows, a machine that was busy does not.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from PySide6.QtCore import QTimer

__all__ = ["GapProbe"]

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _run_queue_wait_s(schedstat: Path | None) -> float:
    """Seconds this thread has spent ready to run but not running (0 where the kernel
    does not say)."""
    if schedstat is None:
        return 0.0
    try:
        return int(schedstat.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _cpu_of(stat: Path | None) -> int:
    """The CPU this thread last ran on (-1 where the kernel does not say)."""
    if stat is None:
        return -1
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[36])
    except (OSError, IndexError, ValueError):
        return -1


def _steal_ticks() -> dict[int, int]:
    """Each CPU's stolen time so far, in clock ticks (empty where the kernel does not
    count it)."""
    out: dict[int, int] = {}
    try:
        with open("/proc/stat") as f:
            for line in f:
                if not line.startswith("cpu"):
                    break
                fields = line.split()
                if fields[0] != "cpu" and len(fields) > 8:
                    out[int(fields[0][3:])] = int(fields[8])
    except (OSError, ValueError):
        return {}
    return out


def _stolen_at_least_s(before: dict[int, int], after: dict[int, int], cpus: set[int]) -> float:
    """The least time certainly stolen from the thread's CPU between two readings."""
    rises = [after[c] - before[c] for c in cpus if c in before and c in after]
    if not rises:
        return 0.0
    return max(0, min(rises) - 1) * _TICK_S


class GapProbe:
    """The longest wait between two ticks of a 5 ms timer: how long the loop was blocked."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.blocked: list[float] = []
        self.stolen: list[float] = []
        task = Path(f"/proc/self/task/{threading.get_native_id()}")
        self._schedstat = task / "schedstat" if (task / "schedstat").exists() else None
        self._stat = task / "stat" if (task / "stat").exists() else None
        self._mark()
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self._tick)

    def _mark(self) -> None:
        self._last = time.perf_counter()
        self._last_wait = _run_queue_wait_s(self._schedstat)
        self._last_cpu = _cpu_of(self._stat)
        self._last_steal = _steal_ticks()

    def _tick(self) -> None:
        now, wait = time.perf_counter(), _run_queue_wait_s(self._schedstat)
        cpu, steal = _cpu_of(self._stat), _steal_ticks()
        gap = now - self._last
        stolen = _stolen_at_least_s(self._last_steal, steal, {self._last_cpu, cpu})
        self.gaps.append(gap)
        self.stolen.append(stolen)
        self.blocked.append(max(0.0, gap - (wait - self._last_wait) - stolen))
        self._last, self._last_wait, self._last_cpu, self._last_steal = now, wait, cpu, steal

    def start(self) -> None:
        self.gaps.clear()
        self.blocked.clear()
        self.stolen.clear()
        self._mark()
        self.timer.start()

    @property
    def worst(self) -> float:
        """The longest gap as measured, the OS's and the host's share included."""
        return max(self.gaps)

    @property
    def p99(self) -> float:
        return sorted(self.gaps)[int(len(self.gaps) * 0.99)]

    @property
    def worst_blocked(self) -> float:
        """The longest the loop itself worked or waited between two ticks."""
        return max(self.blocked)

    @property
    def p99_blocked(self) -> float:
        return sorted(self.blocked)[int(len(self.blocked) * 0.99)]

    @property
    def total_stolen(self) -> float:
        """Seconds the host certainly took the thread's CPU, over all gaps."""
        return sum(self.stolen)

    def lap(self) -> list[float]:
        """The figures up to now, the gap still open included, then a fresh start: the
        line between two phases drawn on the GUI thread, where one ends."""
        self._tick()
        figures = self.figures()
        self.start()
        return figures

    def figures(self) -> list[float]:
        """[worst, p99, ticks, worst blocked, p99 blocked, stolen in all]: what the live
        driver reports."""
        return [self.worst, self.p99, len(self.gaps), self.worst_blocked, self.p99_blocked,
                self.total_stolen]
