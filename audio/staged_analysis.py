"""`analyze_recording` in two steps, so a batch can overlap them across calls.

Step one, `measure_recording`, reads the file and computes both channels' frame features
and speech turns (decoding, VAD, pitch: work that does not need the speech model). Step
two, `finish_measured`, transcribes the turns and runs the coaching rules and scorecard.
A folder run measures the next call while this one transcribes, so both cores stay busy.

`audio.analysis.analyze_loaded` is these two steps run back to back, so a batch's report
is the one `analyze_recording` writes (tests/test_batch_resume.py compares the JSON).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from audio.analysis import (
    AnalysisCancelled,
    AnalysisOptions,
    CallAnalysis,
    Progress,
    _analyze_channels,
    _transcribe,
    rescore,
)
from audio.frames import HOP_S
from audio.recording import Recording, load_recording
from audio.sentence_encoder import shared_encoder
from audio.transcribe import Transcriber, TranscriberConfig
from coaching.frame_track import FrameTrack
from coaching.playbook import Playbook, load_playbook
from coaching.redactor import redact_utterances
from coaching.timeline import AGENT, CUSTOMER, CallTimeline, Frame, SpeechTurn, Utterance

RECORDING_DECODERS = 2  # a recording's batches decoded at once, each on its share of the cores

__all__ = ["RECORDING_DECODERS", "MeasuredCall", "measure_recording", "measure_loaded",
           "finish_measured"]


@dataclass(frozen=True, eq=False)
class MeasuredCall:
    """A call read and measured, waiting for its transcription."""

    recording: Recording
    agent_frames: list[Frame]
    agent_turns: list[SpeechTurn]
    customer_frames: list[Frame] | None
    customer_turns: list[SpeechTurn]
    timings: dict[str, float] = field(default_factory=dict)


def measure_recording(path: str | os.PathLike[str], options: AnalysisOptions = AnalysisOptions(),
                      *, report_path: str | None = None) -> MeasuredCall:
    """Read the recording and compute its features and turns (no speech model needed).

    `report_path` is the path the report names (the one the user gave) when the file is
    read through another one (a cluster worker reads the absolute path).

    Raises:
        audio.recording.RecordingError: the file cannot be used (one-line message).
    """
    t0 = time.perf_counter()
    rec = load_recording(path, options.agent_channel)
    if report_path is not None:
        rec = replace(rec, path=report_path)
    load_s = time.perf_counter() - t0
    measured = measure_loaded(rec, options)
    return replace(measured, timings={"load_s": load_s, **measured.timings})


def measure_loaded(rec: Recording, options: AnalysisOptions = AnalysisOptions(),
                   progress: Progress | None = None,
                   cancel: Callable[[], bool] | None = None) -> MeasuredCall:
    """Step one on a recording already in memory: both channels' features and turns.

    The sentence encoder starts loading on its own thread here, while the audio is
    measured and transcribed.

    Raises:
        AnalysisCancelled: cancel() returned True.
    """
    if options.transcribe:
        shared_encoder()
    if progress:
        progress("measuring voices", 0.02)
    t0 = time.perf_counter()
    agent_frames, agent_turns, customer_frames, customer_turns = _analyze_channels(
        rec, options.channel)
    measured = MeasuredCall(rec, agent_frames, agent_turns, customer_frames, customer_turns,
                            {"features_s": time.perf_counter() - t0})
    if cancel and cancel():
        raise AnalysisCancelled()
    return measured


def finish_measured(measured: MeasuredCall, options: AnalysisOptions = AnalysisOptions(), *,
                    transcriber: Transcriber | None = None, playbook: Playbook | None = None,
                    progress: Progress | None = None,
                    cancel: Callable[[], bool] | None = None) -> CallAnalysis:
    """Transcribe a measured call and coach it: the rest of `analyze_loaded`."""
    report = progress or (lambda stage, f: None)
    rec = measured.recording
    timings = dict(measured.timings)
    playbook = playbook or load_playbook(options.playbook_path)
    encoder = shared_encoder() if options.transcribe else None
    if cancel and cancel():
        raise AnalysisCancelled()

    utterances: list[Utterance] = []
    redactions: tuple = ()
    model_name = "none"
    if options.transcribe:
        transcriber = transcriber or Transcriber(TranscriberConfig(
            model=options.model, cpu_threads=options.cpu_threads,
            decoders=min(RECORDING_DECODERS, options.cpu_threads)))
        t1 = time.perf_counter()
        report("loading the speech model", 0.12)
        transcriber.load()
        model_name = transcriber.name
        utterances = _transcribe(
            rec, transcriber, {AGENT: measured.agent_turns, CUSTOMER: measured.customer_turns},
            lambda f: report("transcribing", 0.15 + 0.8 * f), cancel)
        utterances, redactions, _ = redact_utterances(utterances, playbook.redaction)
        timings["transcription_s"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    report("coaching", 0.96)
    note = None
    if encoder is not None and utterances and playbook.encoder_name is None:
        encoder.attach(playbook, wait=None)
        note = encoder.note
    turns = tuple(sorted(measured.agent_turns + measured.customer_turns,
                         key=lambda t: (t.start, t.speaker)))
    timeline = CallTimeline(
        hop_s=HOP_S, duration_s=rec.duration_s, agent_frames=FrameTrack(measured.agent_frames),
        customer_frames=(FrameTrack(measured.customer_frames)
                         if measured.customer_frames is not None else None),
        turns=turns, utterances=tuple(utterances), redactions=tuple(redactions))
    analysis = replace(rescore(rec, model_name, timeline, playbook, timings),
                       matching_note=note)
    # As analyze_recording's document: the same keys (its coaching_s is measured after
    # the timings were copied into the analysis, so it never shows; nor does it here).
    coaching_s = time.perf_counter() - t2
    analysis.timings["total_s"] = sum(timings.values()) + coaching_s
    report("done", 1.0)
    return analysis
