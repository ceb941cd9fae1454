"""The live call's engine runs in a child process: its messages, and its crash.

The engine is driven through its pipe as the window drives it (a practice recording
played into it: the real live engine, the real rules), then killed for real, by its pid,
in the middle of a practice call in the window (SIGKILL: what the kernel does when
memory runs out, and what a native fault in PortAudio or CTranslate2 looks like from
outside). The window must stay up, say what happened, keep the call in the history as
it was until then, and start the next call on a new engine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import soundfile as sf

from assets import DEMO_CALL
from desktop.history.store import CallHistory
from desktop.window.live_engine import LiveEngineProcess
from desktop.window.live_messages import (
    BeginCall,
    CallEnded,
    CallFailed,
    CallStarted,
    EndCall,
    EngineReady,
    Fault,
    Fired,
    LiveCallConfig,
    Tick,
)
from desktop.window.main_window import MainWindow
from desktop.window.settings import SettingsStore

pytestmark = [pytest.mark.slow]


def _until(engine: LiveEngineProcess, kind: type, seen: list) -> object:
    for message in engine.messages():
        seen.append(message)
        if isinstance(message, kind):
            return message
    raise AssertionError(f"the engine ended before {kind.__name__}: {seen[-3:]}")


def test_the_engine_runs_calls_one_after_another_through_its_pipe() -> None:
    """Without a model (fast): a practice call unpaced, then a file that is no call,
    then another call, all in one engine process."""
    engine = LiveEngineProcess(model=None, transcribe=False)
    try:
        seen: list = []
        ready = _until(engine, EngineReady, seen)
        assert ready == EngineReady(None, "")
        assert engine.pid != os.getpid()
        practice = LiveCallConfig(practice_file=str(DEMO_CALL), practice_speed=0.0)
        for _ in range(2):
            seen.clear()
            assert engine.send(BeginCall(practice))
            started = _until(engine, CallStarted, seen)
            assert started.practice == str(DEMO_CALL) and started.customer_label
            ended = _until(engine, CallEnded, seen)  # the file ran out: the call ended
            doc = ended.document
            assert doc["practice"] and doc["recording"] == str(DEMO_CALL)
            assert doc["model"] == "none" and doc["scorecard"]["checks"]
            fired = [m.event.kind for m in seen if isinstance(m, Fired)]
            assert "interruption" in fired
            assert sorted(fired) == sorted(e["kind"] for e in doc["events"])
            ticks = [m.snapshot for m in seen if isinstance(m, Tick)]
            assert ticks and sum(len(s.agent_frames) for s in ticks) > 1000
            assert any("speech model is not loaded" in m.message for m in seen
                       if isinstance(m, Fault))
            seen.clear()
            assert engine.send(BeginCall(LiveCallConfig(practice_file=__file__)))
            failed = _until(engine, CallFailed, seen)
            assert failed.message and "Traceback" not in failed.message
        assert engine.process.is_alive()
        assert engine.send(EndCall())  # no call running: nothing to end, no harm
    finally:
        engine.close()
    assert not engine.process.is_alive() and engine.process.exitcode == 0
    assert not engine.crashed


def test_the_child_side_imports_no_qt() -> None:
    code = ("import sys; import desktop.window.live_engine, desktop.window.live_messages, "
            "audio.live_session, "
            "audio.file_session, desktop.cli.live_cli, desktop.history.live_recorder; "
            "print(sorted(m for m in sys.modules if 'PySide' in m))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


@pytest.mark.model
def test_a_killed_engine_mid_call_keeps_the_call_and_the_window(qtbot, tmp_path) -> None:
    history = CallHistory(tmp_path / "history.sqlite3")
    window = MainWindow(store=SettingsStore.at(str(tmp_path / "settings.ini")),
                        history=history, check_devices=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model_state == "ready", timeout=60_000)
    live = window.live
    pid = live.worker.engine_pid
    assert pid is not None and pid != os.getpid()
    messages: list[str] = []
    live.message.connect(messages.append)

    window.start_practice(DEMO_CALL, speed=3.0)
    qtbot.waitUntil(lambda: live.state == "running", timeout=30_000)
    qtbot.waitUntil(lambda: len(live.transcript.utterance_rows()) >= 3
                    and bool(live.transcript.event_rows()), timeout=60_000)
    rows = live.transcript.utterance_rows()
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: live.state == "idle", timeout=30_000)

    assert window.isVisible()
    notice = live.notice.text()
    assert "stopped unexpectedly" in notice and "exit code -9, SIGKILL" in notice, notice
    assert "saved in Scorecards" in notice and "Start call" in notice
    assert live.start_button.isEnabled() and live.practice_button.isEnabled()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped, not left a zombie
    # The call as the window received it: in the history now, not at the next start.
    calls = window.scorecards.call_ids()
    assert len(calls) == 1
    doc = history.load(calls[0])
    assert doc["history"]["source"] == "recovered"
    said = [u["text"] for u in doc["transcript"]]
    assert len(said) >= len(rows) - 1 >= 2, (said, rows)
    assert doc["events"], "the cues that fired before the crash"

    # A new engine, and a new call on it (the demo call's first 20 s, at 4x).
    qtbot.waitUntil(lambda: live.worker.engine_pid not in (None, pid), timeout=10_000)
    qtbot.waitUntil(lambda: window.model_state == "ready", timeout=60_000)
    data, rate = sf.read(DEMO_CALL, dtype="float32")
    sf.write(tmp_path / "first_20_s.wav", data[:20 * rate], rate)
    window.start_practice(tmp_path / "first_20_s.wav", speed=4.0)
    qtbot.waitUntil(lambda: live.state == "running", timeout=30_000)
    assert "stopped" not in live.notice.text() or not live.notice.isVisible()
    with qtbot.waitSignal(live.callEnded, timeout=90_000):
        pass
    qtbot.waitUntil(lambda: window.page == "scorecards", timeout=5_000)
    assert len(window.scorecards.call_ids()) == 2
    assert window.scorecards.document["history"]["source"] == "practice"
    assert window.scorecards.document["transcript"]
    window.close()


@pytest.mark.model
def test_an_engine_killed_while_loading_its_model_is_said_and_the_next_call_works(
        qtbot, tmp_path) -> None:
    window = MainWindow(store=SettingsStore.at(str(tmp_path / "settings.ini")),
                        history=CallHistory(tmp_path / "history.sqlite3"),
                        check_devices=False)
    qtbot.addWidget(window)
    pid = window.live.worker.engine_pid
    os.kill(pid, signal.SIGKILL)  # at once: it is still importing or loading the model
    qtbot.waitUntil(lambda: window.model_state == "failed", timeout=30_000)
    assert window.model_label.text() == "Speech model: not available"
    said = window.statusBar().currentMessage()
    assert "could not be loaded" in said and "stopped unexpectedly" in said, said
    qtbot.wait(200)
    assert "a new one is starting" not in window.statusBar().currentMessage()
    assert window.live.worker.engine_pid is None, "no restart in a loop"
    assert window.live.state == "idle" and window.live.notice.isHidden()

    data, rate = sf.read(DEMO_CALL, dtype="float32")
    sf.write(tmp_path / "first_10_s.wav", data[:10 * rate], rate)
    window.start_practice(tmp_path / "first_10_s.wav", speed=4.0)  # a fresh engine
    qtbot.waitUntil(lambda: window.live.state == "running", timeout=60_000)
    assert window.live.worker.engine_pid not in (None, pid)
    with qtbot.waitSignal(window.live.callEnded, timeout=60_000) as ended:
        pass
    assert ended.args[0]["transcript"], "the new engine loaded its model"
    window.close()
