"""Replay analysis in a child process: the messages, the child's entry point, the client.

The window never analyses in its own process: Whisper's Python glue, the rules and numpy
would share the GIL with the event loop (a stutter a person sees, worst on a busy
machine), and a native fault or running out of memory would take the window down.
`ReplayEngine` starts the child with `multiprocessing`'s spawn context and reads what it
sends on a pipe. The child stays up while its call is shown, to answer the trainer's
"what if" with the playbook it analysed with (its sentence encoder included). This
module imports no Qt (the child imports it); the Qt side is `workers.AnalysisJob`.

The schema, one pickled message per `send`:
  child to window
    Progress(stage, fraction)         any number, fraction 0..1 of the whole analysis
    Samples(track, start, total, chunk)   the call's audio for playback, in pieces of at
                                      most `AUDIO_CHUNK` samples, before Finished: one
                                      32 MB message would hold the window's GIL for as
                                      long as it takes to unpickle (tens of ms)
    Finished(data)                    once: the `ReplayData` of the call, without its
                                      playbook (the window has its own copy) and with
                                      empty sample arrays (they came as Samples)
    Failed(message)                   once, instead of Finished: one line for the user
    Rescored(generation, events, scorecard, document)   an answer to a Rescore
  window to child
    Rescore(generation, thresholds)   the rules and scorecard again with these
                                      thresholds (`Thresholds` fields by name)
Cancel, a newer call, or closing the page ends the child (`ReplayEngine.stop`). A child
that ends on its own crashed: `ReplayEngine.crash_message` says so in plain words.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Progress", "Samples", "Finished", "Failed", "Rescore", "Rescored", "ReplayEngine",
           "run_analysis", "start_child", "exit_words"]

_POLL_S = 0.2  # how often the reading thread looks whether it was told to stop


@dataclass(frozen=True)
class Progress:
    stage: str
    fraction: float


@dataclass(frozen=True)
class Samples:
    track: str  # "agent" or "customer"
    start: int
    total: int
    chunk: Any  # float32 numpy array


AUDIO_CHUNK = 1 << 17  # samples (512 kB): a fraction of a millisecond to take in


@dataclass(frozen=True)
class Finished:
    data: Any  # ReplayData: no audio, its playbook's settings without the phrase sets


@dataclass(frozen=True)
class Failed:
    message: str


@dataclass(frozen=True)
class Rescore:
    generation: int
    thresholds: dict[str, float]


@dataclass(frozen=True)
class Rescored:
    generation: int
    events: tuple
    scorecard: Any
    document: dict[str, Any]


_START_LOCK = threading.Lock()


@contextmanager
def _without_main_module() -> Iterator[None]:
    """Spawn re-runs the parent's `__main__` in the child (the GUI's entry script, a
    test's script), which would import Qt there, or start a window; the child needs
    none of it, so the parent's main module is out of sight while the child starts."""
    with _START_LOCK:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


CHILD_NICENESS = 10  # below the window: its GUI thread takes a core the moment it needs one


def _yield_to_the_window(pid: int, niceness: int = CHILD_NICENESS) -> None:
    """Run the child below the window's priority: on a busy 2-core machine the analysis
    (its imports, Whisper's threads, the rules) would otherwise keep the GUI thread off
    the CPU for a hundred milliseconds at a time; a replay analysis can wait, the window
    cannot. Set from the parent the moment the child exists, before its imports."""
    setpriority = getattr(os, "setpriority", None)  # POSIX; Windows has priority classes
    if setpriority is not None:
        try:
            setpriority(os.PRIO_PROCESS, pid, niceness)
        except OSError:
            pass


def run_analysis(conn: Connection, path: str, options: Any, playbook: Any) -> None:
    """The child's entry point: `callcoach analyze`'s pipeline, reported on `conn`, then
    what-if answers until the window closes the pipe or ends the process."""
    from audio.analysis import analyze_recording, rescore  # imported here: the child's work
    from audio.contract import analysis_to_dict
    from coaching.playbook import Thresholds
    from desktop.window.replay_data import ReplayData, describe_error, make_replay_data

    try:
        analysis = analyze_recording(
            path, options, playbook=playbook,
            progress=lambda stage, f: conn.send(Progress(stage, float(f))))
        data = make_replay_data(analysis)
    except Exception as exc:  # noqa: BLE001 - reported as a message, never raised
        conn.send(Failed(describe_error(exc)))
        conn.close()
        return
    recording = analysis.recording
    for track in ("agent", "customer"):
        samples = getattr(recording, track)
        for start in range(0, 0 if samples is None else len(samples), AUDIO_CHUNK):
            conn.send(Samples(track, start, len(samples), samples[start:start + AUDIO_CHUNK]))
    bare = replace(recording, agent=recording.agent[:0],
                   customer=None if recording.customer is None else recording.customer[:0])
    kept = analysis.playbook.settings_only()  # the window's what-if needs the numbers only
    conn.send(Finished(ReplayData(replace(analysis, recording=bare, playbook=kept),
                                  data.document, data.tracks)))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the window is gone
        if isinstance(request, Rescore):
            book = replace(analysis.playbook, thresholds=Thresholds(**request.thresholds))
            a = rescore(analysis.recording, analysis.model_name, analysis.timeline, book,
                        analysis.timings)
            conn.send(Rescored(request.generation, a.events, a.scorecard,
                               analysis_to_dict(a)))


def start_child(process: multiprocessing.process.BaseProcess,
                niceness: int = CHILD_NICENESS) -> None:
    """Start a spawned engine child without the parent's main module, at `niceness`."""
    with _without_main_module():
        process.start()
    if niceness:
        _yield_to_the_window(process.pid, niceness)


def exit_words(code: int | None) -> str:
    """How a child ended, in words ("exit code -9, SIGKILL")."""
    if code is not None and code < 0:
        try:
            return f"exit code {code}, {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"


class ReplayEngine:
    """One call's child process, read from the thread that iterates `messages`."""

    def __init__(self, path: str | Path, options: Any, playbook: Any = None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe(duplex=True)
        self._send_lock = threading.Lock()
        self.process = ctx.Process(target=run_analysis, name="callcoach-replay",
                                   args=(child_conn, str(path), options, playbook),
                                   daemon=True)
        start_child(self.process)
        child_conn.close()  # the child holds the only other end: EOF when it ends
        self.stopped = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def stop(self) -> None:
        """End the child now (Cancel, a newer call, the page closed); nothing more of
        it is reported."""
        self.stopped = True
        if self.process.is_alive():
            self.process.kill()

    def request(self, message: Rescore) -> bool:
        """Send a request from any thread; False if the child is gone."""
        with self._send_lock:
            if self.stopped or self._conn.closed:
                return False
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                return False
            return True

    def messages(self) -> Iterator[Progress | Finished | Failed | Rescored]:
        """What the child sends, until it ends or `stop`, with the audio put back into
        Finished's recording. Unpickling happens here, on the caller's thread."""
        audio = _AudioAssembler()
        for message in self._received():
            if isinstance(message, Samples):
                audio.add(message)
            elif isinstance(message, Finished):
                yield Finished(audio.fill(message.data))
            else:
                yield message

    def _received(self) -> Iterator[Any]:
        while not self.stopped:
            ready = wait([self._conn, self.process.sentinel], _POLL_S)
            if not ready:
                continue
            if self._conn not in ready and not self._conn.poll(0):
                break  # the child ended and left nothing to read
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break  # the child ended
            if self.stopped:
                break
            yield message
            if isinstance(message, Failed):
                break
        with self._send_lock:
            self._conn.close()
        self.process.join(5.0)
        if self.process.is_alive():  # told to stop, or said Failed and hangs on exit
            self.process.kill()
            self.process.join()

    @property
    def crash_message(self) -> str:
        code = self.process.exitcode
        return f"the analysis stopped unexpectedly ({exit_words(code)})"


class _AudioAssembler:
    """The call's tracks from `Samples` pieces, each copied into place as it comes."""

    def __init__(self) -> None:
        self._tracks: dict[str, Any] = {}

    def add(self, piece: Samples) -> None:
        track = self._tracks.get(piece.track)
        if track is None:
            track = self._tracks[piece.track] = np.empty(piece.total, piece.chunk.dtype)
        track[piece.start:piece.start + len(piece.chunk)] = piece.chunk

    def fill(self, data: Any) -> Any:
        r = data.analysis.recording
        recording = replace(r, agent=self._tracks.get("agent", r.agent),
                            customer=self._tracks.get("customer", r.customer))
        return replace(data, analysis=replace(data.analysis, recording=recording))
