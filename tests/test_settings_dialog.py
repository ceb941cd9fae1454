"""Settings: the store round trip, the Settings dialog, the first-run setup, the level test.

The dialogs get their device list from an injected lister (the same call the app makes,
run on the same worker thread), so "PortAudio is missing" is tested as a lister that
raises DeviceError. The level test runs through a real PulseAudio null sink.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QLabel

from audio.devices import DeviceError, InputDevice, find_device, list_input_devices
from coaching.playbook import default_playbook_path
from desktop.window.dialogs.device_picker import LOOKING_TEXT, STILL_WORKS_TEXT
from desktop.window.dialogs.first_run import FirstRunDialog, customer_audio_help
from desktop.window.dialogs.settings_dialog import BUNDLED_MODEL_TEXT, SettingsDialog
from desktop.window.level_probe import LevelProbe, rms_dbfs
from desktop.window.settings import AppSettings, SettingsStore
from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

HEADSET = InputDevice("portaudio:USB Headset (ALSA)", "USB Headset (ALSA)", 1, 48000.0,
                      portaudio_name="USB Headset")
MONITOR = InputDevice("pulse:softphone.monitor", "Monitor of Softphone", 2, 48000.0,
                      is_monitor=True, pulse_source="softphone.monitor",
                      portaudio_name="pulse")
NO_PORTAUDIO = ("PortAudio is not installed (libportaudio.so.2: cannot open shared object "
                "file); live capture is off.")


def two_devices() -> list[InputDevice]:
    return [HEADSET, MONITOR]


def no_portaudio() -> list[InputDevice]:
    raise DeviceError(NO_PORTAUDIO)


def open_dialog(qtbot, settings: AppSettings, lister=two_devices) -> SettingsDialog:
    dialog = SettingsDialog(settings, list_devices=lister)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.picker.listing and not dialog.checking)
    return dialog


# -- the store -------------------------------------------------------------------------------
def test_settings_round_trip_through_an_ini_file(tmp_path) -> None:
    ini = str(tmp_path / "callcoach.ini")
    changed = AppSettings(agent_device=HEADSET.id, customer_device="none", model="base.en",
                          agent_channel="right", playbook_path="/x/p.toml", keep_audio=True,
                          keep_audio_days=7, theme="dark", first_run_done=True,
                          compact_on_top=False)
    SettingsStore.at(ini).save(changed)
    assert SettingsStore.at(ini).load() == changed
    assert SettingsStore.at(str(tmp_path / "new.ini")).load() == AppSettings()


def test_validated_fixes_a_hand_edited_file(tmp_path) -> None:
    assert AppSettings(theme="neon").validated().theme == "system"
    ini = tmp_path / "edited.ini"
    ini.write_text("[General]\ntheme=neon\nagent_channel=middle\nkeep_audio_days=0\n"
                   "keep_audio=yes\n", encoding="utf-8")
    loaded = SettingsStore.at(str(ini)).load()
    assert (loaded.theme, loaded.agent_channel, loaded.keep_audio_days) == ("system", "left", 30)
    assert loaded.keep_audio is True


# -- the Settings dialog ---------------------------------------------------------------------
def test_dialog_returns_the_changed_settings(qtbot) -> None:
    start = AppSettings(first_run_done=True, compact_on_top=False)
    dialog = open_dialog(qtbot, start)
    assert dialog.ok_button.isEnabled()
    assert dialog.model_combo.currentText() == BUNDLED_MODEL_TEXT
    dialog.picker.set_agent_device(HEADSET.id)
    dialog.picker.set_customer_device("none")
    dialog.playbook_edit.setText(str(default_playbook_path()))
    dialog.channel_combo.setCurrentIndex(dialog.channel_combo.findData("right"))
    dialog.keep_audio_check.setChecked(True)
    dialog.keep_days_spin.setValue(7)
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
    assert not dialog.ok_button.isEnabled()  # the new playbook path is being checked
    qtbot.waitUntil(dialog.ok_button.isEnabled)
    assert dialog.playbook_note.text() == "Playbook read without errors."
    dialog.ok_button.click()
    assert dialog.result() == QDialog.Accepted
    assert dialog.result_settings() == AppSettings(
        agent_device=HEADSET.id, customer_device="none", model="", agent_channel="right",
        playbook_path=str(default_playbook_path()), keep_audio=True, keep_audio_days=7,
        theme="dark", first_run_done=True, compact_on_top=False)


def test_a_saved_device_that_is_not_plugged_in_is_kept(qtbot) -> None:
    dialog = open_dialog(qtbot, AppSettings(agent_device="portaudio:Old Headset (ALSA)"))
    assert dialog.picker.combo("agent").currentText().endswith("(not found)")
    assert dialog.result_settings().agent_device == "portaudio:Old Headset (ALSA)"
    assert not dialog.picker.test_button("agent").isEnabled()
    # "Automatic" shows what it means now.
    assert dialog.picker.customer_device() == ""
    assert dialog.picker.test_button("customer").isEnabled()


def test_a_bad_model_folder_disables_ok_and_says_why(qtbot, tmp_path) -> None:
    dialog = open_dialog(qtbot, AppSettings())
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    dialog.model_combo.setEditText(str(empty))
    qtbot.waitUntil(lambda: not dialog.checking)
    assert not dialog.ok_button.isEnabled()
    assert "no model.bin" in dialog.model_note.text()
    dialog.model_combo.setCurrentIndex(0)  # back to the bundled model
    qtbot.waitUntil(dialog.ok_button.isEnabled)
    assert dialog.result_settings().model == ""


def test_a_bad_playbook_disables_ok_and_says_why(qtbot, tmp_path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[thresholds\n", encoding="utf-8")
    dialog = open_dialog(qtbot, AppSettings(playbook_path=str(broken)))
    assert not dialog.ok_button.isEnabled()
    assert "not valid TOML" in dialog.playbook_note.text()
    dialog.playbook_edit.clear()  # the bundled playbook
    qtbot.waitUntil(dialog.ok_button.isEnabled)
    assert dialog.playbook_note.text() == "The bundled playbook."


def test_the_dialog_stays_usable_without_portaudio(qtbot) -> None:
    start = AppSettings(agent_device=HEADSET.id, customer_device=MONITOR.id)
    dialog = SettingsDialog(start, list_devices=no_portaudio)
    qtbot.addWidget(dialog)
    dialog.show()
    assert LOOKING_TEXT in [w.text() for w in dialog.findChildren(QLabel)]
    with qtbot.waitSignal(dialog.picker.listed) as blocker:
        pass
    assert blocker.args == [False]
    qtbot.waitUntil(lambda: not dialog.checking)
    status = " ".join(w.text() for w in dialog.findChildren(QLabel))
    assert NO_PORTAUDIO.rstrip(".") in status and STILL_WORKS_TEXT in status
    for party in ("agent", "customer"):
        assert not dialog.picker.combo(party).isEnabled()
        assert not dialog.picker.test_button(party).isEnabled()
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("light"))
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    result = dialog.result_settings()
    assert (result.agent_device, result.customer_device, result.theme) == \
        (HEADSET.id, MONITOR.id, "light")


def assert_unique_mnemonics(dialog: QDialog, exempt=()) -> None:
    """Every button and every label that names a field has its own Alt+letter."""
    letters = []
    for w in dialog.findChildren(QLabel) + dialog.findChildren(QAbstractButton):
        if w in exempt or not w.text() or (isinstance(w, QLabel) and w.buddy() is None):
            continue
        found = re.search(r"&(\w)", w.text())
        assert found, f"no mnemonic on {w.text()!r}"
        letters.append(found.group(1).lower())
    assert len(letters) == len(set(letters)), letters


def test_every_control_has_a_unique_mnemonic_and_tab_reaches_it(qtbot) -> None:
    dialog = open_dialog(qtbot, AppSettings(keep_audio=True))
    assert_unique_mnemonics(dialog, exempt=dialog._buttons.buttons())  # OK: Enter, Esc
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    seen = []
    for _ in range(40):
        seen.append(QApplication.focusWidget())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Tab)
    wanted = [dialog.picker.combo("agent"), dialog.picker.test_button("agent"),
              dialog.picker.combo("customer"), dialog.model_combo, dialog.playbook_edit,
              dialog.channel_combo, dialog.keep_audio_check, dialog.keep_days_spin,
              dialog.theme_combo, dialog.ok_button]
    missing = [w for w in wanted if w not in seen and w.focusProxy() not in seen
               and not any(s is not None and w.isAncestorOf(s) for s in seen)]
    assert not missing, [type(w).__name__ for w in missing]


# -- the first-run setup ---------------------------------------------------------------------
def test_first_run_skip_marks_it_done(qtbot) -> None:
    dialog = FirstRunDialog(AppSettings(), list_devices=no_portaudio)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitSignal(dialog.picker.listed).wait()
    dialog.skip_button.click()
    assert dialog.result() == QDialog.Accepted and dialog.skipped
    assert dialog.result_settings() == AppSettings(first_run_done=True)
    assert not dialog.wants_demo


def test_first_run_to_the_end_keeps_the_devices_and_offers_the_demo(qtbot) -> None:
    dialog = FirstRunDialog(AppSettings(), list_devices=two_devices, platform="linux")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.picker.listing)
    pages = [dialog.page]
    for _ in range(3):
        if dialog.page == "devices":
            dialog.picker.set_customer_device(MONITOR.id)
        dialog.next_button.click()
        pages.append(dialog.page)
    assert pages == ["welcome", "devices", "hearing", "done"]
    assert_unique_mnemonics(dialog)
    assert dialog.next_button.text() == "&Finish" and not dialog.skip_button.isVisible()
    dialog.next_button.click()
    assert dialog.result() == QDialog.Accepted and dialog.wants_demo
    assert dialog.result_settings() == AppSettings(customer_device=MONITOR.id,
                                                   first_run_done=True)


def test_the_customer_audio_help_puts_this_platform_first() -> None:
    for platform, first in (("linux", "monitor"), ("win32", "Stereo Mix"),
                            ("darwin", "BlackHole")):
        text = customer_audio_help(platform)
        positions = {k: text.find(k) for k in ("monitor", "Stereo Mix", "BlackHole")}
        assert min(positions, key=positions.get) == first, platform
        assert "(this computer)" in text


# -- the level test --------------------------------------------------------------------------
def test_rms_dbfs() -> None:
    t = np.arange(16000) / 16000
    assert rms_dbfs(np.sin(2 * np.pi * 440 * t).astype(np.float32)) == pytest.approx(-3.01,
                                                                                     abs=0.05)
    assert rms_dbfs(np.zeros(100, np.float32)) == rms_dbfs(np.zeros(0, np.float32)) == -100.0


def test_a_device_that_cannot_be_opened_reports_one_line(qtbot) -> None:
    gone = InputDevice("portaudio:Gone", "Gone Headset", 1, 48000.0,
                       portaudio_name="no such device 1234")
    probe = LevelProbe(gone)
    with qtbot.waitSignal(probe.error, timeout=5000) as blocker:
        probe.start()
    assert "Gone Headset" in blocker.args[0] and "\n" not in blocker.args[0]
    assert not probe.running


@pytest.fixture(scope="module")
def null_sink():
    """A null sink on a running PulseAudio server (started here as CI does)."""
    ensure_pulse_server()
    name = f"ccprobe{os.getpid()}"
    module = load_null_sink(name)
    yield name
    unload_module(module)


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    t = np.arange(int(48000 * 4.0)) / 48000
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48000)
    return path  # -13.5 dBFS RMS


@pytest.mark.slow
def test_level_probe_hears_a_tone_through_a_null_sink(qtbot, null_sink, tone) -> None:
    device = find_device(f"pulse:{null_sink}.monitor", list_input_devices())
    probe = LevelProbe(device)
    levels: list[float] = []
    probe.level.connect(levels.append)
    with qtbot.waitSignal(probe.opened, timeout=5000):
        probe.start()
    qtbot.waitUntil(lambda: len(levels) >= 3, timeout=3000)
    assert max(levels) < -60  # a silent sink before the tone
    player = subprocess.Popen(["paplay", f"--device={null_sink}", str(tone)])
    try:
        qtbot.waitUntil(lambda: max(levels) > -40, timeout=5000)
        # A block that caught the tone's onset reads lower; a full one reads the tone.
        qtbot.waitUntil(lambda: max(levels) > -15, timeout=2000)
        assert max(levels) < -12
    finally:
        probe.stop()
        player.kill()
        player.wait()
    assert not probe.running


@pytest.mark.slow
def test_the_test_button_moves_the_meter(qtbot, null_sink, tone) -> None:
    dialog = open_dialog(qtbot, AppSettings(customer_device=f"pulse:{null_sink}.monitor"),
                         lister=list_input_devices)
    assert dialog.picker.customer_device() == f"pulse:{null_sink}.monitor"
    meter = dialog.picker.meter("customer")
    player = subprocess.Popen(["paplay", f"--device={null_sink}", str(tone)])
    try:
        dialog.picker.test_button("customer").click()
        assert meter.is_active
        qtbot.waitUntil(lambda: meter.level_db > -40, timeout=5000)
    finally:
        player.kill()
        player.wait()
    dialog.reject()  # closing the dialog ends the test
    assert not meter.is_active and not dialog.picker.test_button("customer").isChecked()
