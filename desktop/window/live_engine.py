"""The live call's engine in a child process: the child's loop and the pipe client.

Capture, the live analysis, Whisper and the rules run in a process of their own, so
they never share a GIL with the window's event loop, and a native fault (PortAudio,
CTranslate2) or running out of memory ends the engine, not the window in the middle of
an agent's call. One engine serves call after call: it loads the speech model once,
when the window starts, and waits for calls. This module imports no Qt (the child
imports it); the Qt side, which also writes the call into the history as it happens,
is `live_worker.LiveWorker`.

The messages, and their schema, are in `live_messages`.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from desktop.window.engine_process import exit_words, start_child
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

__all__ = ["LiveEngineProcess", "run_live_engine"]

TICK_S = 1 / 30  # how often a running call's news is sent: the page paints at this rate
LIVE_NICENESS = 0  # a live call cannot wait: the engine runs at the window's priority


# -- the child ------------------------------------------------------------------------------
class _Outbox:
    """The child's end of the pipe, shared by its loop and the session's worker thread
    (events and faults fire there)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        self._held: list | None = None

    def hold(self) -> None:
        """Keep what is sent until `release`: a call's first event or fault must not
        reach the window before the call's CallStarted does."""
        with self._lock:
            self._held = []

    def release(self, first: Any = None) -> None:
        """Send `first`, then what was held, and stop holding."""
        with self._lock:
            held, self._held = self._held or [], None
            for message in ([first] if first is not None else []) + held:
                self._send(message)

    def send(self, message: Any) -> bool:
        with self._lock:
            if self._held is not None:
                self._held.append(message)
                return True
            return self._send(message)

    def _send(self, message: Any) -> bool:
        try:
            self.conn.send(message)
        except (OSError, ValueError):
            return False  # the window is gone; the loop sees EOF next
        return True


class _Call:
    """One running call in the child: its session and what the window has been sent."""

    def __init__(self, session: Any, model: str, practice: str | None) -> None:
        self.session = session
        self.model = model
        self.practice = practice
        self.started_at = datetime.now()
        self.file_done = threading.Event()
        self._seen = {"agent": 0, "customer": 0, "utterances": 0}

    def snapshot(self) -> LiveSnapshot:
        """New frames and transcript lines since the last snapshot, and the numbers now.
        Reads the tails of what the capture worker appends to (a frame counts once it is
        whole, list appends are atomic): a copy, never a wait."""
        engine = self.session.engine
        out: dict[str, tuple] = {}
        for speaker in ("agent", "customer"):
            track = engine.tracks.get(speaker)
            frames = track.frames if track is not None else ()
            end = len(frames)
            out[speaker] = tuple(frames[self._seen[speaker]:end])
            self._seen[speaker] = end
        utterances = engine.utterances
        end = len(utterances)
        new = tuple(utterances[self._seen["utterances"]:end])
        self._seen["utterances"] = end
        baseline = engine.agent_baseline_dbfs()
        status = engine.status()
        return LiveSnapshot(
            call_time_s=status.call_time_s, agent_frames=out["agent"],
            customer_frames=out["customer"], utterances=new,
            baseline_dbfs=None if baseline is None or math.isnan(baseline) else baseline,
            current_prompt=engine.current_prompt(), backlog=status.backlog,
            drift=getattr(self.session, "drift", None))


def _load_transcriber(model: str | None, wrap: Callable | None) -> tuple[Any, str]:
    from audio.transcribe import Transcriber, TranscriberConfig

    try:
        transcriber = Transcriber(TranscriberConfig(model=model))
        transcriber.load()
    except Exception as exc:  # noqa: BLE001 - said to the agent; calls go on without
        return None, str(exc) or type(exc).__name__
    return (wrap(transcriber) if wrap is not None else transcriber), ""


def run_live_engine(conn: Connection, model: str | None, transcribe: bool,
                    wrap: Callable | None = None) -> None:
    """The child's entry point: load the model, then run the calls the window asks for
    until it closes the pipe. `wrap` (a module-level function, for tests) may wrap the
    loaded transcriber."""
    # Whisper's worker threads sleep as soon as they are idle instead of spinning for
    # the next piece of work: that spinning is CPU the window's thread is waiting for.
    # (Read by libgomp when CTranslate2 loads it, which is later, in this process.)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    outbox = _Outbox(conn)
    transcriber, problem = _load_transcriber(model, wrap) if transcribe else (None, "")
    outbox.send(EngineReady(transcriber.name if transcriber is not None else None, problem))
    call: _Call | None = None
    next_tick = time.monotonic()
    while True:
        timeout = None if call is None else max(0.0, next_tick - time.monotonic())
        if conn.poll(timeout):
            try:
                request = conn.recv()
            except (EOFError, OSError):
                if call is not None:
                    _finish(call, outbox)  # the kept audio is closed properly
                return
            if isinstance(request, BeginCall) and call is None:
                call = _begin(request.config, transcriber, outbox)
                next_tick = time.monotonic()
            elif isinstance(request, EndCall) and call is not None:
                _finish(call, outbox)
                call = None
            elif isinstance(request, Snooze) and call is not None:
                call.session.engine.snooze(request.kind)
            continue
        if call is None:
            continue
        outbox.send(Tick(call.snapshot()))
        next_tick += TICK_S
        if next_tick < time.monotonic():  # behind (a busy machine): no burst to catch up
            next_tick = time.monotonic() + TICK_S
        if call.file_done.is_set():
            _finish(call, outbox)
            call = None


def _begin(config: LiveCallConfig, transcriber: Any, outbox: _Outbox) -> _Call | None:
    from audio.devices import DeviceError
    from audio.recording import RecordingError
    from coaching.playbook import PlaybookError
    from desktop.crash_log import log_exception

    outbox.hold()
    try:
        return _open(config, transcriber, outbox)
    except (DeviceError, PlaybookError, RecordingError) as exc:
        outbox.release()
        outbox.send(CallFailed(str(exc)))
    except Exception as exc:  # noqa: BLE001 - the window must get a message
        outbox.release()
        outbox.send(CallFailed(f"the call could not start: {exc} (details in "
                               f"{log_exception(exc)})"))
    return None


def _open(config: LiveCallConfig, transcriber: Any, outbox: _Outbox) -> _Call:
    from audio.devices import NO_CUSTOMER, DeviceError, list_input_devices, pick_device
    from audio.file_session import FileSession
    from audio.live import LiveConfig
    from audio.live_session import LiveSession, SessionConfig
    from coaching.playbook import load_playbook

    playbook = load_playbook(config.playbook_path or None)
    use = transcriber if config.transcribe and transcriber is not None else None
    model = use.name if use is not None else "none"
    raised_db = playbook.thresholds.raised_voice_db
    on_event = lambda e: outbox.send(Fired(e))  # noqa: E731 - on the session's thread
    on_fault = lambda f: outbox.send(Fault(f.message, f.fatal))  # noqa: E731
    session_config = SessionConfig(live=LiveConfig(transcribe=use is not None),
                                   record_to=None if config.practice_file else
                                   config.record_to)
    if config.practice_file:
        session = FileSession(config.practice_file, session_config, playbook, use,
                              on_event=on_event, on_fault=on_fault,
                              speed=config.practice_speed, agent_channel=config.agent_channel)
        call = _Call(session, model, config.practice_file)
        session.on_end = call.file_done.set
        name = Path(config.practice_file).name
        other = "right" if config.agent_channel == "left" else "left"
        has_customer = session.recording.customer is not None
        agent_label = (f"practice call {name} ({config.agent_channel} channel)"
                       if has_customer else f"practice call {name}")
        customer_label = f"{name} ({other} channel)" if has_customer else ""
        started = CallStarted(agent_label, customer_label, agent_label, customer_label,
                              model, playbook.redaction, raised_db,
                              practice=config.practice_file)
    else:
        devices = list_input_devices(rescan=True)  # a headset plugged in since start
        agent = pick_device(config.agent_device or None, devices, want_monitor=False)
        if agent is None:
            raise DeviceError("no microphone found: plug in your headset, then choose it "
                              "in Settings")
        customer = None
        if config.customer_device != NO_CUSTOMER:
            customer = pick_device(config.customer_device or None, devices,
                                   want_monitor=True)
        session = LiveSession(agent, customer, session_config, playbook, use,
                              on_event=on_event, on_fault=on_fault)
        call = _Call(session, model, None)
        has_customer = customer is not None
        started = CallStarted(agent.label, customer.label if customer else "", agent.id,
                              customer.id if customer else "", model, playbook.redaction,
                              raised_db)
    try:
        session.start()
    except Exception:
        for capture in getattr(session, "captures", ()):  # one device opened, one not
            try:
                capture.stop()
            except Exception:  # noqa: BLE001 - the first failure is the one to say
                pass
        raise
    # Said once the devices are open, before anything the session said meanwhile: the
    # window opens the call in its history first, so every event has a call to go into.
    outbox.release(started)
    if not has_customer:
        outbox.send(Fault("No customer source: coaching your voice only (interruptions, "
                          "response times and dead air need the customer's side).", False))
    if use is None:
        outbox.send(Fault("The speech model is not loaded: no transcript or phrase "
                          "prompts for this call.", False))
    return call


def _finish(call: _Call, outbox: _Outbox) -> None:
    """Stop the session (the last words are transcribed), score, send the document."""
    from audio.file_session import FileSession
    from desktop.cli.live_cli import live_document
    from desktop.crash_log import log_exception

    session = call.session
    try:
        result = session.stop()
        outbox.send(Tick(call.snapshot()))  # the last lines, before the call is gone
        document = live_document(result, session, call.model)
        document["started_at"] = call.started_at.isoformat(timespec="seconds")
        document["saved_audio"] = getattr(session, "kept_audio", None)
        if isinstance(session, FileSession):  # a practice call: its file can be replayed
            document["recording"] = session.recording.path
            document["practice"] = True
    except Exception as exc:  # noqa: BLE001 - never lose the engine over it
        outbox.send(Fault(f"the call ended with an error: {exc} (details in "
                          f"{log_exception(exc)})", True))
        outbox.send(CallEnded(None))
        return
    outbox.send(CallEnded(document))


# -- the window's side ---------------------------------------------------------------------
class LiveEngineProcess:
    """One engine child, read from the thread that iterates `messages`."""

    def __init__(self, model: str | None, transcribe: bool,
                 wrap: Callable | None = None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe(duplex=True)
        self._send_lock = threading.Lock()
        self.process = ctx.Process(target=run_live_engine, name="callcoach-live",
                                   args=(child_conn, model, transcribe, wrap), daemon=True)
        start_child(self.process, LIVE_NICENESS)
        child_conn.close()  # the child holds the only other end: EOF when it ends
        self.stopped = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def send(self, message: BeginCall | EndCall | Snooze) -> bool:
        """From any thread; False if the engine is gone."""
        with self._send_lock:
            if self.stopped or self._conn.closed:
                return False
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                return False
            return True

    def close(self, timeout: float = 10.0) -> None:
        """No more calls: close the pipe (the engine ends a call it still runs and
        exits), then make sure it is gone."""
        self.stopped = True
        with self._send_lock:
            self._conn.close()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5.0)

    def messages(self) -> Iterator[Any]:
        """What the engine sends, until it ends or is closed. Unpickling happens here."""
        while not self.stopped:
            try:
                ready = wait([self._conn, self.process.sentinel], 0.2)
            except (OSError, ValueError):
                return  # closed under us
            if not ready:
                continue
            try:
                if self._conn not in ready and not self._conn.poll(0):
                    break  # the engine ended and left nothing to read
                message = self._conn.recv()
            except (EOFError, OSError, ValueError):
                break
            yield message
        self.process.join(5.0)

    @property
    def crashed(self) -> bool:
        return not self.stopped and not self.process.is_alive()

    @property
    def crash_message(self) -> str:
        return f"the coaching engine stopped unexpectedly ({exit_words(self.process.exitcode)})"
