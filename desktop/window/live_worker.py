"""The window's side of the live call: the engine child, and the call's record.

The engine (capture, analysis, Whisper, rules) runs in a child process
(`live_engine`). This object starts it, tells it what the agent does (start, end,
snooze), turns what it sends into Qt signals (emitted from a reading thread, so queued
to the GUI thread) and writes the call into the history as it happens: every event when
it comes, the transcript and the call time once a second. What the window has received
is therefore saved when the engine dies, and the window stays up: the call goes into
the history as it was until then, and a new engine starts for the next call.

The page reads what to paint with `snapshot()`, which takes the ticks that came since
the last one under a lock held for a list swap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from audio.contract import event_to_dict
from desktop.history.live_recorder import LiveRecorder
from desktop.history.store import CallHistory
from desktop.window.live_engine import LiveEngineProcess
from desktop.window.live_messages import (
    BeginCall,
    CallEnded,
    CallFailed,
    CallStarted,
    EndCall,
    EngineReady,
    Fault,
    Fired,
    LiveCallConfig,
    LiveSnapshot,
    Snooze,
    Tick,
)

__all__ = ["LiveCallConfig", "LiveSnapshot", "LiveWorker"]

_PERSIST_S = 1.0  # the transcript and the call time go into the history this often


class _CallRecord:
    """One call as the window received it, written into the history as it comes."""

    def __init__(self, recorder: LiveRecorder, practice: str | None) -> None:
        self.recorder = recorder
        self.practice = practice
        self.utterances: list = []
        self.call_time_s = 0.0
        self._persisted = time.monotonic()

    def add(self, snap: LiveSnapshot) -> None:
        self.utterances.extend(snap.utterances)
        self.call_time_s = snap.call_time_s
        if time.monotonic() - self._persisted >= _PERSIST_S:
            self.persist()

    def persist(self) -> None:
        self._persisted = time.monotonic()
        self.recorder.transcript(self.utterances)
        self.recorder.progress(self.call_time_s)


def _merge(snaps: list[LiveSnapshot]) -> LiveSnapshot:
    """Several ticks as one: everything new in all of them, the numbers of the last."""
    last = snaps[-1]
    if len(snaps) == 1:
        return last
    return LiveSnapshot(
        call_time_s=last.call_time_s,
        agent_frames=tuple(f for s in snaps for f in s.agent_frames),
        customer_frames=tuple(f for s in snaps for f in s.customer_frames),
        utterances=tuple(u for s in snaps for u in s.utterances),
        baseline_dbfs=last.baseline_dbfs, current_prompt=last.current_prompt,
        backlog=last.backlog, drift=last.drift)


class LiveWorker(QObject):
    """Lives on the GUI thread; nothing it does there waits on the engine."""

    engineReady = Signal(str, str)  # model name ("" for none), the problem ("" for none)
    started = Signal(str, str, float)  # agent device label, customer label ("" when
    # agent-only), the playbook's raised-voice margin in dB
    event = Signal(object)  # Event, as it fires
    fault = Signal(str, bool)  # message, fatal
    ended = Signal(object)  # the call's document (schema 1 + latency, "history_id"), or
    # None when the call could not be finished (the fault says why)
    failed = Signal(str)  # the call could not start
    crashed = Signal(str, object)  # what happened, in words; the history id of the call
    # it interrupted (None: no call was running, or the history is off)

    def __init__(self, transcriber_hook: Callable | None = None) -> None:
        super().__init__()
        self.history: CallHistory | None = None
        self._hook = transcriber_hook
        self._model: str | None = None
        self._transcribe = False  # until the window asks for a model
        self._engine: LiveEngineProcess | None = None
        self._engine_lock = threading.Lock()
        self._ready: set[int] = set()  # pids of engines that said EngineReady
        self._restart_after_call = False
        self._call: _CallRecord | None = None
        self._ticks: list[LiveSnapshot] = []
        self._ticks_lock = threading.Lock()
        self._idle = threading.Event()  # no call between BeginCall and its end
        self._idle.set()

    def set_history(self, history: CallHistory | None) -> None:
        """Where calls are saved, as they happen."""
        self.history = history

    # -- the engine -----------------------------------------------------------------------
    @property
    def engine_pid(self) -> int | None:
        engine = self._engine
        return engine.pid if engine is not None else None

    @property
    def in_call(self) -> bool:
        return not self._idle.is_set()

    def start_engine(self, model: str | None, transcribe: bool = True) -> None:
        """Start the engine the next calls run in, loading `model` now (the window's
        start-up, a model chosen in Settings). During a call, after it."""
        self._model, self._transcribe = model, transcribe
        if self.in_call:
            self._restart_after_call = True
            return
        self._replace_engine()

    def _replace_engine(self) -> LiveEngineProcess:
        with self._engine_lock:
            old = self._engine
            engine = self._engine = LiveEngineProcess(self._model, self._transcribe,
                                                      self._hook)
        if old is not None:  # its exit can take a moment: not on the caller's thread
            threading.Thread(target=old.close, name="callcoach-live-close",
                             daemon=True).start()
        threading.Thread(target=self._read, args=(engine,), name="callcoach-live-read",
                         daemon=True).start()
        return engine

    def _engine_alive(self) -> LiveEngineProcess:
        engine = self._engine
        if engine is None or engine.stopped or not engine.process.is_alive():
            engine = self._replace_engine()
        return engine

    # -- what the agent does --------------------------------------------------------------
    def begin(self, config: LiveCallConfig) -> None:
        if self.in_call:
            return
        self._idle.clear()
        with self._ticks_lock:
            self._ticks = []
        self._engine_alive().send(BeginCall(config))  # a dead engine is seen by its reader

    def end(self) -> None:
        engine = self._engine
        if engine is not None and self.in_call:
            engine.send(EndCall())

    def snooze(self, kind: str) -> None:
        engine = self._engine
        if engine is not None and self.in_call:
            engine.send(Snooze(kind))

    def shutdown(self, timeout_s: float = 60.0) -> None:
        """The window closes: end a running call and wait until it is saved, then stop
        the engine."""
        self.end()
        self._idle.wait(timeout_s)
        with self._engine_lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

    # -- read from the GUI thread ---------------------------------------------------------
    def snapshot(self) -> LiveSnapshot | None:
        """What came since the last snapshot, as one; None when nothing did."""
        with self._ticks_lock:
            ticks, self._ticks = self._ticks, []
        return _merge(ticks) if ticks else None

    # -- the reading thread ---------------------------------------------------------------
    def _read(self, engine: LiveEngineProcess) -> None:
        for message in engine.messages():
            if engine is not self._engine and self._idle.is_set():
                continue  # an engine being replaced between calls: nothing to say
            self._handle(message, engine)
        if engine.crashed:
            self._crashed(engine)

    def _handle(self, message: Any, engine: LiveEngineProcess) -> None:
        if isinstance(message, Tick):
            if self._call is not None:
                self._call.add(message.snapshot)
            with self._ticks_lock:
                self._ticks.append(message.snapshot)
        elif isinstance(message, Fired):
            if self._call is not None:  # committed now: a crash must not lose it
                self._call.recorder.event(event_to_dict(message.event))
            self.event.emit(message.event)
        elif isinstance(message, Fault):
            self.fault.emit(message.message, message.fatal)
        elif isinstance(message, CallStarted):
            self._open_record(message)
            self.started.emit(message.agent_label, message.customer_label,
                              float(message.raised_db))
        elif isinstance(message, CallFailed):
            record, self._call = self._call, None
            if record is not None:
                record.recorder.discard()
            self._call_over()
            self.failed.emit(message.message)
        elif isinstance(message, CallEnded):
            document = message.document
            if document is not None:
                document["history_id"] = self._save(document)
            self._call = None
            self._call_over()
            self.ended.emit(document)
        elif isinstance(message, EngineReady):
            if engine.pid is not None:
                self._ready.add(engine.pid)
            self.engineReady.emit(message.model or "", message.problem)

    def _open_record(self, started: CallStarted) -> None:
        recorder = LiveRecorder(self.history, on_error=self._history_error)
        recorder.begin(started.agent_device, started.customer_device, started.model,
                       started.redaction)
        self._call = _CallRecord(recorder, started.practice)

    def _save(self, document: dict) -> int | None:
        """Store the ended call (here, so it is saved even when the window is closing)."""
        record = self._call
        if record is None:
            return None
        if record.practice:  # its recording is the practice file: replayable, not ours
            return record.recorder.finish(document, audio_path=document.get("recording"),
                                          source="practice")
        return record.recorder.finish(document, audio_path=document.get("saved_audio"))

    def _call_over(self) -> None:
        self._idle.set()
        if self._restart_after_call:
            self._restart_after_call = False
            self._replace_engine()

    def _crashed(self, engine: LiveEngineProcess) -> None:
        """The engine died: keep the call as the window received it, say so, and have a
        new engine ready. One that died before its model was loaded is not restarted (it
        would only die again): the next call tries a fresh one."""
        record, self._call = self._call, None
        call_id = None
        if record is not None:
            record.persist()
            call_id = record.recorder.interrupted()
        with self._engine_lock:
            if self._engine is engine:
                self._engine = None
        was_ready = engine.pid in self._ready
        in_call = self.in_call
        if was_ready:
            self._replace_engine()
        self._idle.set()
        if not was_ready:  # said as the model not loading (and a call not starting)
            self.engineReady.emit("", engine.crash_message)
            if in_call and record is None:
                self.failed.emit(engine.crash_message)
            if record is None:
                return
        self.crashed.emit(engine.crash_message, call_id)

    def _history_error(self, message: str) -> None:
        self.fault.emit(message[:1].upper() + message[1:], False)
