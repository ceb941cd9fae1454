"""How long the GUI thread's event loop was blocked: the gaps between the ticks of a
5 ms timer (for tests/test_gui_responsiveness.py and its live driver)."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

__all__ = ["GapProbe"]


class GapProbe:
    """The longest wait between two ticks of a 5 ms timer: how long the loop was blocked."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    @property
    def worst(self) -> float:
        return max(self.gaps)

    @property
    def p99(self) -> float:
        return sorted(self.gaps)[int(len(self.gaps) * 0.99)]

    def figures(self) -> list[float]:
        """[worst, p99, ticks]: what the live driver reports."""
        return [self.worst, self.p99, len(self.gaps)]
