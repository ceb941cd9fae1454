"""The trainer's "what if": the playbook's thresholds on sliders.

Moving a slider builds a new playbook with that threshold changed and asks for the rules
to be re-run on the already analysed call (no audio work, no Whisper), so the trainer
sees at once which cues an agent would have got with other settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from coaching.playbook import Playbook

__all__ = ["WhatIfPanel", "KNOBS", "Knob"]


@dataclass(frozen=True)
class Knob:
    """One threshold a trainer can move: its playbook name, label, range and unit."""

    name: str
    label: str
    lo: float
    hi: float
    step: float
    unit: str


KNOBS = (
    Knob("raised_voice_db", "&Raised voice over own level", 2.0, 15.0, 0.5, "dB"),
    Knob("raised_voice_min_s", "Raised voice lasts", 0.5, 5.0, 0.25, "s"),
    Knob("interruption_min_talk_s", "&Interruption: talks over them for", 0.2, 3.0, 0.1, "s"),
    Knob("backchannel_max_s", "&Backchannel (\u201cmm-hmm\u201d) up to", 0.2, 2.0, 0.1, "s"),
    Knob("dead_air_s", "&Dead air after", 3.0, 30.0, 1.0, "s"),
    Knob("slow_response_s", "&Slow answer after", 1.0, 10.0, 0.5, "s"),
    Knob("long_monologue_s", "&Monologue longer than", 15.0, 120.0, 5.0, "s"),
    Knob("fast_speech_wpm", "&Fast speech over", 120.0, 260.0, 5.0, "wpm"),
)

_DEBOUNCE_MS = 120  # while a slider is dragged, re-run at most this often


class WhatIfPanel(QWidget):
    """Emits `playbookChanged(Playbook)` (debounced) when a threshold moves."""

    playbookChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base: Playbook | None = None
        self._sliders: dict[str, QSlider] = {}
        self._values: dict[str, QLabel] = {}
        self._timer = QTimer(self, singleShot=True, interval=_DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit)

        title = QLabel("<b>What if the thresholds were different?</b>")
        hint = QLabel("Move a slider: the cues on the timeline are re-computed from the "
                      "analysed call at once.")
        hint.setWordWrap(True)
        hint.setForegroundRole(hint.foregroundRole())
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        for knob in KNOBS:
            slider = QSlider(Qt.Horizontal, objectName=f"whatif_{knob.name}")
            slider.setRange(0, round((knob.hi - knob.lo) / knob.step))
            slider.setAccessibleName(knob.label.replace("&", ""))
            value = QLabel(minimumWidth=self.fontMetrics().horizontalAdvance("000.0 wpm"))
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            row = QHBoxLayout()
            row.addWidget(slider, 1)
            row.addWidget(value)
            label = QLabel(knob.label)
            label.setBuddy(slider)
            form.addRow(label, row)
            slider.valueChanged.connect(lambda _v, k=knob: self._moved(k))
            self._sliders[knob.name] = slider
            self._values[knob.name] = value
        self.reset_button = QPushButton("Reset to the &playbook", objectName="whatif_reset")
        self.reset_button.clicked.connect(self.reset)
        self.summary = QLabel(objectName="whatif_summary")
        self.summary.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(form)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.reset_button)
        layout.addLayout(bottom)
        layout.addStretch(1)
        self.setEnabled(False)

    # -- values ---------------------------------------------------------------------------
    def _knob_value(self, knob: Knob) -> float:
        return knob.lo + self._sliders[knob.name].value() * knob.step

    def _set_knob(self, knob: Knob, value: float) -> None:
        slider = self._sliders[knob.name]
        slider.blockSignals(True)
        slider.setValue(round((min(max(value, knob.lo), knob.hi) - knob.lo) / knob.step))
        slider.blockSignals(False)
        self._show_value(knob)

    def _show_value(self, knob: Knob) -> None:
        value = self._knob_value(knob)
        text = f"{value:g} {knob.unit}"
        base = getattr(self._base.thresholds, knob.name) if self._base else value
        changed = abs(value - base) > 1e-9
        self._values[knob.name].setText(f"<b>{text}</b>" if changed else text)

    def set_playbook(self, playbook: Playbook) -> None:
        """The playbook the call was analysed with: the sliders start at its values."""
        self._base = playbook
        for knob in KNOBS:
            self._set_knob(knob, getattr(playbook.thresholds, knob.name))
        self.summary.setText("")
        self.setEnabled(True)

    def set_value(self, name: str, value: float) -> None:
        """Move one knob as if by hand (keyboard users and tests)."""
        knob = next(k for k in KNOBS if k.name == name)
        self._sliders[name].setValue(round((value - knob.lo) / knob.step))

    def changes(self) -> dict[str, float]:
        """The thresholds that differ from the playbook's."""
        if self._base is None:
            return {}
        out = {}
        for knob in KNOBS:
            value = self._knob_value(knob)
            if abs(value - getattr(self._base.thresholds, knob.name)) > 1e-9:
                out[knob.name] = round(value, 4)
        return out

    def playbook(self) -> Playbook | None:
        if self._base is None:
            return None
        changes = self.changes()
        return self._base.with_thresholds(**changes) if changes else self._base

    # -- events ---------------------------------------------------------------------------
    def _moved(self, knob: Knob) -> None:
        self._show_value(knob)
        self._timer.start()

    def _emit(self) -> None:
        playbook = self.playbook()
        if playbook is not None:
            self.playbookChanged.emit(playbook)

    def reset(self) -> None:
        if self._base is not None:
            self.set_playbook(self._base)
            self.playbookChanged.emit(self._base)

    def show_result(self, before: int, after: int, changed: bool) -> None:
        """A line that says what the change did ("5 cues with the playbook, 3 now")."""
        if not changed:
            self.summary.setText(f"{after} cues with the playbook's thresholds.")
        else:
            self.summary.setText(f"{before} cues with the playbook's thresholds, "
                                 f"<b>{after}</b> with these.")
