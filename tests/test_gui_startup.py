"""The window is up in under 2 s, before the speech model has loaded.

The app is started as a user starts it (`gui_main.create_window`, in a fresh Python
process, with a settings folder and a data folder of its own) and the time is taken
from launching the process to the window being exposed, its first paint done. The
speech model loads in the live engine's own process meanwhile: at that moment it must
still be loading, and it must be ready soon after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]

BUDGET_S = 2.0  # the issue's

_SCRIPT = """
from PySide6.QtTest import QTest
from desktop.window.gui_main import create_window
app, window = create_window(["callcoach"])
QTest.qWaitForWindowExposed(window, 10000)
app.processEvents()
print("SHOWN", window.model_state, flush=True)
for _ in range(3000):
    if window.model_state != "loading":
        break
    QTest.qWait(20)
print("MODEL", window.model_state, flush=True)
window.close()
"""


def _start(home: Path) -> tuple[float, str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / "config"), "CALLCOACH_DATA_DIR": str(home / "data"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    shown = proc.stdout.readline().split()
    took = time.monotonic() - began
    model = proc.stdout.readline().split()
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and shown and model, err[-2000:]
    return took, shown[1], model[1]


def test_the_window_is_up_in_under_two_seconds_before_the_model(tmp_path) -> None:
    # Twice, each from scratch (the first run may also be the first to read the files
    # from disk); the better of the two is the app's start-up.
    runs = [_start(tmp_path / f"run{i}") for i in range(2)]
    print("\nwindow up after " + ", ".join(f"{t:.2f} s" for t, _, _ in runs))
    for _took, at_show, later in runs:
        assert at_show == "loading", "the window waited for the model"
        assert later == "ready"
    assert min(t for t, _, _ in runs) < BUDGET_S, runs
