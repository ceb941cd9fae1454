"""The Settings dialog: devices, speech model, recordings, playbook, privacy, appearance.

It edits a copy of `AppSettings` and hands back a new one; the caller saves it and
applies it (a running call keeps the settings it started with). Fields that point at
files are checked as they are typed, with the real loaders (`resolve_model`,
`load_playbook`) on a worker thread (the first model check imports faster-whisper, a few
hundred ms), and OK stays disabled while one is wrong or still being checked, so a
setting that cannot work is never saved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from audio.devices import list_output_devices
from audio.model_location import BUNDLED_NAME, resolve_model
from coaching.playbook import load_playbook
from desktop.window.dialogs.device_picker import DeviceLister, DevicePicker, list_inputs_afresh
from desktop.window.level_probe import start_audio_thread
from desktop.window.settings import AGENT_CHANNELS, THEMES, AppSettings
from desktop.window.theme import FAIL_COLOR, MUTED_COLOR

__all__ = ["SettingsDialog", "BUNDLED_MODEL_TEXT", "check_model", "check_playbook"]

BUNDLED_MODEL_TEXT = f"{BUNDLED_NAME} (bundled, works offline)"
# Sizes worth offering on an agent's CPU; any other size name or a folder can be typed.
_SUGGESTED_SIZES = ("base.en", "small.en", "base", "small")
_THEME_TEXT = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
_CHANNEL_TEXT = {"left": "Left (the customer on the right)",
                 "right": "Right (the customer on the left)"}
_CHECK_DELAY_MS = 300  # wait for a pause in typing before checking a path


def check_model(value: str) -> str:
    """A one-line note on a model choice ("" = bundled). Raises ModelError if unusable."""
    spec = resolve_model(value or None)
    if spec.bundled:
        return "Ships with callcoach: works offline, fastest on a modest PC."
    if Path(spec.source).is_dir():
        return "A model folder on this PC: works offline."
    return f"{spec.name} is downloaded when first used (the network is needed that once)."


def check_playbook(value: str) -> str:
    """A one-line note on a playbook file ("" = bundled). Raises PlaybookError if unusable."""
    load_playbook(value or None)
    return "The bundled playbook." if not value else "Playbook read without errors."


class _FieldCheck(QObject):
    """Checks one field on a worker thread after a pause in typing; only the latest counts.

    Signals:
        result(str, bool): the note to show and whether the value is usable.
    """

    result = Signal(str, bool)
    _done = Signal(int, str, bool)

    def __init__(self, check: Callable[[str], str], parent: QObject) -> None:
        super().__init__(parent)
        self._check = check
        self._request = 0
        self._value = ""
        self.pending = False
        self.ok = True
        self._timer = QTimer(self, singleShot=True, interval=_CHECK_DELAY_MS)
        self._timer.timeout.connect(self._start)
        self._done.connect(self._on_done)

    def request(self, value: str, at_once: bool = False) -> None:
        self._value = value
        self._request += 1
        self.pending = True
        if at_once:
            self._timer.stop()
            self._start()
        else:
            self._timer.start()

    @Slot()
    def _start(self) -> None:
        threading.Thread(target=self._run, args=(self._request, self._value),
                         name="settings-check", daemon=True).start()

    def _run(self, request: int, value: str) -> None:
        try:
            note, ok = self._check(value), True
        except Exception as exc:  # noqa: BLE001 - ModelError, PlaybookError, OSError...
            note, ok = str(exc), False
        try:
            self._done.emit(request, note, ok)
        except RuntimeError:  # the dialog closed meanwhile
            pass

    @Slot(int, str, bool)
    def _on_done(self, request: int, note: str, ok: bool) -> None:
        if request != self._request:
            return
        self.pending, self.ok = False, ok
        self.result.emit(note, ok)


class _OutputLister(QObject):
    """The output devices, listed off the GUI thread (PortAudio can be slow to answer)."""

    listed = Signal(list)

    def start(self) -> None:
        start_audio_thread(lambda: self.listed.emit(list_output_devices()),
                           name="callcoach-outputs")


def _note_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def _field_box(box: QGroupBox, label: QLabel, field: QWidget, browse: QPushButton,
               note: QLabel) -> QGroupBox:
    """label, field and Browse… on a line, the field's note wrapped under them.

    A plain box layout, not a form: a form layout under-sizes a wrapped label whose text
    changes after the dialog was laid out, and a long error would be cut off.
    """
    row = QHBoxLayout()
    row.addWidget(label)
    row.addWidget(field, 1)
    row.addWidget(browse)
    column = QVBoxLayout(box)
    column.addLayout(row)
    column.addWidget(note)
    return box


def _set_note(label: QLabel, text: str, ok: bool) -> None:
    label.setStyleSheet(f"color: {(MUTED_COLOR if ok else FAIL_COLOR).name()};")
    label.setText(text)


class SettingsDialog(QDialog):
    """Edits every preference; `result_settings()` is the edited copy.

    Args:
        settings: the current preferences.
        list_devices: lists the audio inputs (runs on a worker thread; may raise
            DeviceError, as on a PC without PortAudio).
    """

    def __init__(self, settings: AppSettings, parent: QWidget | None = None, *,
                 list_devices: DeviceLister = list_inputs_afresh) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings - callcoach")
        self._settings = settings.validated()
        s = self._settings
        self.picker = DevicePicker(s.agent_device, s.customer_device, self,
                                   list_devices=list_devices)
        audio = QGroupBox("Audio", self)
        QVBoxLayout(audio).addWidget(self.picker)

        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(self._model_group(s))
        left.addWidget(self._playbook_group(s))
        left.addStretch(1)
        right.addWidget(self._recordings_group(s))
        right.addWidget(self._privacy_group(s))
        right.addWidget(self._appearance_group(s))
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)

        self._buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.ok_button = self._buttons.button(QDialogButtonBox.Ok)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(audio)
        layout.addLayout(columns)
        layout.addWidget(self._buttons)

        self._model_check = _FieldCheck(check_model, self)
        self._model_check.result.connect(lambda note, ok: self._on_checked(
            self.model_note, note, ok))
        self._playbook_check = _FieldCheck(check_playbook, self)
        self._playbook_check.result.connect(lambda note, ok: self._on_checked(
            self.playbook_note, note, ok))
        self.model_combo.editTextChanged.connect(lambda _t: self._edited(self._model_check,
                                                                         self.model_value()))
        self.playbook_edit.textChanged.connect(lambda _t: self._edited(self._playbook_check,
                                                                       self.playbook_value()))
        self._model_check.request(self.model_value(), at_once=True)
        self._playbook_check.request(self.playbook_value(), at_once=True)
        self._update_ok()

    # -- sections --------------------------------------------------------------------------
    def _model_group(self, s: AppSettings) -> QGroupBox:
        box = QGroupBox("Speech model", self)
        self.model_combo = QComboBox(box)
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.NoInsert)
        self.model_combo.addItem(BUNDLED_MODEL_TEXT)
        self.model_combo.addItems(_SUGGESTED_SIZES)
        self.model_combo.setToolTip("The bundled model, a faster-whisper size name, or a "
                                    "folder holding a CTranslate2 Whisper model")
        bundled = s.model.strip() in ("", BUNDLED_NAME, "bundled")
        self.model_combo.setEditText(BUNDLED_MODEL_TEXT if bundled else s.model)
        browse = QPushButton("&Browse…", box)
        browse.setToolTip("Choose a model folder")
        browse.clicked.connect(self._browse_model)
        label = QLabel("M&odel:", box)
        label.setBuddy(self.model_combo)
        self.model_note = _note_label(box)
        return _field_box(box, label, self.model_combo, browse, self.model_note)

    def _playbook_group(self, s: AppSettings) -> QGroupBox:
        box = QGroupBox("Playbook", self)
        self.playbook_edit = QLineEdit(s.playbook_path, box)
        self.playbook_edit.setPlaceholderText("the bundled playbook")
        self.playbook_edit.setClearButtonEnabled(True)
        self.playbook_edit.setToolTip("The phrases and thresholds the coach uses (a TOML "
                                      "file); empty for the bundled one")
        browse = QPushButton("Bro&wse…", box)
        browse.setToolTip("Choose a playbook file")
        browse.clicked.connect(self._browse_playbook)
        label = QLabel("&File:", box)
        label.setBuddy(self.playbook_edit)
        self.playbook_note = _note_label(box)
        return _field_box(box, label, self.playbook_edit, browse, self.playbook_note)

    def _recordings_group(self, s: AppSettings) -> QGroupBox:
        box = QGroupBox("Recordings", self)
        self.channel_combo = QComboBox(box)
        for value in AGENT_CHANNELS:
            self.channel_combo.addItem(_CHANNEL_TEXT[value], value)
        self.channel_combo.setCurrentIndex(self.channel_combo.findData(s.agent_channel))
        self.channel_combo.setToolTip("Which side of a stereo call recording is the agent")
        label = QLabel("&Agent channel:", box)
        label.setBuddy(self.channel_combo)
        self.output_combo = QComboBox(box)
        self.output_combo.addItem("System default", "")
        if s.output_device:  # kept even while it is not plugged in
            self.output_combo.addItem(s.output_device, s.output_device)
            self.output_combo.setCurrentIndex(1)
        self.output_combo.setToolTip("Where replayed calls play (agent left, customer right)")
        out_label = QLabel("Replay &plays on:", box)
        out_label.setBuddy(self.output_combo)
        form = QFormLayout(box)
        form.addRow(label, self.channel_combo)
        form.addRow(out_label, self.output_combo)
        self._outputs = _OutputLister(self)
        self._outputs.listed.connect(self._add_outputs)
        self._outputs.start()
        return box

    def _add_outputs(self, names: list) -> None:
        for name in names:
            if self.output_combo.findData(name) < 0:
                self.output_combo.addItem(name, name)

    def _privacy_group(self, s: AppSettings) -> QGroupBox:
        box = QGroupBox("Privacy", self)
        self.keep_audio_check = QCheckBox("&Keep each live call's audio", box)
        self.keep_audio_check.setChecked(s.keep_audio)
        self.keep_audio_check.setToolTip("Saved on this PC with the call's history entry, "
                                         "to replay it later; never sent anywhere")
        self.keep_days_spin = QSpinBox(box)
        self.keep_days_spin.setRange(1, 3650)
        self.keep_days_spin.setSuffix(" days")
        self.keep_days_spin.setValue(s.keep_audio_days)
        label = QLabel("&Delete it after:", box)
        label.setBuddy(self.keep_days_spin)
        self.keep_audio_check.toggled.connect(self.keep_days_spin.setEnabled)
        self.keep_audio_check.toggled.connect(label.setEnabled)
        self.keep_days_spin.setEnabled(s.keep_audio)
        label.setEnabled(s.keep_audio)
        form = QFormLayout(box)
        form.addRow(self.keep_audio_check)
        form.addRow(label, self.keep_days_spin)
        return box

    def _appearance_group(self, s: AppSettings) -> QGroupBox:
        box = QGroupBox("Appearance", self)
        self.theme_combo = QComboBox(box)
        for value in THEMES:
            self.theme_combo.addItem(_THEME_TEXT[value], value)
        self.theme_combo.setCurrentIndex(self.theme_combo.findData(s.theme))
        label = QLabel("T&heme:", box)
        label.setBuddy(self.theme_combo)
        QFormLayout(box).addRow(label, self.theme_combo)
        return box

    # -- values ----------------------------------------------------------------------------
    def model_value(self) -> str:
        """The model field as a settings value ("" = bundled)."""
        text = self.model_combo.currentText().strip()
        return "" if text in (BUNDLED_MODEL_TEXT, BUNDLED_NAME, "bundled") else text

    def playbook_value(self) -> str:
        return self.playbook_edit.text().strip()

    @property
    def checking(self) -> bool:
        """A typed path is still being checked (OK is disabled until it is done)."""
        return self._model_check.pending or self._playbook_check.pending

    def result_settings(self) -> AppSettings:
        """The edited preferences (the fields this dialog does not show are kept)."""
        return replace(
            self._settings,
            agent_device=self.picker.agent_device(),
            customer_device=self.picker.customer_device(),
            model=self.model_value(),
            agent_channel=str(self.channel_combo.currentData()),
            playbook_path=self.playbook_value(),
            keep_audio=self.keep_audio_check.isChecked(),
            keep_audio_days=self.keep_days_spin.value(),
            theme=str(self.theme_combo.currentData()),
            output_device=str(self.output_combo.currentData() or ""),
        ).validated()

    # -- behaviour -------------------------------------------------------------------------
    def _on_checked(self, label: QLabel, note: str, ok: bool) -> None:
        _set_note(label, note, ok)
        self._update_ok()

    def _update_ok(self) -> None:
        ok = self._model_check.ok and self._playbook_check.ok
        self.ok_button.setEnabled(ok and not self.checking)

    def _edited(self, check: _FieldCheck, value: str) -> None:
        check.request(value)
        self._update_ok()

    def _browse_model(self) -> None:
        start = self.model_value() if Path(self.model_value()).is_dir() else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose a Whisper model folder", start)
        if folder:
            self.model_combo.setEditText(folder)

    def _browse_playbook(self) -> None:
        start = self.playbook_value() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Choose a playbook", start,
                                              "Playbooks (*.toml);;All files (*)")
        if path:
            self.playbook_edit.setText(path)

    def done(self, result: int) -> None:
        self.picker.stop_tests()
        super().done(result)
