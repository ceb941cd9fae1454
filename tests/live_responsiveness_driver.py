"""The GUI thread during a live practice call, measured in the app as a user starts it
(run by tests/test_gui_responsiveness.py in a fresh process; not a test module itself).

Usage: python tests/live_responsiveness_driver.py RECORDING

The window comes from `desktop.window.gui_main.create_window` (the `callcoach` command's
path: its garbage collector on the GUI thread, its start-up objects settled), with the
settings and data folders the caller's environment names. Once the live engine has its
model, a 5 ms timer records how late each tick comes while RECORDING plays into the live
page at real time as a practice call, and while its scorecard is shown after. Prints
one JSON line: {"call": [worst_s, p99_s, ticks], "card": worst_s, "utterances": n}.
"""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtCore import QEventLoop, QTimer


def wait_until(condition, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("timed out")
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()


class Gaps:
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
        self.gaps = []
        self._last = time.perf_counter()
        self.timer.start()

    def figures(self) -> list[float]:
        ordered = sorted(self.gaps)
        return [ordered[-1], ordered[int(len(ordered) * 0.99)], len(ordered)]


def main(recording: str) -> int:
    from desktop.window.gui_main import create_window

    app, window = create_window(["callcoach"])
    window.resize(1200, 800)
    wait_until(lambda: window.model_state == "ready", 60)
    loop = QEventLoop()
    QTimer.singleShot(300, loop.quit)
    loop.exec()
    ended: list[dict] = []
    figures: list[list[float]] = []
    probe = Gaps()

    def call_over(doc: dict) -> None:
        """The call's document reached the window: what follows is its scorecard
        (queued after this, built and shown in turns of their own)."""
        figures.append(probe.figures())
        ended.append(doc)
        probe.start()

    window.live.worker.ended.connect(call_over)
    probe.start()
    window.start_practice(recording, speed=1.0)
    wait_until(lambda: bool(ended), 120)
    call = figures[0]
    wait_until(lambda: window.page == "scorecards", 10)
    loop = QEventLoop()
    QTimer.singleShot(100, loop.quit)
    loop.exec()
    card = probe.figures()[0]
    print(json.dumps({"call": call, "card": card,
                      "utterances": len(window.live.transcript.utterance_rows()),
                      "transcript": len((ended[0] or {}).get("transcript", []))}),
          flush=True)
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
