"""One worker of a batch: the speech model loaded once, calls analysed into report files.

The same class runs a local folder run (in this process) and each Ray actor of a cluster
run, so both write the very same JSON, HTML and summary row for a call. Two calls may be
in a worker at once: one is read and measured (decoding, VAD, pitch) while the other is
transcribed; the transcription itself is one at a time (a lock), so the model's threads
and the measuring share the CPU cores instead of idling in turn.
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
from audio.recording import RecordingError
from audio.staged_analysis import finish_measured, measure_recording
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
    """

    def __init__(self, options: AnalysisOptions, out_dir: str, report_dir: str,
                 settings: str) -> None:
        self.options = options
        self.out_dir = Path(out_dir)
        self.report_dir = Path(report_dir)
        self.settings = settings
        self.playbook = load_playbook(options.playbook_path)
        # faster-whisper logs each window at INFO where a library set up logging: one
        # line per call is the batch's own progress, not these.
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
        self.transcriber = None
        if options.transcribe:
            self.transcriber = Transcriber(TranscriberConfig(model=options.model,
                                                             cpu_threads=options.cpu_threads))
            self.transcriber.load()
        self._transcribing = threading.Lock()
        self.stopping = threading.Event()  # set: the calls under way end (cancelled)
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}"  # in each done-marker

    def ready(self) -> bool:
        """Returns once the model is loaded (a cluster run waits on it before sending work)."""
        return True

    def run(self, job: CallJob, progress=None) -> BatchRow:
        """Analyse one call: its JSON, HTML, then its done-marker; a bad file is a row."""
        try:
            digest = audio_digest(job.path)
            measured = measure_recording(job.path, self.options, report_path=job.given)
            with self._transcribing:
                if self.stopping.is_set():
                    raise AnalysisCancelled()
                analysis = finish_measured(measured, self.options, transcriber=self.transcriber,
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
