"""The GUI thread never waits on audio or Whisper: measured on a long recording, and
during a live call.

A 5 ms QTimer on the GUI thread records how late each tick comes while a 4-minute call
is analysed (in the replay engine's child process, transcription included), shown on
the replay page, re-scored by the what-if and sought through; and while a practice call
runs on the live page (the live engine's child process analysing and transcribing it as
it plays, the page painting meters, trace and transcript). A tick that comes late by
more than the budget means something blocked the event loop. It runs on an otherwise
idle machine and beside a process that keeps one core busy (the 2-core CI machine
running something else), as an agent's PC would be.

What is asserted is the loop's own blocking: each gap less the time the kernel kept the
GUI thread waiting for a core, and less the time the host certainly paused the virtual
CPU it ran on (`GapProbe.blocked`). Work on the GUI thread or a wait there (on a lock, a
pipe, the child) counts in full; two cores shared with Whisper's two threads and another
process do not, nor does a host that lent the CPU to another machine. The gaps as
measured, and the time stolen, are printed beside.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assets import DEMO_CALL
from desktop.window.pages.replay_page import ReplayPage
from tests.gap_probe import GapProbe

pytestmark = [pytest.mark.model, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
MAX_BLOCK_S = 0.05  # the budget (see the README for the gaps measured)


@pytest.fixture(scope="module")
def long_call(tmp_path_factory):
    data, rate = sf.read(DEMO_CALL, dtype="float32")
    n = 4 * 60 * rate
    path = tmp_path_factory.mktemp("long") / "four_minutes.wav"
    sf.write(path, np.tile(data, (int(np.ceil(n / len(data))), 1))[:n], rate)
    return path


@pytest.fixture(params=["idle", "beside a busy core"])
def machine(request):
    """Nothing else running, or a process spinning on one of the two cores."""
    if request.param == "idle":
        yield request.param
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield request.param
    finally:
        spinner.kill()
        spinner.wait()


def test_long_recording_never_blocks_the_gui_thread(qtbot, long_call, machine) -> None:
    page = ReplayPage()
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    # The page's first paint (its polish, layout and fonts) is the window's start-up,
    # not the analysis: the probe starts once the page is on screen and idle.
    qtbot.waitExposed(page)
    qtbot.wait(200)
    probe = GapProbe()

    probe.start()
    page.open_recording(long_call)
    # the child takes longer beside a busy core
    qtbot.waitUntil(lambda: page.data is not None and not page.busy, timeout=400_000)
    qtbot.wait(200)  # the loop idles a moment after the call is shown
    analysis = (probe.worst_blocked, probe.p99_blocked, len(probe.gaps), probe.worst,
                probe.total_stolen)
    assert page.data.analysis.timeline.utterances, "the long call was transcribed"

    probe.start()
    before = len(page.events)
    page.whatif.set_value("slow_response_s", 9.0)
    qtbot.waitUntil(lambda: len(page.events) != before, timeout=10_000)
    for t in (30.0, 120.0, 200.0, 10.0):
        page.seek(t)
        qtbot.wait(20)
    interaction = (probe.worst_blocked, probe.p99_blocked, len(probe.gaps), probe.worst,
                   probe.total_stolen)
    print(f"\n{machine}: analysis: blocked at worst {analysis[0] * 1000:.0f} ms, "
          f"p99 {analysis[1] * 1000:.0f} ms (gap as measured {analysis[3] * 1000:.0f} ms, "
          f"stolen by the host {analysis[4] * 1000:.0f} ms in all); "
          f"what-if and seeks: blocked at worst {interaction[0] * 1000:.0f} ms, "
          f"p99 {interaction[1] * 1000:.0f} ms (as measured {interaction[3] * 1000:.0f} ms)")
    assert analysis[2] > 100 and interaction[2] > 10, "the probe did not run"
    assert analysis[0] < MAX_BLOCK_S, analysis
    assert analysis[1] < 0.03, analysis
    assert interaction[0] < MAX_BLOCK_S, interaction


def test_a_live_practice_call_never_blocks_the_gui_thread(machine, tmp_path) -> None:
    """The app as an agent starts it, in a fresh process (`live_responsiveness_driver`):
    the live engine loads its model in its own process, then a practice call plays into
    it at real time and is written into the history. The call: the demo call's first
    16 s (the greeting, the customer's complaint, the agent talking over them at 0:14)."""
    data, rate = sf.read(DEMO_CALL, dtype="float32")
    excerpt = tmp_path / "first_16_s.wav"
    sf.write(excerpt, data[:16 * rate], rate)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "CALLCOACH_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "live_responsiveness_driver.py"),
                          str(excerpt)], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    (measured, _, ticks, worst, p99, stolen), card = got["call"], got["card"]
    print(f"\n{machine}: live practice call: blocked at worst {worst * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms (gap as measured {measured * 1000:.0f} ms, stolen by the "
          f"host {stolen * 1000:.0f} ms in all); "
          f"then its scorecard shown: worst {card * 1000:.0f} ms")
    assert got["transcript"] and got["utterances"], "the call was transcribed and shown"
    assert ticks > 1000, "the probe did not run"
    assert worst < MAX_BLOCK_S, got
    assert p99 < 0.03, got
