"""Background jobs for the window: load the model, analyse a recording, re-run the rules.

Each job is a QObject moved to its own QThread (`start_job`), handed frozen inputs, and
reports only through signals, so the GUI thread never waits on audio or Whisper. Errors a
user can cause (a bad file, a missing model) arrive as one-line messages, never as
exceptions in the event loop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from audio.analysis import (
    AnalysisCancelled,
    AnalysisOptions,
    CallAnalysis,
    analyze_recording,
    loudness_tracks,
    rescore,
)
from audio.contract import analysis_to_dict
from audio.model_location import ModelError
from audio.recording import RecordingError
from audio.transcribe import Transcriber, TranscriberConfig
from coaching.playbook import Playbook, PlaybookError
from desktop.crash_log import log_exception

__all__ = ["ReplayData", "AnalysisJob", "RescoreJob", "ModelLoadJob", "start_job",
           "wait_for_jobs",
           "PLOT_POINTS_PER_S"]

PLOT_POINTS_PER_S = 10.0  # loudness envelope resolution on the replay timeline


@dataclass(frozen=True)
class ReplayData:
    """An analysed call with everything the replay page shows, computed off the GUI thread.

    Attributes:
        analysis: the engine's result (timeline, events, scorecard).
        document: the same as `callcoach analyze` JSON (schema 1), for history and export.
        tracks: downsampled loudness per party (`loudness_tracks`) for the timeline.
    """

    analysis: CallAnalysis
    document: dict[str, Any]
    tracks: dict[str, list]

    @property
    def path(self) -> str:
        return self.analysis.recording.path


def make_replay_data(analysis: CallAnalysis) -> ReplayData:
    return ReplayData(analysis, analysis_to_dict(analysis),
                      loudness_tracks(analysis.timeline, PLOT_POINTS_PER_S))


_EXPECTED = (RecordingError, ModelError, PlaybookError)  # the user's input, said in one line


def _describe(exc: BaseException) -> str:
    """A user-facing line for anything an analysis can raise; the unexpected ones are
    also written, with their traceback, to the error log."""
    if isinstance(exc, _EXPECTED):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "the recording is too large to analyse in memory"
    log = log_exception(exc)
    return f"unexpected error ({type(exc).__name__}: {exc}); details in {log}"


class _Job(QObject):
    """Common shape: `run` in a worker thread, `done` emitted exactly once at the end."""

    done = Signal()

    @Slot()
    def run(self) -> None:
        try:
            self._work()
        except Exception as exc:  # noqa: BLE001 - reported as a message, never raised
            self._fail(_describe(exc))
        finally:
            self.done.emit()

    def _work(self) -> None:
        raise NotImplementedError

    def _fail(self, message: str) -> None:
        raise NotImplementedError


class ModelLoadJob(_Job):
    """Load the Whisper model once, at start-up, so the first call does not wait for it."""

    loaded = Signal(object)  # Transcriber
    failed = Signal(str)

    def __init__(self, model: str | None) -> None:
        super().__init__()
        self.model = model or None

    def _work(self) -> None:
        transcriber = Transcriber(TranscriberConfig(model=self.model))
        transcriber.load()
        self.loaded.emit(transcriber)

    def _fail(self, message: str) -> None:
        self.failed.emit(message)


class AnalysisJob(_Job):
    """Analyse one recording; `cancel()` from any thread stops it at the next stage."""

    progress = Signal(str, float)
    finished = Signal(object)  # ReplayData
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, path: str | Path, options: AnalysisOptions,
                 transcriber: Transcriber | None = None,
                 playbook: Playbook | None = None) -> None:
        super().__init__()
        self.path = str(path)
        self.options = options
        self.transcriber = transcriber
        self.playbook = playbook
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def _work(self) -> None:
        try:
            analysis = analyze_recording(
                self.path, self.options, transcriber=self.transcriber, playbook=self.playbook,
                progress=lambda stage, f: self.progress.emit(stage, float(f)),
                cancel=self._cancel.is_set)
        except AnalysisCancelled:
            self.cancelled.emit()
            return
        if self._cancel.is_set():
            self.cancelled.emit()
            return
        self.finished.emit(make_replay_data(analysis))

    def _fail(self, message: str) -> None:
        self.failed.emit(message)


class RescoreJob(_Job):
    """The trainer's "what if": the rules and scorecard again with other thresholds.

    No audio work and no transcription. `generation` lets the page drop answers to
    questions it has since replaced (a slider dragged on).
    """

    finished = Signal(int, object)  # generation, ReplayData
    failed = Signal(str)

    def __init__(self, generation: int, data: ReplayData, playbook: Playbook) -> None:
        super().__init__()
        self.generation = generation
        self.data = data
        self.playbook = playbook

    def _work(self) -> None:
        a = self.data.analysis
        analysis = rescore(a.recording, a.model_name, a.timeline, self.playbook,
                           a.timings)
        self.finished.emit(self.generation, ReplayData(analysis, analysis_to_dict(analysis),
                                                       self.data.tracks))

    def _fail(self, message: str) -> None:
        self.failed.emit(message)


class _Reaper(QObject):
    """Lives on the GUI thread: drops the last references to a finished job and its
    thread there. Not at the job's `done`: `run` has not returned yet at that point, and
    the worker would then drop the job's last reference itself, destroying a QObject on
    its own thread while the GUI thread may hold the GIL and wait on Qt's locks (a
    deadlock seen in the test suite). `QThread.finished` comes after `run` returned."""

    @Slot()
    def thread_done(self) -> None:
        thread = self.sender()
        job = _threads.pop(thread, None)
        if job is not None:
            thread.deleteLater()
        del job  # the job's last reference, dropped here on the GUI thread


_threads: dict[QThread, QObject] = {}  # running thread -> its job, until it finished
_reaper: _Reaper | None = None


def start_job(job: _Job, owner: QObject | None = None) -> QThread:
    """Run `job` in a new QThread.

    The job and its thread are kept alive here until the thread has finished (a caller
    may drop or replace its own reference, e.g. when a newer analysis supersedes it).
    `owner` is accepted for symmetry with Qt's parent argument; the thread is
    deliberately not parented to it, so closing a page never destroys a running thread.
    """
    global _reaper
    if _reaper is None:
        _reaper = _Reaper()
    thread = QThread()
    _threads[thread] = job
    job.moveToThread(thread)
    thread.started.connect(job.run)
    job.done.connect(thread.quit)
    thread.finished.connect(_reaper.thread_done)
    thread.start()
    return thread


def wait_for_jobs(timeout_ms: int = 15000) -> bool:
    """At exit: let running jobs reach their next cancel check and end (True if all did)."""
    ok = True
    for thread in list(_threads):
        try:
            ok = thread.wait(timeout_ms) and ok
        except RuntimeError:  # already deleted: it had finished
            pass
    return ok
