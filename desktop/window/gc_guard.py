"""Python's garbage collector, run on the GUI thread only.

CPython collects reference cycles in whichever thread happens to allocate when a
threshold is crossed. If that is a worker (the analysis, the live engine) and the cycle
holds a Qt widget, the widget is destroyed off the GUI thread: Qt then waits for the GUI
thread, which may be waiting for that worker, and the window freezes. So automatic
collection is switched off and a timer on the GUI thread does the same generational
collections, at the same thresholds. The work is what the collector would have done
anyway; only the thread changes.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

__all__ = ["GuiThreadCollector", "settle_long_lived"]


class GuiThreadCollector(QObject):
    """Owns automatic garbage collection for the app's lifetime (`stop()` gives it back)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 200) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.collections = 0
        gc.disable()
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int:
        """Collect the oldest generation whose threshold was crossed (-1: none was)."""
        counts = gc.get_count()
        generation = -1
        for g in (2, 1, 0):
            if counts[g] > self.thresholds[g]:
                generation = g
                break
        if generation >= 0:
            gc.collect(generation)
            self.collections += 1
        return generation

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()


def settle_long_lived() -> None:
    """Take what exists now out of every later collection: at start-up, the modules,
    the window and the speech model. A full collection scans every tracked object; with
    all of them that is tens of milliseconds with the GIL held, a stutter wherever it
    lands. They live for the whole run; one that is dropped is still freed by reference
    counting, only a cycle among them would stay (the young generations are collected
    first, so fresh cycles do not). `gc.freeze` itself is O(1)."""
    gc.collect(1)
    gc.freeze()
