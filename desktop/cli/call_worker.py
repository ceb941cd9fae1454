"""One worker of a batch: the speech model loaded once, calls analysed into report files.

The same class runs a local folder run (in this process) and each Ray actor of a cluster
run, so both write the very same JSON, HTML and summary row for a call.

A worker can hold several calls at once (`calls_at_once`), each on a thread of its own
with its share of the cores, from one model loaded for every decode that may run at once.
One decode on both cores leaves them ~15% idle (the Python between Whisper's batches);
one call decodes two batches at a time, one per core (as `callcoach analyze` does), and
two calls one batch at a time each, which also hides each call's reading, measuring and
coaching behind the other's decoding. The words are the same either way.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from audio.analysis import AnalysisCancelled, AnalysisOptions, CallAnalysis, loudness_tracks
from audio.contract import analysis_to_dict
from audio.model_location import load_model
from audio.recording import RecordingError
from audio.staged_analysis import RECORDING_DECODERS, finish_measured, measure_recording
from audio.transcribe import Transcriber, TranscriberConfig
from coaching.playbook import load_playbook
from desktop.cli.resume import BatchRow, audio_digest, mark_done, write_atomic
from desktop.reports.html_report import render_html

__all__ = ["CallJob", "CallWorker", "row_of"]


@dataclass(frozen=True)
class CallJob:
    """A recording to analyse: where to read it, how the user named it, its report's name."""

    path: str  # absolute: a cluster worker's working folder is not the user's
    given: str  # as the user gave it: the report's "recording" and the summary say this
    stem: str


def row_of(analysis: CallAnalysis, given: str, json_path: Path) -> BatchRow:
    kinds = [e.kind for e in analysis.events]
    card = analysis.scorecard
    return BatchRow(
        recording=given, status="ok", duration_s=round(analysis.recording.duration_s, 1),
        score=card.score, interruptions=kinds.count("interruption"),
        raised_voice=kinds.count("raised_voice"), events=len(kinds),
        failed_checks=" ".join(c.id for c in card.checks if c.applicable and not c.passed),
        report=str(json_path), redactions=len(analysis.timeline.redactions),
        redaction_off=" ".join(analysis.playbook.redaction.off))


class CallWorker:
    """Loads the playbook and the speech model once; `run` analyses one call into files.

    Args:
        options: the batch's analysis options.
        out_dir: the reports' folder (absolute, on a folder every node sees).
        report_dir: how summary rows name that folder (as the user gave it).
        settings: the run's settings key (desktop.cli.resume.settings_key).
        calls_at_once: calls that may run at once, each on its own thread.
    """

    def __init__(self, options: AnalysisOptions, out_dir: str, report_dir: str,
                 settings: str, calls_at_once: int = 1) -> None:
        self.options = options
        self.out_dir = Path(out_dir)
        self.report_dir = Path(report_dir)
        self.settings = settings
        self.calls_at_once = max(1, calls_at_once)
        self.playbook = load_playbook(options.playbook_path)
        # faster-whisper logs each window at INFO where a library set up logging: one
        # line per call is the batch's own progress, not these.
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
        self.model = None
        if options.transcribe:
            # the cores shared out: two calls decode one batch at a time each, one call
            # two batches at a time (as `callcoach analyze` does), one core per decode
            decoders = max(1, min(RECORDING_DECODERS, options.cpu_threads)
                           // self.calls_at_once)
            self._config = TranscriberConfig(
                model=options.model, decoders=decoders,
                cpu_threads=max(1, options.cpu_threads // self.calls_at_once))
            spec = Transcriber(self._config).spec  # a bad --model: its one-line error
            self.model = load_model(
                spec, max(1, options.cpu_threads // (self.calls_at_once * decoders)),
                workers=self.calls_at_once * decoders)
        self._threads = threading.local()  # each call's thread: a transcriber of its own
        self.stopping = threading.Event()  # set: the calls under way end (cancelled)
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}"  # in each done-marker

    def ready(self) -> bool:
        """Returns once the model is loaded (a cluster run waits on it before sending work)."""
        return True

    def _transcriber(self) -> Transcriber | None:
        """This thread's transcriber on the shared model (its lock is this thread's)."""
        if self.model is None:
            return None
        mine = getattr(self._threads, "transcriber", None)
        if mine is None:
            mine = self._threads.transcriber = Transcriber(self._config, model=self.model)
        return mine

    def run(self, job: CallJob, progress=None) -> BatchRow:
        """Analyse one call: its JSON, HTML, then its done-marker; a bad file is a row."""
        try:
            digest = audio_digest(job.path)
            measured = measure_recording(job.path, self.options, report_path=job.given)
            if self.stopping.is_set():
                raise AnalysisCancelled()
            analysis = finish_measured(measured, self.options, transcriber=self._transcriber(),
                                       playbook=self.playbook, progress=progress,
                                       cancel=self.stopping.is_set)
        except RecordingError as exc:
            return BatchRow(recording=job.given, status=str(exc).replace(job.path, job.given))
        except OSError as exc:  # unreadable, vanished since the folder was listed
            return BatchRow(recording=job.given, status=f"{exc.strerror or exc}: {job.given}")
        doc = analysis_to_dict(analysis)
        json_path = self.out_dir / f"{job.stem}.json"
        write_atomic(json_path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        write_atomic(self.out_dir / f"{job.stem}.html",
                    render_html(doc, loudness_tracks(analysis.timeline)))
        row = row_of(analysis, job.given, self.report_dir / f"{job.stem}.json")
        mark_done(self.out_dir, job.stem, Path(job.path), digest, self.settings, row,
                  worker=self.worker_name)
        return row
