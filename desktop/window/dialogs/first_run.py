"""The first-run setup: what callcoach does, which devices to use, how to hear the customer.

Hearing the customer is the step people get stuck on (the softphone's output has to
become an input), so it gets a page of its own in plain words, with this computer's way
first. Every page can be skipped, and a PC without PortAudio or devices still gets
through: the device page says why live coaching is off, and replay works regardless.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.window.dialogs.device_picker import DeviceLister, DevicePicker, list_inputs_afresh
from desktop.window.settings import AppSettings
from desktop.window.theme import MUTED_COLOR

__all__ = ["FirstRunDialog", "PAGES", "customer_audio_help"]

PAGES = ("welcome", "devices", "hearing", "done")

_WELCOME = """
<p>callcoach sits beside your softphone. It listens to your microphone and to the
customer, and shows a short prompt when it helps: <i>Listen</i>, <i>Lower your voice</i>,
<i>Apologize</i>, <i>Summarize</i>, <i>Tell them what happens next</i>.
After each call you get a scorecard; trainers can replay recorded calls.</p>
<p><b>Nothing leaves this computer.</b> Speech is transcribed here, by a model that ships
with the app. There is no account, no cloud and no network needed.</p>
<p>Setup takes a minute: choose your microphone and where the customer's voice comes
from. You can skip it and change everything later in Settings.</p>
"""

_DEVICES = """Choose your headset's microphone and the input that carries the customer's
voice. Press <b>Test</b> and speak (or play something in the softphone): the bar should
move. Not sure what the customer's audio is? The next page explains."""

_ROUTES = {
    "linux": ("Linux (PulseAudio or PipeWire)", """
<p>Every output device has a <b>monitor</b>: an input that hears what the output plays.
In <i>Customer's audio</i>, choose the monitor of the output your softphone uses (it is
listed as “Monitor of …” or ends in “(what it plays)”). <i>Automatic</i> takes the first
monitor, which is right when there is only one output.</p>"""),
    "win32": ("Windows", """
<p>Windows needs a recording device that carries the softphone's sound. Either:</p>
<ul><li><b>Stereo Mix</b>: in the Sound control panel, on the Recording tab, right-click,
tick <i>Show Disabled Devices</i>, and enable Stereo Mix; choose it here. (Not every sound
card has it, and it hears every sound the PC plays.)</li>
<li><b>A virtual cable</b> such as VB-CABLE: install it, set the softphone's speaker to
<i>CABLE Input</i>, and choose <i>CABLE Output</i> here. To keep hearing the customer, turn
on <i>Listen to this device</i> for CABLE Output (Recording tab, Properties, Listen).</li>
</ul>"""),
    "darwin": ("macOS", """
<p>Install <b>BlackHole</b> (2ch). In Audio MIDI Setup, create a <i>Multi-Output
Device</i> of your headset and BlackHole, and make it the softphone's speaker. Then choose
<i>BlackHole 2ch</i> here as the customer's audio.</p>"""),
}
_NO_ROUTE = """<p><b>No way to hear the customer?</b> Choose <i>None (coach my voice
only)</i>: the coach still helps with your loudness, pace and words; it just cannot tell
when you talk over the customer. A headset adapter that puts you on one channel and the
customer on the other also works.</p>"""

_DONE = """<p>Start a call from the Live page when your softphone
rings; the prompts appear there and in the compact strip.</p>
<p>The demo call is a short recorded call played through the coach, to see what the
prompts look like before a real one.</p>"""


def _platform_key(platform: str) -> str:
    if platform.startswith("win"):
        return "win32"
    if platform == "darwin":
        return "darwin"
    return "linux"


def customer_audio_help(platform: str = sys.platform) -> str:
    """The how-to-hear-the-customer text (HTML), this platform's route first."""
    first = _platform_key(platform)
    order = [first] + [k for k in _ROUTES if k != first]
    parts = []
    for i, key in enumerate(order):
        title, body = _ROUTES[key]
        suffix = " (this computer)" if i == 0 else ""
        if i == 1:
            parts.append(f"<p style='color:{MUTED_COLOR.name()}'>On other systems:</p>")
        parts.append(f"<h4>{title}{suffix}</h4>{body}")
    return "".join(parts[:1]) + _NO_ROUTE + "".join(parts[1:])


def _text(html: str, parent: QWidget) -> QLabel:
    label = QLabel(html, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.RichText)
    label.setAlignment(Qt.AlignTop | Qt.AlignLeft)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


class FirstRunDialog(QDialog):
    """Four short pages: welcome, devices, hearing the customer, try the demo.

    Args:
        settings: the current preferences (the device choices start from them).
        list_devices: lists the audio inputs on a worker thread (may raise DeviceError).
        platform: whose how-to comes first (`sys.platform` by default).
        page: the page to open on, one of `PAGES` ("hearing" for the Help menu).

    Whatever way it closes (Finish, Skip, the window's close button),
    `result_settings()` has `first_run_done=True`, so the caller can always save it.
    """

    def __init__(self, settings: AppSettings, parent: QWidget | None = None, *,
                 list_devices: DeviceLister = list_inputs_afresh,
                 platform: str = sys.platform, page: str = "welcome") -> None:
        super().__init__(parent)
        self.setWindowTitle("Set up callcoach")
        self._settings = settings
        self._skipped = False
        self._finished = False

        self.picker = DevicePicker(settings.agent_device, settings.customer_device, self,
                                   list_devices=list_devices)
        self.demo_check = QCheckBox("Try the &demo call now", self)
        self.demo_check.setChecked(True)
        self._stack = QStackedWidget(self)
        for title, body in (("Welcome to callcoach", self._page(_text(_WELCOME, self))),
                            ("Your microphone and the customer's audio",
                             self._page(_text(_DEVICES, self), self.picker)),
                            ("Hearing the customer", self._scroll(customer_audio_help(
                                platform))),
                            ("Ready to go", self._page(_text(_DONE, self), self.demo_check))):
            body.setProperty("title", title)
            self._stack.addWidget(body)

        self._title = QLabel(self)
        font = self._title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self._title.setFont(font)
        self._step = QLabel(self)
        self._step.setStyleSheet(f"color: {MUTED_COLOR.name()};")

        self.skip_button = QPushButton("S&kip setup", self)
        self.skip_button.setToolTip("Close this and use the defaults; Help > Setup "
                                    "assistant opens it again")
        self.back_button = QPushButton("&Back", self)
        self.next_button = QPushButton("&Next", self)
        self.next_button.setDefault(True)
        self.skip_button.clicked.connect(self.skip)
        self.back_button.clicked.connect(lambda: self._go(self._stack.currentIndex() - 1))
        self.next_button.clicked.connect(self._next)

        header = QHBoxLayout()
        header.addWidget(self._title, 1)
        header.addWidget(self._step, 0, Qt.AlignBottom)
        buttons = QHBoxLayout()
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self._stack, 1)
        layout.addLayout(buttons)
        self.resize(640, 460)
        self._go(PAGES.index(page) if page in PAGES else 0)

    def _page(self, *widgets: QWidget) -> QWidget:
        page = QWidget(self)
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 8, 0, 0)
        for w in widgets:
            column.addWidget(w)
        column.addStretch(1)
        return page

    def _scroll(self, html: str) -> QScrollArea:
        """A long text page scrolls rather than stretching the dialog."""
        area = QScrollArea(self)
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.NoFrame)
        area.setWidget(self._page(_text(html, area)))
        return area

    # -- navigation ------------------------------------------------------------------------
    @property
    def page(self) -> str:
        """The name of the page shown (one of `PAGES`)."""
        return PAGES[self._stack.currentIndex()]

    def _go(self, index: int) -> None:
        index = max(0, min(index, self._stack.count() - 1))
        self._stack.setCurrentIndex(index)
        self._title.setText(self._stack.currentWidget().property("title"))
        self._step.setText(f"Step {index + 1} of {self._stack.count()}")
        self.back_button.setEnabled(index > 0)
        last = index == self._stack.count() - 1
        self.next_button.setText("&Finish" if last else "&Next")
        self.skip_button.setVisible(not last)
        self.next_button.setFocus()

    def _next(self) -> None:
        if self._stack.currentIndex() == self._stack.count() - 1:
            self._finished = True
            self.accept()
        else:
            self._go(self._stack.currentIndex() + 1)

    def skip(self) -> None:
        """Close now; the device choices made so far are kept, no demo is started."""
        self._skipped = True
        self.accept()

    # -- results ---------------------------------------------------------------------------
    @property
    def skipped(self) -> bool:
        return self._skipped

    @property
    def wants_demo(self) -> bool:
        """Finished with "Try the demo call" ticked."""
        return self._finished and self.demo_check.isChecked()

    def result_settings(self) -> AppSettings:
        """The settings with the chosen devices and `first_run_done=True`."""
        return replace(self._settings, agent_device=self.picker.agent_device(),
                       customer_device=self.picker.customer_device(), first_run_done=True)

    def done(self, result: int) -> None:
        self.picker.stop_tests()
        super().done(result)
