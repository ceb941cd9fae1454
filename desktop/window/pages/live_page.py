"""The phone agent's page: start/end the call, the prompt card, meters, voice trace,
talk share and the rolling transcript.

Everything here is display. The call runs in the engine's own process, driven by
`LiveWorker`; this page asks it to begin and end and, ~30 times a second, paints what
`LiveWorker.snapshot()` gathered of what the engine sent. If the engine dies, the page
says so and what was kept, and the next call gets a new engine. The card follows the
engine's prompt policy, so the cooldowns and holds that decide what an agent sees are
the ones the replay shows.

Under the devices, one quiet line says how far the two devices' clocks differ once that
is measured: an agent (or the IT person they call) can see that the customer's audio is
kept in step, and is told when the difference is large enough to matter.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from audio.drift import DriftReport
from audio.recording import SAMPLE_RATE
from coaching.timeline import Event, Frame
from desktop.window.live_worker import LiveCallConfig, LiveSnapshot, LiveWorker
from desktop.window.theme import AGENT_COLOR, CUSTOMER_COLOR, MUTED_COLOR, URGENCY_COLORS
from desktop.window.widgets.compact_strip import CompactStrip
from desktop.window.widgets.level_meter import LevelMeter, align_labels
from desktop.window.widgets.prompt_card import IDLE_TEXT, PromptCard
from desktop.window.widgets.talk_share import TalkShareBar
from desktop.window.widgets.trace_plot import VoiceTracePlot
from desktop.window.widgets.transcript_view import TranscriptView, clock

__all__ = ["LivePage", "clock_status", "BIG_DRIFT_PPM"]

_TICK_MS = 33  # ~30 fps for meters; the card changes no faster than the policy allows
_BETWEEN_CALLS = "Press Start call when your call begins"
# Ordinary devices differ by tens of ppm, rarely past 200; past this, something is off.
BIG_DRIFT_PPM = 500.0


def clock_status(drift: DriftReport | None, rate: float = SAMPLE_RATE) -> tuple[str, str]:
    """(line, tooltip) about the two devices' clocks; ("", "") until measured, and with
    one device (nothing to say). Plain words on the line, the numbers in the tooltip."""
    if drift is None:
        return "", ""
    ppm = round(abs(drift.ppm))
    ms = abs(drift.adjusted_samples) / rate * 1000.0
    so_far = f"{ms:.0f} ms" if ms >= 1 else "under 1 ms"
    if ppm == 0:
        line = "Clocks: your device and the customer's keep the same time"
    else:
        line = (f"Clocks: customer device runs {ppm} ppm "
                f"{'fast' if drift.ppm > 0 else 'slow'}; corrected ({so_far} so far)")
    tip = ("Your device and the customer's each keep their own time. "
           f"The customer's runs {abs(drift.ppm):.0f} ppm (parts per million) "
           f"{'faster' if drift.ppm >= 0 else 'slower'} than yours: left alone, its "
           f"audio would slide {abs(drift.ppm) * 3.6e-3:.2f} s an hour away from yours and "
           "interruptions and reply times would be measured at the wrong moment. The "
           "coach drops or repeats single samples to keep the two together "
           f"({so_far} so far).\nAgainst this computer's clock: yours "
           f"{drift.agent_ppm:+.0f} ppm, the customer's {drift.customer_ppm:+.0f} ppm.")
    if abs(drift.ppm) > BIG_DRIFT_PPM:
        line += ", but the two sides may sound out of step"
        tip += ("\nThat is far more than devices usually differ by. If the cues about "
                "who spoke when seem wrong, try another device for the customer's side.")
    return line, tip


class LivePage(QWidget):
    """Signals: `callEnded(document, result)` (the window saves and shows the scorecard),
    `message(str)` for the status bar, `startRequested()` when Start is pressed (the
    window answers with `start_call(config)` built from the settings)."""

    callEnded = Signal(object)
    callCrashed = Signal(object)  # the history id of the call the engine's crash cut short
    message = Signal(str)
    startRequested = Signal()
    practiceRequested = Signal()

    def __init__(self, parent: QWidget | None = None,
                 transcriber_hook: Callable | None = None) -> None:
        super().__init__(parent)
        self.worker = LiveWorker(transcriber_hook)
        self.worker.started.connect(self._started)
        self.worker.failed.connect(self._failed)
        self.worker.event.connect(self._event)
        self.worker.fault.connect(self._fault)
        self.worker.ended.connect(self._ended)
        self.worker.crashed.connect(self._crashed)
        self.state = "idle"  # idle | starting | running | ending
        self.raised_db = 6.0
        self._talk = {"agent": 0.0, "customer": 0.0}
        self._snoozed: list[str] = []
        self.compact = CompactStrip()
        self.compact.expandRequested.connect(self.leave_compact)

        self.start_button = QPushButton("\u260e &Start call", objectName="live_start")
        self.start_button.setToolTip("Start or end the call (Ctrl+Return)")
        self.start_button.clicked.connect(self.toggle_call)
        self.timer_label = QLabel("0:00", objectName="live_timer")
        font = self.timer_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.timer_label.setFont(font)
        self.devices_label = QLabel("Not in a call", objectName="live_devices")
        self.devices_label.setWordWrap(True)
        self.clock_label = QLabel(objectName="live_clock")  # empty until measured
        self.clock_label.setWordWrap(True)
        small = self.clock_label.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.clock_label.setFont(small)
        self.clock_label.hide()
        self.practice_button = QPushButton("P&ractice with the demo call",
                                           objectName="live_practice")
        self.practice_button.setToolTip("Play the bundled demo call into the coach, as if it "
                                        "were a live call: no headset needed")
        self.practice_button.clicked.connect(self.practiceRequested)
        self.compact_button = QPushButton("Compact &mode", objectName="live_compact")
        self.compact_button.setToolTip("A small always-on-top strip (Ctrl+M)")
        self.compact_button.clicked.connect(self.enter_compact)
        top = QHBoxLayout()
        top.addWidget(self.start_button)
        top.addWidget(self.timer_label)
        who = QVBoxLayout()
        who.setSpacing(0)
        who.addWidget(self.devices_label)
        who.addWidget(self.clock_label)
        top.addLayout(who, 1)
        top.addWidget(self.practice_button)
        top.addWidget(self.compact_button)

        self.notice = QLabel(objectName="live_notice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.card = PromptCard()
        self.card.setObjectName("live_card")
        self.card.snoozeRequested.connect(self.snooze)
        self.card.set_idle_text(_BETWEEN_CALLS)
        self.snoozed_label = QLabel(objectName="live_snoozed")
        self.agent_meter = LevelMeter("You", AGENT_COLOR)
        self.customer_meter = LevelMeter("Customer", CUSTOMER_COLOR)
        align_labels(self.agent_meter, self.customer_meter)
        self.trace = VoiceTracePlot()
        self.trace.setObjectName("live_trace")
        self.talk_share = TalkShareBar()
        self.transcript = TranscriptView(follow_tail=True)
        self.transcript.setObjectName("live_transcript")
        self.backlog_label = QLabel(objectName="live_backlog")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.card)
        left_layout.addWidget(self.snoozed_label)
        left_layout.addWidget(self.agent_meter)
        left_layout.addWidget(self.customer_meter)
        left_layout.addWidget(self.trace, 1)
        left_layout.addWidget(self.talk_share)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel("<b>Transcript</b>"))
        right_layout.addWidget(self.transcript, 1)
        right_layout.addWidget(self.backlog_label)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(splitter, 1)

        self._tick = QTimer(self, interval=_TICK_MS)
        self._tick.timeout.connect(self.refresh)

    # -- call control ---------------------------------------------------------------------
    def toggle_call(self) -> None:
        if self.state == "idle":
            self.startRequested.emit()
        elif self.state == "running":
            self.end_call()

    def start_call(self, config: LiveCallConfig) -> None:
        """Ask the engine to open the devices and start; the page stays responsive (the
        engine reads the playbook: its patterns take 0.4 s to compile)."""
        if self.state != "idle":
            return
        self.state = "starting"
        self.start_button.setEnabled(False)
        self.practice_button.setEnabled(False)
        self.start_button.setText("Starting\u2026")
        self.devices_label.setText("Opening the audio devices\u2026")
        self._reset_view()
        self.worker.begin(config)

    def end_call(self) -> None:
        if self.state != "running":
            return
        self.state = "ending"
        self.start_button.setEnabled(False)
        self.start_button.setText("Ending\u2026")
        self.message.emit("Ending the call: transcribing the last words and scoring\u2026")
        self.worker.end()

    def _reset_view(self) -> None:
        self.transcript.clear()
        self.trace.clear()
        self.card.clear_prompt()
        self.compact.show_idle()
        self.agent_meter.reset()
        self.customer_meter.reset()
        self._talk = {"agent": 0.0, "customer": 0.0}
        self.talk_share.set_share(0.0, 0.0)
        self._snoozed = []
        self.snoozed_label.setText("")
        self.notice.hide()
        self.timer_label.setText("0:00")
        self._show_clock(None)

    def _started(self, agent_label: str, customer_label: str, raised_db: float) -> None:
        self.state = "running"
        self.raised_db = raised_db
        self.card.set_idle_text(IDLE_TEXT)
        self.start_button.setEnabled(True)
        self.start_button.setText("\u25a0 &End call")
        who = f"Mic: {agent_label}"
        who += f" \u00b7 Customer: {customer_label}" if customer_label else \
            " \u00b7 no customer source"
        self.devices_label.setText(who)
        self.customer_meter.set_active(bool(customer_label))
        self.compact.customer_meter.set_active(bool(customer_label))
        self._tick.start()
        self.message.emit("Call started")

    def _failed(self, message: str) -> None:
        self.state = "idle"
        self.start_button.setEnabled(True)
        self.practice_button.setEnabled(True)
        self.start_button.setText("\u260e &Start call")
        self.devices_label.setText("Not in a call")
        self._show_notice(f"The call could not start: {message}", error=True)
        self.message.emit(f"The call could not start: {message}")

    def _ended(self, document: dict | None) -> None:
        self._back_to_idle()
        if document is not None:
            self.callEnded.emit(document)

    def _crashed(self, message: str, call_id: int | None) -> None:
        """The engine died. Between calls that is a line in the status bar (a new one is
        starting); during a call, the agent is told what happened and what was kept."""
        in_call = self.state != "idle"
        self._back_to_idle()
        if not in_call:
            self.message.emit(f"{message[:1].upper()}{message[1:]}; a new one is starting.")
            return
        kept = ("What was said until then is saved in Scorecards. " if call_id is not None
                else "")
        text = (f"{message[:1].upper()}{message[1:]}. {kept}A new engine is starting: "
                "press Start call to go on coaching this call.")
        self._show_notice(text, error=True)
        self.message.emit(text)
        self.callCrashed.emit(call_id)

    def _back_to_idle(self) -> None:
        self.refresh()
        self._tick.stop()
        self.agent_meter.reset()  # no call, no level
        self.customer_meter.reset()
        self.state = "idle"
        self.start_button.setEnabled(True)
        self.practice_button.setEnabled(True)
        self.start_button.setText("\u260e &Start call")
        self.devices_label.setText("Not in a call")
        self._show_clock(None)
        self.card.set_idle_text(_BETWEEN_CALLS)
        self.card.clear_prompt()
        self.compact.show_idle()

    # -- what the engine says -------------------------------------------------------------
    def _event(self, event: Event) -> None:
        self.transcript.add_event(event)

    def _fault(self, message: str, fatal: bool) -> None:
        self._show_notice(message, error=fatal)
        self.message.emit(message)

    def _show_notice(self, message: str, error: bool) -> None:
        color = "#c0392b" if error else "#8a6d1a"
        self.notice.setText(f"<span style='color:{color}'>{message}</span>")
        self.notice.show()

    def snooze(self, kind: str) -> None:
        """No more of this prompt for the rest of the call (the agent chose)."""
        self.worker.snooze(kind)
        if kind not in self._snoozed:
            self._snoozed.append(kind)
        names = ", ".join(k.replace("prompt_", "").replace("_", " ") for k in self._snoozed)
        self.snoozed_label.setText(f"Snoozed for this call: {names}")

    # -- painting -------------------------------------------------------------------------
    def refresh(self) -> None:
        """One tick: copy what is new from the worker and show it."""
        snap = self.worker.snapshot()
        if snap is not None:
            self.show_snapshot(snap)

    def show_snapshot(self, snap: LiveSnapshot) -> None:
        now = time.monotonic()
        self._feed(snap.agent_frames, self.agent_meter, self.compact.agent_meter, now,
                   "agent")
        self._feed(snap.customer_frames, self.customer_meter, self.compact.customer_meter,
                   now, "customer")
        for f in snap.agent_frames:
            self.trace.append(f.t, f.dbfs, f.pitch_hz)
        self.trace.set_baseline(snap.baseline_dbfs, self.raised_db)
        self.talk_share.set_share(self._talk["agent"], self._talk["customer"])
        for u in snap.utterances:
            self.transcript.add_utterance(u)
        self.timer_label.setText(clock(snap.call_time_s))
        self.backlog_label.setText(f"{snap.backlog} utterance(s) waiting for the transcript"
                                   if snap.backlog > 1 else "")
        self._show_prompt(snap.current_prompt)
        self._show_clock(snap.drift)

    def _show_clock(self, drift: DriftReport | None) -> None:
        line, tip = clock_status(drift)
        if (line, tip) == (self.clock_label.text(), self.clock_label.toolTip()):
            return  # the numbers move once a second at most; repaint only then
        color = URGENCY_COLORS["soon"] if drift is not None and \
            abs(drift.ppm) > BIG_DRIFT_PPM else MUTED_COLOR
        style = f"color: {color.name()};"
        if self.clock_label.styleSheet() != style:
            self.clock_label.setStyleSheet(style)
        self.clock_label.setText(line)
        self.clock_label.setToolTip(tip)
        self.clock_label.setVisible(bool(line))

    def _feed(self, frames: tuple[Frame, ...], meter: LevelMeter, small: LevelMeter,
              now: float, speaker: str) -> None:
        if not frames:
            return
        level = max(f.dbfs for f in frames[-3:])
        meter.set_level(level, now)
        small.set_level(level, now)
        hop = frames[1].t - frames[0].t if len(frames) > 1 else 0.016
        self._talk[speaker] += sum(hop for f in frames if f.in_turn)

    def _show_prompt(self, event: Event | None) -> None:
        if event is None or not event.prompt or event.kind in self._snoozed:
            if not self.card.is_idle:
                self.card.clear_prompt()
                self.compact.show_idle()
            return
        self.card.show_prompt(event.kind, event.prompt, event.reason, event.priority)
        self.compact.show_prompt(event.prompt, event.reason, event.priority)

    # -- compact mode ---------------------------------------------------------------------
    def enter_compact(self) -> None:
        self.window().hide()
        self.compact.show()
        self.compact.raise_()

    def leave_compact(self) -> None:
        self.compact.hide()
        window = self.window()
        window.show()
        window.raise_()
        window.activateWindow()

    def shutdown(self) -> None:
        """The window closes: end a running call, wait until it is saved, stop the
        engine."""
        self.worker.shutdown()
        self._tick.stop()
        self.compact.close()

