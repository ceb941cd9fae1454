"""Reference cycles holding widgets are freed on the GUI thread, never on a worker."""

from __future__ import annotations

import gc
import threading

from PySide6.QtWidgets import QWidget

from desktop.window.gc_guard import GuiThreadCollector


class _Cycle:
    def __init__(self, deleted: list[str]) -> None:
        self.me = self
        self.widget = QWidget()
        self.widget.destroyed.connect(
            lambda *_: deleted.append(threading.current_thread().name))


def test_cycles_with_widgets_are_collected_on_the_gui_thread(qtbot) -> None:
    collector = GuiThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        deleted: list[str] = []
        _Cycle(deleted)

        def churn() -> None:  # a worker allocating: the automatic collector would run here
            junk = []
            for _ in range(50_000):
                a: list = []
                a.append(a)
                junk.append(a)

        worker = threading.Thread(target=churn, name="worker")
        worker.start()
        worker.join()
        assert deleted == [], "nothing may be collected on the worker"
        qtbot.waitUntil(lambda: bool(deleted), timeout=5000)
        assert deleted == [threading.main_thread().name]
        assert collector.collections > 0
    finally:
        collector.stop()
    assert gc.isenabled()
