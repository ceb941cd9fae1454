"""How long the GUI thread's event loop was blocked: the gaps between the ticks of a
5 ms timer (for tests/test_gui_responsiveness.py and its live driver).

A gap has three parts: the loop's own work, the loop waiting on something (a lock, a
pipe, a sleep), and the thread ready to run while the OS gave both cores to other
processes (Whisper's two threads, the busy core, anything else on the machine). Only the
first two are the window's doing. The kernel counts the third per thread
(`/proc/self/task/TID/schedstat`, time spent waiting on a run queue), so each gap is kept
both as measured (`gaps`) and less that wait (`blocked`): a loop that works or waits
longer than the budget still shows, a machine that was busy does not.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QTimer

__all__ = ["GapProbe"]


def _run_queue_wait_s(schedstat: Path | None) -> float:
    """Seconds this thread has spent ready to run but not running (0 where the kernel
    does not say)."""
    if schedstat is None:
        return 0.0
    try:
        return int(schedstat.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class GapProbe:
    """The longest wait between two ticks of a 5 ms timer: how long the loop was blocked."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.blocked: list[float] = []
        path = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
        self._schedstat = path if path.exists() else None
        self._last = time.perf_counter()
        self._last_wait = _run_queue_wait_s(self._schedstat)
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, wait = time.perf_counter(), _run_queue_wait_s(self._schedstat)
        gap = now - self._last
        self.gaps.append(gap)
        self.blocked.append(max(0.0, gap - (wait - self._last_wait)))
        self._last, self._last_wait = now, wait

    def start(self) -> None:
        self.gaps.clear()
        self.blocked.clear()
        self._last = time.perf_counter()
        self._last_wait = _run_queue_wait_s(self._schedstat)
        self.timer.start()

    @property
    def worst(self) -> float:
        """The longest gap as measured, the OS's share included."""
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

    def figures(self) -> list[float]:
        """[worst, p99, ticks, worst blocked, p99 blocked]: what the live driver reports."""
        return [self.worst, self.p99, len(self.gaps), self.worst_blocked, self.p99_blocked]
