"""Replay analysis runs in a child process: killed mid-run, the page says so and the next
analysis works; what comes back is the call whole, re-scorable in the window.

The child is killed for real, by its pid (SIGKILL: what the kernel does when memory runs
out, and what a native fault looks like from outside).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from assets import DEMO_CALL
from desktop.window.pages.replay_page import ReplayPage

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture
def page(qtbot):
    p = ReplayPage()
    qtbot.addWidget(p)
    p.resize(1000, 700)
    p.show()
    return p


def test_a_killed_analysis_is_reported_and_the_next_one_succeeds(page, qtbot) -> None:
    messages: list[str] = []
    page.message.connect(messages.append)
    page.open_recording(DEMO_CALL)
    qtbot.waitUntil(lambda: page.engine_pid is not None, timeout=30_000)
    pid = page.engine_pid
    assert pid != os.getpid()
    # mid-run: the child has read the call and is working on it
    qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=60_000)
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)

    assert page.data is None
    assert "stopped unexpectedly (exit code -9" in page.file_label.text()
    assert messages[-1].startswith("Could not analyse the recording: the analysis stopped")
    assert not page.progress.isVisible() and not page.cancel_button.isVisible()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped, not left a zombie

    page.open_recording(DEMO_CALL)
    assert page.busy
    qtbot.waitUntil(lambda: page.data is not None and not page.busy, timeout=180_000)
    assert page.engine_pid is None
    a = page.data.analysis
    assert a.timeline.utterances and a.model_name != "none", "transcribed in the child"
    assert page.data.document["events"] and page.events
    assert page.stack.currentIndex() == 1

    # The what-if is answered by the call's own process: unchanged thresholds give its
    # cues exactly; a changed one changes them; the window's playbook carries the change.
    first_events = page.data.document["events"]
    engine_pid = page._engine.pid
    page.whatif.set_value("slow_response_s", 1.0)
    qtbot.waitUntil(lambda: page.data.analysis.playbook.thresholds.slow_response_s == 1.0,
                    timeout=30_000)
    assert page.data.document["events"] != first_events
    assert page.whatif.changes()
    page.whatif.set_value("slow_response_s", a.playbook.thresholds.slow_response_s)
    qtbot.waitUntil(lambda: page.data.document["events"] == first_events, timeout=30_000)

    # The shown call's process killed: the page says so and the what-if goes on in the
    # window's process.
    os.kill(engine_pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: page._engine is None, timeout=30_000)
    assert "engine process ended" in messages[-1] and "exit code -9" in messages[-1]
    page.whatif.set_value("slow_response_s", 1.0)
    qtbot.waitUntil(lambda: page.data.analysis.playbook.thresholds.slow_response_s == 1.0,
                    timeout=30_000)
    assert page.data.document["events"] != first_events


def test_cancel_ends_the_child_process(page, qtbot) -> None:
    page.open_recording(DEMO_CALL)
    qtbot.waitUntil(lambda: page.engine_pid is not None, timeout=30_000)
    pid = page.engine_pid
    page.cancel()
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    assert "cancelled" in page.file_label.text().lower()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_page_dropped_without_closing_ends_its_child(qtbot) -> None:
    """A page destroyed without being closed (a local page of a test, a window deleted)
    stops its jobs: the shown call's child does not live on for the window's close to
    wait for (it waited 15 s for each such child of earlier tests)."""
    import gc

    from desktop.window import workers

    def show_a_call() -> int:
        page = ReplayPage()
        page.open_recording(DEMO_CALL)
        qtbot.waitUntil(lambda: page.data is not None and not page.busy, timeout=180_000)
        return page._engine.pid

    pid = show_a_call()
    os.kill(pid, 0)  # the page is gone, its child still here until it is told
    gc.collect()

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    qtbot.waitUntil(gone, timeout=15_000)
    assert workers.wait_for_jobs(10_000), "the dropped page's job ended"


def test_the_child_side_imports_no_qt() -> None:
    """What the spawned child imports (its entry point and what it builds) loads no Qt."""
    code = ("import sys; import desktop.window.engine_process, desktop.window.replay_data; "
            "import audio.analysis; print(sorted(m for m in sys.modules if 'PySide' in m))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_a_playbook_with_an_encoder_goes_to_the_child_without_it() -> None:
    """The window's playbook may have the sentence encoder attached; what the child gets
    has none (and attaches its own), with the same thresholds and phrase sets."""
    import pickle

    from audio.sentence_encoder import attach_encoder
    from coaching.playbook import load_playbook

    book = load_playbook()
    attach_encoder(book, wait=None)
    copy = pickle.loads(pickle.dumps(book))
    assert copy.encoder_name is None and copy.thresholds == book.thresholds
    assert copy.find("apology", "I'm so sorry about that") is not None
