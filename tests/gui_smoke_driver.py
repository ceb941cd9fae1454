"""Drives the real app under Xvfb and saves a screenshot of each page (run by
tests/test_gui_smoke.py in a subprocess; not a test module itself).

Usage: python tests/gui_smoke_driver.py OUT_DIR

It starts the window through `desktop.window.gui_main.create_window` (the code path of the
`callcoach` command), opens the bundled demo call, waits for the analysis, then grabs
each page from the X screen, as a person would see it. It prints one line per file and
exits 0, or prints what failed and exits 1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication


def wait_until(condition, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("timed out")
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shot(widget, path: Path) -> None:
    """What the X screen shows for this window (frame excluded)."""
    QApplication.processEvents()
    screen = widget.screen() or QApplication.primaryScreen()
    pixmap = screen.grabWindow(widget.winId())
    if pixmap.isNull() or pixmap.width() < 10:
        pixmap = widget.grab()
    pixmap.save(str(path))
    print(f"SHOT {path}", flush=True)


def main(out_dir: str) -> int:
    from desktop.window.gui_main import create_window

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app, window = create_window([sys.argv[0]])
    avail = (window.screen() or QApplication.primaryScreen()).availableGeometry()
    window.resize(min(1280, avail.width() - 40), min(800, avail.height() - 60))
    try:
        wait_until(lambda: window.isVisible(), 10)
        settle()
        shot(window, out / "1-live-empty.png")
        window.show_page("replay")
        settle()
        shot(window, out / "2-replay-empty.png")
        window.open_demo_call()
        wait_until(lambda: window.replay.data is not None and not window.replay.busy, 180)
        settle()
        shot(window, out / "3-replay-demo.png")
        window.show_page("scorecards")
        settle()
        shot(window, out / "4-scorecards.png")
        window.start_practice(speed=4.0)
        wait_until(lambda: window.live.state == "running", 20)
        wait_until(lambda: not window.live.card.is_idle, 60)
        settle(600)
        shot(window, out / "5-live-practice.png")
        window.live.enter_compact()
        settle()
        shot(window.live.compact, out / "6-compact.png")
        window.live.leave_compact()
        window.live.end_call()
        wait_until(lambda: window.live.state == "idle", 60)
        settle()
        shot(window, out / "7-scorecard-after-call.png")
        from desktop.window.dialogs.first_run import FirstRunDialog
        from desktop.window.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(window.settings, window)
        dialog.show()
        wait_until(lambda: not dialog.checking, 20)
        settle(600)
        shot(dialog, out / "8-settings.png")
        dialog.reject()
        first = FirstRunDialog(window.settings, window, page="hearing")
        first.show()
        settle(600)
        shot(first, out / "9-first-run-hearing.png")
        first.reject()
    except Exception as exc:  # noqa: BLE001 - reported to the test
        print(f"FAILED {type(exc).__name__}: {exc}", flush=True)
        window.close()
        return 1
    window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
