"""The GUI thread during a live practice call, measured in the app as a user starts it
(run by tests/test_gui_responsiveness.py in a fresh process; not a test module itself).

Usage: python tests/live_responsiveness_driver.py RECORDING

The window comes from `desktop.window.gui_main.create_window` (the `callcoach` command's
path: its garbage collector on the GUI thread, its start-up objects settled), with the
settings and data folders the caller's environment names. Once the live engine has its
model, a 5 ms timer records how late each tick comes while RECORDING plays into the live
page at real time as a practice call, and while its scorecard is shown after. Prints
one JSON line: {"call": [worst_s, p99_s, ticks, worst_blocked_s, p99_blocked_s,
stolen_s], "card": worst_s, "utterances": n} (`GapProbe.figures`: blocked is less the
time the OS kept the thread waiting for a core and the host certainly took its CPU).
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QEventLoop, QTimer

from tests.gap_probe import GapProbe
from tests.gui_smoke_driver import wait_until


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
    probe = GapProbe()

    def call_over(doc: dict) -> None:
        """The live page has the call's document and is back to idle: what follows is
        its scorecard (built and shown in turns of their own, queued by the window's own
        slot of this signal, which runs first). On the GUI thread, in that same turn: a
        slot of the worker's `ended` is queued from the engine's reading thread, and may
        come after the window's first turn of the card."""
        figures.append(probe.lap())
        ended.append(doc)

    window.live.callEnded.connect(call_over)
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
