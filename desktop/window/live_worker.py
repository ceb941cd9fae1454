"""The live call, driven from the window without ever blocking it.

Opening devices and ending a call (which transcribes what is pending and scores the
call) take from a few hundred ms to seconds, so they run on the worker's own QThread.
The engine's callbacks arrive on the capture worker thread and are turned into Qt
signals (queued to the GUI thread). The page reads meter levels with `snapshot()`, which
only copies a few numbers and list tails: no lock, no waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from audio.capture import CaptureFault
from audio.contract import event_to_dict
from audio.devices import DeviceError, list_input_devices, pick_device
from audio.drift import DriftReport
from audio.file_session import FileSession
from audio.live import LiveConfig
from audio.live_session import LiveSession, SessionConfig
from audio.recording import RecordingError
from audio.transcribe import Transcriber
from coaching.playbook import PlaybookError, load_playbook
from coaching.timeline import AGENT, CUSTOMER, Event, Frame, Utterance
from desktop.crash_log import log_exception
from desktop.history.live_recorder import LiveRecorder
from desktop.history.store import CallHistory, HistoryError
from desktop.window.settings import NO_CUSTOMER

__all__ = ["LiveCallConfig", "LiveSnapshot", "LiveWorker"]


@dataclass(frozen=True)
class LiveCallConfig:
    """What one call needs, frozen from the settings when the agent presses Start."""

    agent_device: str = ""
    customer_device: str = ""
    playbook_path: str = ""
    transcribe: bool = True
    record_to: str | None = None
    practice_file: str | None = None  # a recording played into the coach instead of devices
    practice_speed: float = 1.0  # x real time for the practice file
    agent_channel: str = "left"


@dataclass(frozen=True)
class LiveSnapshot:
    """What the live page paints on one tick."""

    call_time_s: float
    agent_frames: tuple[Frame, ...]  # new since the last snapshot
    customer_frames: tuple[Frame, ...]
    utterances: tuple[Utterance, ...]  # new since the last snapshot
    baseline_dbfs: float | None
    current_prompt: Event | None
    backlog: int
    drift: DriftReport | None = None  # two devices' clocks, once measured (~10 s in)


class LiveWorker(QObject):
    """Lives on its own QThread; the page calls `begin`/`end` through queued signals."""

    started = Signal(str, str)  # agent device label, customer label ("" when agent-only)
    event = Signal(object)  # Event, as it fires
    fault = Signal(str, bool)  # message, fatal
    ended = Signal(object, object)  # document (schema 1 + latency), LiveResult; None, None
    # when the call could not be finished (the fault says why)
    failed = Signal(str)  # the call could not start
    _file_done = Signal()  # a practice recording ran out: end the call on this thread

    def __init__(self) -> None:
        super().__init__()
        self.transcriber: Transcriber | None = None
        self.session: LiveSession | FileSession | None = None
        self.started_at: datetime | None = None
        self._record_to: str | None = None
        self._seen = {AGENT: 0, CUSTOMER: 0, "utterances": 0}
        self._file_done.connect(self.end)
        self.history: CallHistory | None = None
        self._recorder: LiveRecorder | None = None
        self._persist_timer: QTimer | None = None

    def set_history(self, history: CallHistory | None) -> None:
        """Where calls are saved: device calls as they happen, practice calls at the end."""
        self.history = history

    def set_transcriber(self, transcriber: Transcriber | None) -> None:
        self.transcriber = transcriber

    @Slot(object)
    def begin(self, config: LiveCallConfig) -> None:
        if self.session is not None:
            return
        try:
            self._begin(config)
        except (DeviceError, PlaybookError, RecordingError) as exc:
            self.session = None
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - the window must get a message
            self.session = None
            self.failed.emit(f"the call could not start: {exc} (details in "
                             f"{log_exception(exc)})")

    def _begin(self, config: LiveCallConfig) -> None:
        playbook = load_playbook(config.playbook_path or None)
        transcribe = config.transcribe and self.transcriber is not None
        if config.practice_file:
            self._begin_practice(config, playbook, transcribe)
            return
        devices = list_input_devices(rescan=True)  # a headset plugged in since start
        agent = pick_device(config.agent_device or None, devices, want_monitor=False)
        if agent is None:
            raise DeviceError("no microphone found: plug in your headset, then choose it "
                              "in Settings")
        customer = None
        if config.customer_device != NO_CUSTOMER:
            customer = pick_device(config.customer_device or None, devices, want_monitor=True)
        session_config = SessionConfig(live=LiveConfig(transcribe=transcribe),
                                       record_to=config.record_to)
        session = LiveSession(agent, customer, session_config, playbook,
                              self.transcriber if transcribe else None,
                              on_event=self._on_event, on_fault=self._on_fault)
        recorder = LiveRecorder(self.history, on_error=self._history_error)
        recorder.begin(agent.id, customer.id if customer is not None else "",
                       self.transcriber.name if transcribe else "none", playbook.redaction)
        self._recorder = recorder
        try:
            session.start()
        except Exception:
            recorder.discard()
            self._recorder = None
            raise
        self._start_persisting()
        self.session = session
        self._record_to = config.record_to
        self.started_at = datetime.now()
        self._seen = {AGENT: 0, CUSTOMER: 0, "utterances": 0}
        self.started.emit(agent.label, customer.label if customer is not None else "")
        self._warn(customer is not None, transcribe)

    def _begin_practice(self, config: LiveCallConfig, playbook, transcribe: bool) -> None:
        """A recording played into the coach: the live page without a phone call."""
        session = FileSession(config.practice_file, SessionConfig(
            live=LiveConfig(transcribe=transcribe)), playbook,
            self.transcriber if transcribe else None, on_event=self._on_event,
            on_fault=self._on_fault, speed=config.practice_speed,
            agent_channel=config.agent_channel, on_end=self._file_done.emit)
        self.session = session
        self._record_to = None
        self.started_at = datetime.now()
        self._seen = {AGENT: 0, CUSTOMER: 0, "utterances": 0}
        session.start()
        has_customer = session.recording.customer is not None
        name = Path(config.practice_file).name
        other = "right" if config.agent_channel == "left" else "left"
        self.started.emit(f"practice call {name} ({config.agent_channel} channel)"
                          if has_customer else f"practice call {name}",
                          f"{name} ({other} channel)" if has_customer else "")
        self._warn(has_customer, transcribe)

    def _warn(self, has_customer: bool, transcribe: bool) -> None:
        if not has_customer:
            self.fault.emit("No customer source: coaching your voice only (interruptions, "
                            "response times and dead air need the customer's side).", False)
        if not transcribe:
            self.fault.emit("The speech model is not loaded: no transcript or phrase "
                            "prompts for this call.", False)

    def _on_event(self, event: Event) -> None:
        recorder = self._recorder
        if recorder is not None:  # committed now: a crash must not lose it
            recorder.event(event_to_dict(event))
        self.event.emit(event)

    def _history_error(self, message: str) -> None:
        self.fault.emit(message[:1].upper() + message[1:], False)

    def _start_persisting(self) -> None:
        """Once a second, on this thread: the new transcript lines and the call time."""
        timer = QTimer(self)
        timer.setInterval(1000)
        timer.timeout.connect(self._persist)
        timer.start()
        self._persist_timer = timer

    def _persist(self) -> None:
        session, recorder = self.session, self._recorder
        if session is None or recorder is None:
            return
        recorder.transcript(session.engine.utterances)
        recorder.progress(session.engine.status().call_time_s)

    def _on_fault(self, fault: CaptureFault) -> None:
        self.fault.emit(fault.message, fault.fatal)

    @Slot()
    def end(self) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        from desktop.cli.live_cli import live_document

        try:
            result = session.stop()
            name = self.transcriber.name if self.transcriber is not None else "none"
            document = live_document(result, session, name)
            document["started_at"] = self.started_at.isoformat(timespec="seconds") \
                if self.started_at else None
            document["saved_audio"] = getattr(session, "kept_audio", None)
            if isinstance(session, FileSession):  # a practice call: its file can be replayed
                document["recording"] = session.recording.path
                document["practice"] = True
        except Exception as exc:  # noqa: BLE001 - never lose the window over it
            self.fault.emit(f"the call ended with an error: {exc} (details in "
                            f"{log_exception(exc)})", True)
            self.ended.emit(None, None)  # the page still goes back to "not in a call"
            return
        document["history_id"] = self._save(document)
        self.ended.emit(document, result)

    def _save(self, document: dict) -> int | None:
        """Store the ended call (here, so it is saved even when the window is closing)."""
        if self._persist_timer is not None:
            self._persist_timer.stop()
            self._persist_timer = None
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            return recorder.finish(document, audio_path=document.get("saved_audio"))
        if self.history is None:
            return None
        try:
            return self.history.save_call(
                document, source="practice" if document.get("practice") else "live",
                audio_path=document.get("recording") if document.get("practice") else None,
                started_at=self.started_at.astimezone() if self.started_at else None)
        except HistoryError as exc:
            self.fault.emit(f"The call could not be saved: {exc}", False)
            return None

    # -- read from the GUI thread ---------------------------------------------------------
    def snapshot(self) -> LiveSnapshot | None:
        """New frames and transcript lines since the last call; None when no call runs.

        Reads the tails of what the capture worker appends to (the frame tracks count a
        frame only once it is whole, list appends are atomic), so this copies what is
        there without stopping the worker. The clock drift is read the
        same way (`DriftCorrector.report` is O(1) and reads values the worker replaces
        whole); a practice call has no devices, so no drift.
        """
        session = self.session
        if session is None:
            return None
        engine = session.engine
        tracks = engine.tracks
        out: dict[str, Any] = {}
        for speaker in (AGENT, CUSTOMER):
            track = tracks.get(speaker)
            if track is None:
                out[speaker] = ()
                continue
            frames = track.frames
            end = len(frames)
            out[speaker] = tuple(frames[self._seen[speaker]:end])
            self._seen[speaker] = end
        utterances = engine.utterances
        end = len(utterances)
        new_utterances = tuple(utterances[self._seen["utterances"]:end])
        self._seen["utterances"] = end
        baseline = engine.agent_baseline_dbfs()
        status = engine.status()
        return LiveSnapshot(
            call_time_s=status.call_time_s, agent_frames=out[AGENT],
            customer_frames=out[CUSTOMER], utterances=new_utterances,
            baseline_dbfs=None if baseline is None or math.isnan(baseline) else baseline,
            current_prompt=engine.current_prompt(), backlog=status.backlog,
            drift=session.drift if isinstance(session, LiveSession) else None)

    def snooze(self, kind: str) -> None:
        session = self.session
        if session is not None:
            session.engine.snooze(kind)
