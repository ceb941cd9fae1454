"""The whole window, offscreen: replay of the demo call, the what-if, the live page fed by
the real engine, scorecards and exports, settings, and a start with no audio at all.

The demo call is analysed once for the module (with the bundled tiny.en, as a user's
first minute would), and the tests share that window; each waits on signals or
conditions, never on sleeps.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from assets import DEMO_CALL
from audio.analysis import AnalysisOptions, analyze_recording
from desktop.history.store import CallHistory
from desktop.window.main_window import MainWindow
from desktop.window.settings import SettingsStore

pytestmark = [pytest.mark.model]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def window(qapp, request, tmp_path_factory):
    """A window with its own settings and history, the demo call analysed in replay."""
    folder = tmp_path_factory.mktemp("window")
    win = MainWindow(store=SettingsStore.at(str(folder / "settings.ini")),
                     history=CallHistory(folder / "history.sqlite3"), check_devices=False)
    win.show()
    win.open_demo_call()
    QtBot(request).waitUntil(lambda: win.replay.data is not None and not win.replay.busy,
                             timeout=120_000)
    yield win
    win.close()
    win.deleteLater()
    QtBot(request).wait(50)  # the deferred delete runs on the GUI thread
    gc.collect()  # and any cycles are freed here too, not on a later test's worker


def test_window_opens_the_demo_call_from_the_empty_state(window) -> None:
    data = window.replay.data
    assert Path(data.path) == DEMO_CALL
    assert window.page == "replay"
    assert data.analysis.timeline.utterances, "the demo call was transcribed"
    # The analysed call went into the history and its scorecard is the one shown there.
    ids = window.scorecards.call_ids()
    assert ids
    assert window.scorecards.document["scorecard"]["score"] == data.analysis.scorecard.score


def test_replay_markers_sit_at_the_engines_event_times(window) -> None:
    timeline = window.replay.timeline
    events = window.replay.events
    assert timeline.marker_count() == len(events) > 0
    # The acoustic cues are the ones `callcoach analyze` finds without Whisper.
    acoustic = analyze_recording(DEMO_CALL, AnalysisOptions(transcribe=False)).events
    shown = {(e.kind, round(e.start, 2)) for e in events}
    for e in acoustic:
        assert (e.kind, round(e.start, 2)) in shown
    duration = data_duration(window)
    plot = timeline.plot_rect()
    for i, e in enumerate(events):
        expected = plot.left() + e.start / duration * plot.width()
        assert timeline.marker_x(i) == pytest.approx(expected, abs=2.0)


def data_duration(window) -> float:
    return window.replay.data.analysis.recording.duration_s


def test_clicking_a_marker_seeks_there(window, qtbot) -> None:
    timeline = window.replay.timeline
    events = window.replay.events
    index = len(events) - 1
    window.replay.seek(0.0)
    with qtbot.waitSignal(timeline.eventActivated, timeout=2000) as sig:
        qtbot.mouseClick(timeline, Qt.LeftButton, pos=timeline.marker_rect(index).center())
    assert sig.args == [index]
    assert window.replay.position == pytest.approx(events[index].start, abs=0.05)
    assert timeline.position == pytest.approx(events[index].start, abs=0.05)


def test_clicking_a_transcript_line_seeks_and_marks_it(window, qtbot) -> None:
    view = window.replay.transcript
    row = view.utterance_rows()[3]
    item = view.item(row)
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=view.visualItemRect(item).center())
    u = [u for u in window.replay.data.analysis.timeline.utterances][3]
    assert window.replay.position == pytest.approx(u.start, abs=0.05)
    assert view.current_row == row


def test_play_moves_the_playhead_and_the_transcript_follows(window, qtbot) -> None:
    """With sound when there is an output device, with the silent clock otherwise."""
    replay = window.replay
    window.show_page("replay")
    u = window.replay.data.analysis.timeline.utterances[5]
    replay.seek(u.start - 0.3)
    replay.play_button.click()
    try:
        qtbot.waitUntil(lambda: replay.position > u.start + 0.3, timeout=8000)
        qtbot.waitUntil(lambda: replay.timeline.position > u.start, timeout=2000)
        row = replay.transcript.current_row
        assert replay.transcript.item(row).text().endswith(u.text)
    finally:
        replay.play_button.click()
    paused = replay.position
    qtbot.wait(300)
    assert replay.position == pytest.approx(paused, abs=0.05)
    assert "Play" in replay.play_button.text()


def test_what_if_slider_changes_the_cues(window, qtbot) -> None:
    replay = window.replay
    before = [e.kind for e in replay.events]
    assert "slow_response" in before  # the agent took 4.0 s to answer once
    with qtbot.waitSignal(replay.whatif.playbookChanged, timeout=3000):
        replay.whatif.set_value("slow_response_s", 6.0)
    qtbot.waitUntil(lambda: "slow_response" not in [e.kind for e in replay.events],
                    timeout=5000)
    assert replay.timeline.marker_count() == len(before) - 1
    assert f"<b>{len(before) - 1}</b>" in replay.whatif.summary.text()
    # Stricter than the playbook: more dead air is flagged.
    with qtbot.waitSignal(replay.whatif.playbookChanged, timeout=3000):
        replay.whatif.set_value("dead_air_s", 3.0)
    qtbot.waitUntil(lambda: "dead_air" in [e.kind for e in replay.events], timeout=5000)
    with qtbot.waitSignal(replay.whatif.playbookChanged, timeout=3000):
        replay.whatif.reset()
    qtbot.waitUntil(lambda: [e.kind for e in replay.events] == before, timeout=5000)


def test_scorecard_exports_write_valid_pdf_and_html(window, tmp_path) -> None:
    page = window.scorecards
    assert page.document is not None
    pdf, html = tmp_path / "card.pdf", tmp_path / "card.html"
    assert page.export_scorecard("pdf", str(pdf))
    assert page.export_scorecard("html", str(html))
    assert pdf.read_bytes()[:5] == b"%PDF-" and b"%%EOF" in pdf.read_bytes()[-1024:]
    text = html.read_text(encoding="utf-8")
    assert str(page.document["scorecard"]["score"]) in text and "</html>" in text
    csv = tmp_path / "history.csv"
    assert page.export_csv(str(csv))
    assert len(csv.read_text().strip().splitlines()) == 1 + len(page.call_ids())


def test_evidence_on_the_scorecard_jumps_to_that_moment_in_replay(window, qtbot) -> None:
    window.show_page("scorecards")
    doc = window.scorecards.document
    t = next(ev["t"] for c in doc["scorecard"]["checks"] for ev in c.get("evidence", [])
             if ev.get("t") is not None and ev["t"] > 5)
    window.scorecards.scorecard.seekRequested.emit(t)
    assert window.page == "replay"
    assert window.replay.position == pytest.approx(t, abs=0.05)


def test_practice_call_drives_the_prompt_card_and_ends_on_its_scorecard(window, qtbot) -> None:
    """The live page fed by the real live engine (the demo call played into it at 8x)."""
    live = window.live
    calls_before = len(window.scorecards.call_ids())
    shown: list[str] = []
    live.card.promptChanged.connect(lambda _k: shown.append(live.card.current_text))
    window.start_practice(DEMO_CALL, speed=8.0)
    qtbot.waitUntil(lambda: live.state == "running", timeout=10_000)
    qtbot.waitUntil(lambda: live.card.current_text == "Listen - let them finish",
                    timeout=20_000)
    assert "kept talking" in live.card.current_reason
    assert live.trace.points()[0].size > 0, "the voice trace is fed"
    assert live.clock_label.text() == "", "a recording has no device clocks to compare"
    assert live.talk_share.percentages() is not None
    with qtbot.waitSignal(live.callEnded, timeout=90_000):
        pass
    qtbot.waitUntil(lambda: window.page == "scorecards", timeout=5_000)
    assert len(window.scorecards.call_ids()) == calls_before + 1
    assert window.scorecards.document["scorecard"]["checks"]
    assert "Listen - let them finish" in shown


def test_snoozed_prompt_kind_stays_off_the_card(window, qtbot) -> None:
    live = window.live
    window.start_practice(DEMO_CALL, speed=8.0)
    qtbot.waitUntil(lambda: live.state == "running", timeout=10_000)
    live.snooze("interruption")
    assert "interruption" in live.snoozed_label.text()
    seen: list[str] = []
    fired: list[str] = []
    live.card.promptChanged.connect(lambda kind: seen.append(kind))
    live.worker.event.connect(lambda e: fired.append(e.kind))
    # The engine still finds the interruption (at 0:14); the card never shows it.
    qtbot.waitUntil(lambda: "interruption" in fired, timeout=60_000)
    qtbot.wait(500)
    with qtbot.waitSignal(live.callEnded, timeout=90_000):
        live.end_call()
    assert "interruption" not in seen
    assert not live.card.current_kind == "interruption"


def test_settings_round_trip_through_the_window(window, tmp_path) -> None:
    new = window.settings.__class__(agent_channel="right", theme="dark", keep_audio=True,
                                    keep_audio_days=7, first_run_done=True)
    window.apply_settings(new)
    again = SettingsStore(window.store._q).load()
    assert again == new
    assert window.replay.channel.currentData() == "right"
    window.apply_settings(window.settings.__class__(first_run_done=True))


def test_keyboard_reaches_every_page_and_action(window, qtbot) -> None:
    for i, name in enumerate(("live", "replay", "scorecards")):
        qtbot.keyClick(window, Qt.Key_1 + i, Qt.ControlModifier)
        assert window.page == name
    shortcuts = {a.objectName(): a.shortcut().toString() for a in window.findChildren(
        type(window.menuBar().actions()[0])) if a.objectName()}
    for name in ("act_open", "act_demo", "act_call", "act_compact", "act_settings"):
        assert shortcuts.get(name), name


def test_window_starts_with_no_audio_devices(tmp_path) -> None:
    """No sound server and no sound card (this machine's ALSA has none of its own):
    PortAudio lists nothing. The window still opens, says what is missing, a call that is
    started says why not, and replay still works."""
    script = tmp_path / "no_audio.py"
    script.write_text(
        "import time\n"
        "from PySide6.QtCore import QEventLoop, QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "class Bot:\n"
        "    def waitUntil(self, cond, timeout):\n"
        "        end = time.monotonic() + timeout / 1000\n"
        "        while not cond():\n"
        "            assert time.monotonic() < end, 'timed out'\n"
        "            loop = QEventLoop()\n"
        "            QTimer.singleShot(20, loop.quit)\n"
        "            loop.exec()\n"
        "from desktop.window.main_window import MainWindow\n"
        "from desktop.window.settings import SettingsStore\n"
        "from desktop.history.store import CallHistory\n"
        f"w = MainWindow(store=SettingsStore.at({str(tmp_path / 's.ini')!r}),\n"
        f"               history=CallHistory({str(tmp_path / 'h.sqlite3')!r}),\n"
        "               load_model=False)\n"
        "w.show()\n"
        "bot = Bot()\n"
        "bot.waitUntil(lambda: w.device_problem is not None, timeout=20000)\n"
        "print('PROBLEM:', w.device_problem)\n"
        "print('NOTICE:', w.live.notice.text())\n"
        "w.start_call()\n"
        "bot.waitUntil(lambda: w.live.state == 'idle' and w.live.notice.isVisible()\n"
        "              and 'could not start' in w.live.notice.text(), timeout=20000)\n"
        "print('START:', w.live.notice.text())\n"
        "w.open_demo_call()\n"
        "bot.waitUntil(lambda: w.replay.data is not None, timeout=60000)\n"
        "print('REPLAY:', len(w.replay.events))\n"
        "w.close()\n")
    env = {**os.environ, "PULSE_SERVER": "unix:/nonexistent/pulse", "QT_QPA_PLATFORM": "offscreen",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env, timeout=180, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    problem = out.stdout.split("PROBLEM:", 1)[1].splitlines()[0].strip()
    assert problem, "the missing devices were not noticed"
    assert "Live coaching is not available" in out.stdout
    assert "Replay and scorecards still work" in out.stdout
    assert "START:" in out.stdout and "could not start" in out.stdout
    replay_events = int(out.stdout.split("REPLAY:", 1)[1].split()[0])
    assert replay_events > 0


def test_analysis_json_of_the_window_matches_the_cli(window, tmp_path) -> None:
    """The window's analysis is `callcoach analyze`'s: same events, same score."""
    out = tmp_path / "demo.json"
    subprocess.run([sys.executable, "-m", "desktop.cli", "analyze", str(DEMO_CALL), "--json",
                    str(out), "-q"], check=True, cwd=ROOT, timeout=180,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    cli = json.loads(out.read_text())
    window.replay.whatif.reset()
    doc = window.replay.data.document
    assert cli["scorecard"]["score"] == doc["scorecard"]["score"]
    assert [(e["kind"], e["start"]) for e in cli["events"]] == \
        [(e["kind"], e["start"]) for e in doc["events"]]


def test_open_in_replay_from_the_history_does_not_save_it_twice(window, qtbot,
                                                                  shared_data) -> None:
    """Another call is on the replay page; a scorecard's "Open in replay" analyses the
    demo call again to play it, and the history keeps one entry for it."""
    window.open_recording(str(shared_data / "stereo_diarization.wav"))
    qtbot.waitUntil(lambda: not window.replay.busy and Path(window.replay.data.path).name
                    == "stereo_diarization.wav", timeout=60_000)
    page = window.scorecards
    before = list(page.call_ids())
    demo_id = next(i for i in before if "demo_call" in str(
        window.history.load(i).get("recording")))
    page.select_call(demo_id)
    assert page.replay_button.isEnabled()
    page.replay_button.click()
    assert window.page == "replay"
    qtbot.waitUntil(lambda: not window.replay.busy and Path(window.replay.data.path)
                    == DEMO_CALL, timeout=60_000)
    assert window.replay.position == pytest.approx(0.0, abs=0.05)
    assert page.call_ids() == before
