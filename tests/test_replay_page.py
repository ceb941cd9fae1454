"""The replay page on its own: cancel, a bad file, drag and drop, agent-only calls, and
the compact strip of the live page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QPushButton

from assets import DEMO_CALL
from desktop.window.pages.live_page import LivePage
from desktop.window.pages.replay_page import ReplayPage


@pytest.fixture
def page(qtbot):
    p = ReplayPage()
    qtbot.addWidget(p)
    p.resize(1000, 700)
    p.show()
    return p


def _no_transcription(page: ReplayPage, monkeypatch) -> None:
    """Acoustic analysis only, to keep these tests fast (the model path is tested in
    test_gui_app)."""
    import desktop.window.pages.replay_page as rp

    real = rp.AnalysisOptions
    monkeypatch.setattr(rp, "AnalysisOptions", lambda **k: real(**{**k, "transcribe": False}))


def test_cancel_stops_the_analysis_and_keeps_the_page_usable(page, qtbot, tmp_path) -> None:
    data, rate = sf.read(DEMO_CALL, dtype="float32")
    long = tmp_path / "long.wav"
    sf.write(long, np.tile(data, (6, 1)), rate)  # 7 minutes: long enough to cancel
    messages: list[str] = []
    page.message.connect(messages.append)
    page.open_recording(long)
    assert page.busy and page.progress.isVisible() and page.cancel_button.isVisible()
    page.cancel()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert page.data is None
    assert "cancelled" in page.file_label.text().lower()
    assert not page.progress.isVisible()
    assert any("cancelled" in m.lower() for m in messages)


def test_a_file_that_is_not_audio_gets_a_message_not_a_traceback(page, qtbot, tmp_path,
                                                                  capfd) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not a recording")
    messages: list[str] = []
    page.message.connect(messages.append)
    page.open_recording(bad)
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    assert page.data is None
    assert messages and "Could not analyse" in messages[-1]
    assert "Could not analyse" in page.file_label.text()
    assert "Traceback" not in capfd.readouterr().err


def test_dropping_a_file_asks_to_open_it(page, qtbot) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(DEMO_CALL))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    page.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(page.fileDropped, timeout=1000) as sig:
        page.dropEvent(drop)
    assert Path(sig.args[0]) == DEMO_CALL


def test_agent_only_recording_replays_with_its_own_cues(page, qtbot, tmp_path,
                                                         monkeypatch) -> None:
    _no_transcription(page, monkeypatch)
    data, rate = sf.read(DEMO_CALL, dtype="float32")
    mono = tmp_path / "agent_only.wav"
    sf.write(mono, data[:, 0], rate)
    page.open_recording(mono)
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    assert page.data.analysis.recording.customer is None
    assert "agent-only" in page.file_label.text()
    assert all(e.kind not in ("interruption", "slow_response") for e in page.events)
    page.seek(30.0)
    assert page.position == pytest.approx(30.0)
    assert page.position_label.text().startswith("0:30")


def test_right_channel_agent_swaps_the_parties(page, qtbot, monkeypatch) -> None:
    _no_transcription(page, monkeypatch)
    page.open_recording(DEMO_CALL)
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    left = page.data.analysis.timeline.turns_of("agent")
    page.set_agent_channel("right")
    page.open_recording(DEMO_CALL)
    qtbot.waitUntil(lambda: not page.busy and page.data.analysis.recording.agent_channel
                    == "right", timeout=30_000)
    right_customer = page.data.analysis.timeline.turns_of("customer")
    assert [round(t.start, 2) for t in left] == [round(t.start, 2) for t in right_customer]


def test_compact_strip_shows_the_prompt_and_comes_back(qtbot) -> None:
    live = LivePage()
    qtbot.addWidget(live)
    live.show()
    live.enter_compact()
    strip = live.compact
    assert strip.isVisible() and not live.window().isVisible()
    assert strip.windowFlags() & Qt.WindowStaysOnTopHint
    strip.show_prompt("Lower your voice", "+7 dB over your usual level for 2 s", 95)
    assert strip.prompt.text() == "Lower your voice"
    assert "+7 dB" in strip.reason.text()
    expand = strip.findChild(QPushButton, "compact_expand")
    assert "Ctrl+M" in expand.toolTip()
    with qtbot.waitSignal(strip.expandRequested, timeout=1000):
        qtbot.mouseClick(expand, Qt.LeftButton)
    assert live.window().isVisible() and not strip.isVisible()
    live.shutdown()


def test_a_missing_output_device_falls_back_and_playback_goes_on(page, qtbot,
                                                                  monkeypatch) -> None:
    _no_transcription(page, monkeypatch)
    page.set_output_device("Headset that was unplugged 1234")
    page.open_recording(DEMO_CALL)
    qtbot.waitUntil(lambda: page.data is not None, timeout=30_000)
    page.seek(10.0)
    page.play_button.click()
    try:
        qtbot.waitUntil(lambda: page.position > 10.4, timeout=8000)
        note = page.audio_note.text()
        assert "Headset that was unplugged 1234" in note or "No sound" in note, note
    finally:
        page.play_button.click()
    assert not page.play_button.isChecked()


def test_settings_dialog_keeps_the_replay_output(qtbot) -> None:
    from desktop.window.dialogs.settings_dialog import SettingsDialog
    from desktop.window.settings import AppSettings

    dialog = SettingsDialog(AppSettings(output_device="Old speakers"),
                            list_devices=lambda: [])
    qtbot.addWidget(dialog)
    assert dialog.result_settings().output_device == "Old speakers"
    dialog.output_combo.setCurrentIndex(0)
    assert dialog.result_settings().output_device == ""


def test_the_child_reads_the_playbook_and_the_page_keeps_its_numbers(page, qtbot, tmp_path,
                                                                     monkeypatch) -> None:
    """The settings' playbook is read in the engine process, never compiled in the
    window's: a bad one is said as the analysis failing, an edited one's thresholds are
    what the call was scored with and what the what-if starts from."""
    from assets import DEFAULT_PLAYBOOK

    _no_transcription(page, monkeypatch)
    messages: list[str] = []
    page.message.connect(messages.append)
    bad = tmp_path / "bad.toml"
    bad.write_text("[thresholds\n")
    page.open_recording(DEMO_CALL, playbook_path=str(bad))
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert page.data is None
    assert "not valid TOML" in messages[-1] and str(bad) in messages[-1]

    edited = tmp_path / "edited.toml"
    text = DEFAULT_PLAYBOOK.read_text()
    assert "\nslow_response_s = 3.0 " in text
    edited.write_text(text.replace("\nslow_response_s = 3.0 ", "\nslow_response_s = 7.5 ", 1))
    page.open_recording(DEMO_CALL, playbook_path=str(edited))
    qtbot.waitUntil(lambda: page.data is not None and not page.busy, timeout=60_000)
    book = page.data.analysis.playbook
    assert book.thresholds.slow_response_s == 7.5 and book.source == str(edited)
    assert not book.has_phrases, "the window keeps the settings, not the phrase sets"
    assert page.whatif.changes() == {}
