"""The window's live page on real devices: the demo call's two parties played into two
PulseAudio null sinks, the window capturing both monitors as a softphone setup would.

The prompt card must show the engine's interruption prompt, the call timer must run,
and ending the call must open its scorecard from the history, with the transcript.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import soundfile as sf

from assets import DEMO_CALL
from desktop.history import CallHistory
from desktop.main_window import MainWindow
from desktop.settings import AppSettings, SettingsStore
from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

pytestmark = [pytest.mark.slow, pytest.mark.model]


@pytest.fixture
def sinks(tmp_path):
    ensure_pulse_server()
    tag = f"ccgui{os.getpid()}"
    names = {role: f"{tag}_{role}" for role in ("agent", "softphone")}
    modules = [load_null_sink(name) for name in names.values()]
    audio, rate = sf.read(DEMO_CALL, dtype="float32")
    tracks = {}
    for role, ch in (("agent", 0), ("softphone", 1)):
        tracks[role] = tmp_path / f"{role}.wav"
        sf.write(tracks[role], audio[:, ch], rate)
    yield names, tracks
    for module in modules:
        unload_module(module)


def test_live_call_in_the_window_through_pulseaudio(qtbot, tmp_path, sinks) -> None:
    names, tracks = sinks
    store = SettingsStore.at(str(tmp_path / "settings.ini"))
    store.save(AppSettings(agent_device=f"pulse:{names['agent']}.monitor",
                           customer_device=f"pulse:{names['softphone']}.monitor",
                           first_run_done=True))
    window = MainWindow(store=store, history=CallHistory(tmp_path / "history.sqlite3"),
                        check_devices=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model_state == "ready", timeout=60_000)
    live = window.live
    window.start_call()
    qtbot.waitUntil(lambda: live.state == "running", timeout=15_000)
    assert "Mic: Monitor of" in live.devices_label.text()
    assert "Customer: Monitor of" in live.devices_label.text()
    players = [subprocess.Popen(["paplay", f"--device={names[r]}", str(tracks[r])])
               for r in ("agent", "softphone")]
    try:
        # The agent talks over the customer at 0:14 in the demo call.
        qtbot.waitUntil(lambda: live.card.current_text == "Listen - let them finish",
                        timeout=40_000)
        assert "kept talking" in live.card.current_reason
        assert live.timer_label.text() >= "0:14"
        qtbot.waitUntil(lambda: live.transcript.utterance_rows() != [], timeout=20_000)
        assert live.agent_meter.peak_db > -40
    finally:
        for p in players:
            p.kill()
    with qtbot.waitSignal(live.callEnded, timeout=60_000):
        window.live.end_call()
    assert window.page == "scorecards"
    doc = window.scorecards.document
    assert doc is not None and doc["transcript"]
    assert any(e["kind"] == "interruption" for e in doc["events"])
    assert window.scorecards.call_ids(), "the call was saved in the history"
    live.shutdown()
