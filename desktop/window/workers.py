"""Background jobs for the window: load the model, analyse a recording, re-run the rules.

Each job is a QObject moved to its own QThread (`start_job`), handed frozen inputs, and
reports only through signals, so the GUI thread never waits on audio or Whisper. Errors a
user can cause (a bad file, a missing model) arrive as one-line messages, never as
exceptions in the event loop. A replay analysis runs in a child process
(`engine_process`): its job's thread only waits on the child's pipe and unpickles what
it sends, so neither the GIL nor a crash is shared with the window.
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import asdict, replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from audio.analysis import AnalysisOptions, rescore
from audio.contract import analysis_to_dict
from coaching.playbook import Playbook, load_playbook
from desktop.window.engine_process import (
    Failed,
    Finished,
    Progress,
    ReplayEngine,
    Rescore,
    Rescored,
)
from desktop.window.replay_data import (
    PLOT_POINTS_PER_S,
    ReplayData,
    describe_error,
    make_replay_data,
)

__all__ = ["ReplayData", "AnalysisJob", "RescoreJob", "start_job",
           "wait_for_jobs", "make_replay_data",
           "PLOT_POINTS_PER_S"]


class _Job(QObject):
    """Common shape: `run` in a worker thread, `done` emitted exactly once at the end."""

    done = Signal()

    @Slot()
    def run(self) -> None:
        try:
            self._work()
        except Exception as exc:  # noqa: BLE001 - reported as a message, never raised
            self._fail(describe_error(exc))
        finally:
            self.done.emit()

    def _work(self) -> None:
        raise NotImplementedError

    def _fail(self, message: str) -> None:
        raise NotImplementedError


class AnalysisJob(_Job):
    """Analyse one recording in a child process (`engine_process.ReplayEngine`), then
    answer the what-if for that call from the same child until `stop()`.

    `cancel()` from any thread ends an analysis at once; a child that dies (killed, a
    native fault, out of memory) is reported as `failed` in plain words (or, once the
    call is shown, as `ended`), and the next analysis starts a new one. The speech model
    is the child's own (`options.model`).
    """

    started = Signal(int)  # the child's pid
    progress = Signal(str, float)
    finished = Signal(object)  # ReplayData
    failed = Signal(str)
    cancelled = Signal()
    rescored = Signal(int, object)  # generation, ReplayData (as RescoreJob.finished)
    ended = Signal(str)  # the child of a shown call stopped on its own: why

    def __init__(self, path: str | Path, options: AnalysisOptions,
                 playbook: Playbook | None = None) -> None:
        super().__init__()
        self.path = str(path)
        self.options = options
        self.playbook = playbook
        self.pid: int | None = None
        self.data: ReplayData | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self._engine: ReplayEngine | None = None
        self._asked: dict[int, Playbook] = {}

    def cancel(self) -> None:
        """End the child (an analysis under way, or the call shown); nothing more of
        it is reported but `cancelled` if it was still analysing."""
        with self._lock:
            self._stopped = True
            engine = self._engine
        if engine is not None:
            engine.stop()

    stop = cancel

    def rescore(self, generation: int, playbook: Playbook) -> bool:
        """Ask the child for the rules and scorecard with `playbook`'s thresholds; the
        answer comes as `rescored`. False if there is no child to ask."""
        with self._lock:
            engine = self._engine if self.data is not None and not self._stopped else None
            if engine is None:
                return False
            self._asked[generation] = playbook
        return engine.request(Rescore(generation, asdict(playbook.thresholds)))

    def _work(self) -> None:
        with self._lock:
            if self._stopped:
                self.cancelled.emit()
                return
            engine = self._engine = ReplayEngine(self.path, self.options, self.playbook)
        self.pid = engine.pid
        self.started.emit(engine.pid)
        failed = None
        for message in engine.messages():
            if isinstance(message, Progress):
                self.progress.emit(message.stage, message.fraction)
            elif isinstance(message, Finished):
                d = message.data
                book = self.playbook or d.analysis.playbook  # the child's, settings only
                self.data = ReplayData(replace(d.analysis, playbook=book), d.document,
                                       d.tracks)
                self.finished.emit(self.data)
            elif isinstance(message, Rescored):
                self._answer(message)
            elif isinstance(message, Failed):
                failed = message.message
        if self._stopped:
            if self.data is None:
                self.cancelled.emit()
        elif failed is not None:
            self.failed.emit(failed)
        elif self.data is None:
            self.failed.emit(engine.crash_message)
        else:
            self.ended.emit(engine.crash_message)

    def _answer(self, message: Rescored) -> None:
        with self._lock:
            book = self._asked.pop(message.generation, None)
        if book is None or self.data is None:
            return
        analysis = replace(self.data.analysis, playbook=book, events=message.events,
                           scorecard=message.scorecard)
        self.rescored.emit(message.generation,
                           ReplayData(analysis, message.document, self.data.tracks))

    def _fail(self, message: str) -> None:
        self.failed.emit(message)


class RescoreJob(_Job):
    """The trainer's "what if" in the window's process: the rules and scorecard again
    with other thresholds, for a call whose engine process is gone (e.g. one shown
    from data). The replay page asks the call's child first (`AnalysisJob.rescore`).

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
        book = self.playbook
        if not book.has_phrases:  # a call analysed in its engine: the window kept numbers
            book = replace(load_playbook(book.source), thresholds=book.thresholds)
        analysis = rescore(a.recording, a.model_name, a.timeline, book, a.timings)
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
    The thread is deliberately not parented to `owner`, so closing a page never
    destroys a running thread; but an `owner` destroyed without being closed (a page
    dropped, its window deleted) stops the job (`stop`, where it has one): an analysis
    child no page shows would otherwise live on, and the window's close wait for it.
    """
    global _reaper
    if _reaper is None:
        _reaper = _Reaper()
    thread = QThread()
    _threads[thread] = job
    job.moveToThread(thread)
    thread.started.connect(job.run)
    # Direct: `quit` is thread-safe, and queued to the GUI thread it would wait for the
    # event loop, which at exit is blocked in `wait_for_jobs` waiting for this thread.
    job.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.finished.connect(_reaper.thread_done)
    stop = getattr(job, "stop", None)
    if owner is not None and stop is not None:
        # Direct: the job's thread has no event loop to take a queued call.
        owner.destroyed.connect(stop, Qt.ConnectionType.DirectConnection)
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


@atexit.register
def _stop_jobs_at_exit() -> None:
    """A QThread still running when the interpreter ends aborts the process ("QThread:
    Destroyed while thread is still running"): a script or test that never closed its
    replay page would end that way. Its analysis child is ended and its thread waited
    for; the window's own close does the same before this."""
    for job in list(_threads.values()):
        stop = getattr(job, "stop", None)
        if stop is not None:
            stop()
    wait_for_jobs(5000)
