"""Choosing the agent's microphone and the customer's audio, with a live level test each.

Shared by the settings dialog and the first-run setup so both say the same thing. The
device list is read on a Python thread (`pactl` and PortAudio's scan can take a second on
a PC with many devices), and a PC without PortAudio or devices still gets a usable widget:
the combos are disabled, the reason is shown, and the saved choices are kept as they were.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QHideEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from audio.devices import DeviceError, InputDevice, find_device, list_input_devices, pick_device
from desktop.window.level_probe import LevelProbe, start_audio_thread
from desktop.window.settings import NO_CUSTOMER
from desktop.window.theme import AGENT_COLOR, CUSTOMER_COLOR, FAIL_COLOR, MUTED_COLOR
from desktop.window.widgets.level_meter import LevelMeter, align_labels

__all__ = ["DevicePicker", "DeviceLister", "list_inputs_afresh", "LOOKING_TEXT", "STILL_WORKS_TEXT"]

DeviceLister = Callable[[], list[InputDevice]]


def list_inputs_afresh() -> list[InputDevice]:
    """The inputs as a person pressing Refresh means them: PortAudio's own list is read
    again if a headset was plugged in or out since the app started."""
    return list_input_devices(rescan=True)
LOOKING_TEXT = "Looking for devices…"
STILL_WORKS_TEXT = "Replay and scorecards still work."
_IDLE_TEXT = "press Test and speak"


class _Row:
    """One party: combo, Test toggle, level meter and a note under them."""

    def __init__(self, picker: DevicePicker, caption: str, texts: tuple[str, str],
                 meter_label: str, color: QColor, want_monitor: bool) -> None:
        self.want_monitor = want_monitor
        self.test_text, self.stop_text = texts
        self.label = QLabel(caption, picker)
        self.combo = QComboBox(picker)
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(28)
        self.combo.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.label.setBuddy(self.combo)
        self.test = QPushButton(self.test_text, picker)
        self.test.setCheckable(True)
        self.test.setToolTip("Open the device and show its level, to check it hears you")
        self.meter = LevelMeter(meter_label, color, picker, inactive_text=_IDLE_TEXT)
        self.meter.set_active(False)
        self.note = QLabel(picker)
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.probe: LevelProbe | None = None

    def set_note(self, text: str, error: bool = False) -> None:
        color = FAIL_COLOR if error else MUTED_COLOR
        self.note.setStyleSheet(f"color: {color.name()};")
        self.note.setText(text)
        self.note.setVisible(bool(text))


class DevicePicker(QWidget):
    """Two device choices ("" = automatic; the customer's may be "none") and their tests.

    Args:
        agent_device / customer_device: the saved ids (`AppSettings` values).
        list_devices: what lists the inputs (`audio.devices.list_input_devices`); it runs
            on a worker thread and may raise DeviceError.

    Signals:
        changed(): a choice changed.
        listed(bool): a listing finished (True: devices read; False: it failed).
    """

    changed = Signal()
    listed = Signal(bool)
    _list_done = Signal(int, object, str)  # request number, devices or None, error

    def __init__(self, agent_device: str = "", customer_device: str = "",
                 parent: QWidget | None = None, *,
                 list_devices: DeviceLister = list_inputs_afresh) -> None:
        super().__init__(parent)
        self._list_devices = list_devices
        self._devices: list[InputDevice] = []
        self._request = 0
        self._listing = True  # until the first listing (started below) reports
        self._error = ""
        self._agent = _Row(self, "&Microphone (you):", ("&Test", "&Stop"), "You",
                           AGENT_COLOR, False)
        self._customer = _Row(self, "&Customer's audio:", ("T&est", "St&op"), "Customer",
                              CUSTOMER_COLOR, True)
        align_labels(self._agent.meter, self._customer.meter)
        self._status = QLabel(self)
        self._status.setWordWrap(True)
        self._refresh = QPushButton("&Refresh devices", self)
        self._refresh.setToolTip("Read the list of inputs again (after plugging in a headset)")
        self._build_layout()
        self._fill(self._agent, agent_device)
        self._fill(self._customer, customer_device)
        for row in (self._agent, self._customer):
            row.combo.currentIndexChanged.connect(lambda _i, r=row: self._on_choice(r))
            row.test.toggled.connect(lambda on, r=row: self._on_test(r, on))
        self._refresh.clicked.connect(self.refresh)
        self._list_done.connect(self._on_listed)
        self.refresh()

    def _build_layout(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        r = 0
        for row in (self._agent, self._customer):
            grid.addWidget(row.label, r, 0)
            grid.addWidget(row.combo, r, 1)
            grid.addWidget(row.test, r, 2)
            grid.addWidget(row.meter, r + 1, 1, 1, 2)
            grid.addWidget(row.note, r + 2, 1, 1, 2)
            r += 3
        bottom = QHBoxLayout()
        bottom.addWidget(self._status, 1)
        bottom.addWidget(self._refresh, 0, Qt.AlignTop)
        grid.addLayout(bottom, r, 0, 1, 3)

    # -- values ----------------------------------------------------------------------------
    def agent_device(self) -> str:
        return str(self._agent.combo.currentData() or "")

    def customer_device(self) -> str:
        return str(self._customer.combo.currentData() or "")

    def set_agent_device(self, device_id: str) -> None:
        self._select(self._agent, device_id)

    def set_customer_device(self, device_id: str) -> None:
        self._select(self._customer, device_id)

    @property
    def listing(self) -> bool:
        """Devices are being read."""
        return self._listing

    @property
    def devices(self) -> list[InputDevice]:
        return list(self._devices)

    @property
    def error_text(self) -> str:
        """Why listing failed ("" when it did not)."""
        return self._error

    def meter(self, party: str) -> LevelMeter:
        """The level meter of "agent" or "customer" (for the page and tests)."""
        return (self._agent if party == "agent" else self._customer).meter

    def test_button(self, party: str) -> QPushButton:
        return (self._agent if party == "agent" else self._customer).test

    def combo(self, party: str) -> QComboBox:
        return (self._agent if party == "agent" else self._customer).combo

    # -- listing ---------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Read the device list again, on a worker thread."""
        self.stop_tests()
        self._request += 1
        self._listing = True
        self._status.setStyleSheet("")
        self._status.setText(LOOKING_TEXT)
        self._refresh.setEnabled(False)
        for row in (self._agent, self._customer):
            row.combo.setEnabled(False)
            row.test.setEnabled(False)
        start_audio_thread(self._run_list, self._request, name="list-devices")

    def _run_list(self, request: int) -> None:
        try:
            devices, message = list(self._list_devices()), ""
        except DeviceError as exc:
            devices, message = None, str(exc)
        except Exception as exc:  # noqa: BLE001 - a broken driver must not hang the dialog
            devices, message = None, f"cannot list audio devices: {exc}"
        try:
            self._list_done.emit(request, devices, message)
        except RuntimeError:  # the picker was closed meanwhile
            pass

    @Slot(int, object, str)
    def _on_listed(self, request: int, devices: list[InputDevice] | None,
                   message: str) -> None:
        if request != self._request:
            return
        self._listing = False
        self._refresh.setEnabled(True)
        self._error = message if devices is None else ""
        self._devices = devices or []
        ok = devices is not None
        for row in (self._agent, self._customer):
            self._fill(row, str(row.combo.currentData() or ""))
            row.combo.setEnabled(ok)
        if not ok:
            self._status.setStyleSheet(f"color: {FAIL_COLOR.name()};")
            still = "" if STILL_WORKS_TEXT.lower() in message.lower() else f" {STILL_WORKS_TEXT}"
            self._status.setText(f"{message.rstrip('.')}.{still}")
        elif not self._devices:
            self._status.setStyleSheet(f"color: {FAIL_COLOR.name()};")
            self._status.setText(f"No audio inputs found. Plug in a headset and press "
                                 f"Refresh. {STILL_WORKS_TEXT}")
        else:
            self._status.setStyleSheet(f"color: {MUTED_COLOR.name()};")
            self._status.setText(f"{len(self._devices)} inputs found.")
        for row in (self._agent, self._customer):
            row.meter.set_active(False, _IDLE_TEXT if ok else "no audio input")
        self._update_rows()
        self.listed.emit(ok)

    def _fill(self, row: _Row, selected: str) -> None:
        """Refill a combo from the device list, keeping `selected` even if it is absent."""
        combo = row.combo
        combo.blockSignals(True)
        combo.clear()
        if row.want_monitor:
            combo.addItem("None (coach my voice only)", NO_CUSTOMER)
            combo.addItem("Automatic (first monitor input)", "")
        else:
            combo.addItem("Automatic (first microphone)", "")
        # The likely choices first: microphones for the agent, monitors for the customer.
        ordered = sorted(self._devices, key=lambda d: d.is_monitor != row.want_monitor)
        if ordered:
            combo.insertSeparator(combo.count())
        for dev in ordered:
            combo.addItem(dev.label, dev.id)
            combo.setItemData(combo.count() - 1, dev.id, Qt.ToolTipRole)
        index = combo.findData(selected)
        if index < 0 and selected:
            known = self._known(selected)
            if known is not None:
                index = combo.findData(known.id)
            else:
                absent = "" if self._listing or self._error else " (not found)"
                combo.addItem(f"{selected}{absent}", selected)
                index = combo.count() - 1
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)

    def _known(self, device_id: str) -> InputDevice | None:
        try:
            return find_device(device_id, self._devices) if self._devices else None
        except DeviceError:
            return None

    def _select(self, row: _Row, device_id: str) -> None:
        index = row.combo.findData(device_id)
        if index < 0:
            self._fill(row, device_id)
        else:
            row.combo.setCurrentIndex(index)

    def _resolve(self, row: _Row) -> InputDevice | None:
        """The device a row's choice means now (automatic resolved), or None."""
        choice = str(row.combo.currentData() or "")
        if choice == NO_CUSTOMER and row.want_monitor:
            return None
        if choice:
            return self._known(choice)
        try:
            return pick_device(None, self._devices, want_monitor=row.want_monitor)
        except DeviceError:
            return None

    def _update_rows(self) -> None:
        for row in (self._agent, self._customer):
            choice = str(row.combo.currentData() or "")
            device = self._resolve(row)
            usable = not self._listing and not self._error and device is not None
            row.test.setEnabled(usable)
            if self._listing or self._error:
                row.set_note("")
            elif row.want_monitor and choice == NO_CUSTOMER:
                row.set_note("The coach hears only you: interruptions and the customer's "
                             "tone are not measured.")
            elif device is None and choice:
                row.set_note("Not connected now; the coach looks for it when a call starts.",
                             error=True)
            elif device is None:
                kind = "monitor input" if row.want_monitor else "microphone"
                row.set_note(f"No {kind} found; choose one from the list.", error=True)
            elif not choice:
                row.set_note(f"Now: {device.label}")
            else:
                row.set_note("")

    # -- level tests -----------------------------------------------------------------------
    def _on_choice(self, row: _Row) -> None:
        was_testing = row.test.isChecked()
        self._stop(row)
        self._update_rows()
        if was_testing and row.test.isEnabled():
            row.test.setChecked(True)
        self.changed.emit()

    def _on_test(self, row: _Row, on: bool) -> None:
        if not on:
            self._stop(row)
            return
        device = self._resolve(row)
        if device is None:
            row.test.setChecked(False)
            return
        row.test.setText(row.stop_text)
        row.meter.set_active(True)
        row.set_note(f"Opening {device.label}…")
        probe = row.probe = LevelProbe(device, self)
        probe.level.connect(row.meter.set_level)
        probe.opened.connect(lambda: row.set_note(f"Listening to {device.label}."))
        probe.error.connect(lambda message: self._on_probe_error(row, message))
        probe.start()

    def _on_probe_error(self, row: _Row, message: str) -> None:
        self._stop(row)
        row.set_note(message, error=True)

    def _stop(self, row: _Row) -> None:
        probe, row.probe = row.probe, None
        if probe is not None:
            probe.stop()
            probe.deleteLater()
        row.test.blockSignals(True)
        row.test.setChecked(False)
        row.test.blockSignals(False)
        row.test.setText(row.test_text)
        row.meter.set_active(False, _IDLE_TEXT)
        if not self._listing:
            self._update_rows()

    def stop_tests(self) -> None:
        """Close any device opened for a level test (the dialog closes or the page changes)."""
        for row in (self._agent, self._customer):
            if row.probe is not None:
                self._stop(row)

    def hideEvent(self, event: QHideEvent) -> None:
        self.stop_tests()
        super().hideEvent(event)
