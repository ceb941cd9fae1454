"""Analyze a recorded call end to end: the replay side of the one pipeline.

The stages are the live engine's, fed from a file as fast as possible: per-channel frame
features, voice activity and speech turns (`audio.channel`), transcription of each
speaker's turns (`audio.transcribe`), then the coaching rules and scorecard
(`coaching`). A cue found here is the cue an agent would have seen live.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from audio.channel import ChannelConfig, analyze_channel
from audio.recording import SAMPLE_RATE, Recording, load_recording
from audio.transcribe import Transcriber
from coaching.engine import run_rules, skipped_kinds
from coaching.frame_track import FrameTrack
from coaching.playbook import Playbook
from coaching.scorecard import Scorecard, build_scorecard
from coaching.timeline import AGENT, CUSTOMER, CallTimeline, Event, Frame, SpeechTurn, Utterance

__all__ = ["AnalysisOptions", "CallAnalysis", "AnalysisCancelled", "analyze_recording",
           "analyze_loaded", "rescore"]

Progress = Callable[[str, float], None]
"""progress(stage, fraction 0..1 of the whole analysis)"""

# Turn edges are padded before transcription so Whisper hears whole first/last words.
_PAD_BEFORE_S = 0.1
_PAD_AFTER_S = 0.2


class AnalysisCancelled(Exception):
    """The caller's cancel() returned True; nothing was produced."""


@dataclass(frozen=True)
class AnalysisOptions:
    """Everything that decides an analysis; frozen so a worker can be handed it safely."""

    agent_channel: str = "left"
    model: str | None = None
    playbook_path: str | None = None
    transcribe: bool = True
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    cpu_threads: int = 2


@dataclass(frozen=True)
class CallAnalysis:
    """The result: what `callcoach analyze` prints and the replay page shows."""

    recording: Recording
    model_name: str
    playbook: Playbook
    timeline: CallTimeline
    events: tuple[Event, ...]
    scorecard: Scorecard
    skipped_kinds: tuple[str, ...]
    timings: dict[str, float]
    matching_note: str | None = None  # why phrases matched by their patterns only

    @property
    def notes(self) -> tuple[str, ...]:
        return self.playbook.redaction.notes + self.recording.notes + self.scorecard.notes + (
            (self.matching_note,) if self.matching_note else ())


def _pad_segments(turns: list[SpeechTurn], duration_s: float) -> list[tuple[float, float]]:
    return [(max(0.0, t.start - _PAD_BEFORE_S), min(duration_s, t.end + _PAD_AFTER_S))
            for t in turns]


def _analyze_channels(rec: Recording, config: ChannelConfig
                      ) -> tuple[list[Frame], list[SpeechTurn], list[Frame] | None,
                                 list[SpeechTurn]]:
    """Both channels at once: the VAD and pitch code release the GIL."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        agent = pool.submit(analyze_channel, rec.agent, AGENT, config)
        customer = (pool.submit(analyze_channel, rec.customer, CUSTOMER, config)
                    if rec.customer is not None else None)
        agent_frames, agent_turns = agent.result()
        if customer is None:
            return agent_frames, agent_turns, None, []
        customer_frames, customer_turns = customer.result()
    return agent_frames, agent_turns, customer_frames, customer_turns


def _transcribe(rec: Recording, transcriber: Transcriber,
                turns: dict[str, list[SpeechTurn]], report: Callable[[float], None],
                cancel: Callable[[], bool] | None) -> list[Utterance]:
    """Both speakers' turns, their windows decoded together in batches."""
    channels = [(AGENT, rec.agent)]
    if rec.customer is not None:
        channels.append((CUSTOMER, rec.customer))
    utterances = transcriber.transcribe_channels(
        [(speaker, samples, _pad_segments(turns[speaker], len(samples) / SAMPLE_RATE))
         for speaker, samples in channels if turns[speaker]],
        progress=report, cancel=cancel)
    if cancel and cancel():
        raise AnalysisCancelled()
    return utterances


def analyze_loaded(rec: Recording, options: AnalysisOptions = AnalysisOptions(), *,
                   transcriber: Transcriber | None = None, playbook: Playbook | None = None,
                   progress: Progress | None = None,
                   cancel: Callable[[], bool] | None = None) -> CallAnalysis:
    """Analyze a recording already in memory (see `analyze_recording`): measure it, then
    transcribe and coach it (`audio.staged_analysis`, whose two steps a batch overlaps)."""
    from audio.staged_analysis import finish_measured, measure_loaded  # imports this module

    measured = measure_loaded(rec, options, progress, cancel)
    return finish_measured(measured, options, transcriber=transcriber, playbook=playbook,
                           progress=progress, cancel=cancel)


def rescore(rec: Recording, model_name: str, timeline: CallTimeline, playbook: Playbook,
            timings: dict[str, float] | None = None) -> CallAnalysis:
    """Re-run only the rules and scorecard on an analysed call (the trainer's "what if").

    No audio work and no transcription: a changed threshold shows its effect at once.
    """
    events = run_rules(timeline, playbook)
    scorecard = build_scorecard(timeline, events, playbook)
    skipped = skipped_kinds(timeline.has_customer)
    return CallAnalysis(recording=rec, model_name=model_name, playbook=playbook,
                        timeline=timeline, events=tuple(events), scorecard=scorecard,
                        skipped_kinds=tuple(skipped), timings=dict(timings or {}))


def analyze_recording(path: str | os.PathLike[str], options: AnalysisOptions = AnalysisOptions(),
                      *, transcriber: Transcriber | None = None, playbook: Playbook | None = None,
                      progress: Progress | None = None,
                      cancel: Callable[[], bool] | None = None) -> CallAnalysis:
    """Read a call recording and run the whole pipeline on it.

    Args:
        path: a WAV/FLAC/MP3/OGG/M4A file; stereo = one party per channel.
        options: agent channel, model, playbook, VAD settings.
        transcriber: a loaded transcriber to reuse across calls (a folder of recordings).
        playbook: a loaded playbook to reuse; read from options.playbook_path otherwise.
        progress: called with (stage, fraction of the whole job).
        cancel: polled between stages and transcription windows.

    Returns:
        The analysis: timeline, events, scorecard.

    Raises:
        audio.recording.RecordingError: the file cannot be used (one-line message).
        audio.model_location.ModelError: the model cannot be loaded.
        coaching.playbook.PlaybookError: the playbook is invalid.
        AnalysisCancelled: cancel() returned True.
    """
    t0 = time.perf_counter()
    if progress:
        progress("reading the recording", 0.0)
    rec = load_recording(path, options.agent_channel)
    load_s = time.perf_counter() - t0
    analysis = analyze_loaded(rec, options, transcriber=transcriber, playbook=playbook,
                              progress=progress, cancel=cancel)
    analysis.timings["load_s"] = load_s
    analysis.timings["total_s"] = time.perf_counter() - t0
    return analysis


def loudness_tracks(timeline: CallTimeline, points_per_s: float = 5.0) -> dict[str, list]:
    """Loudness and pitch downsampled for plots (mean power, mean voiced pitch per bin)."""
    step = max(1, int(round(1.0 / (points_per_s * timeline.hop_s))))

    def track(frames: Sequence[Frame], attr: str) -> list[float | None]:
        values = (frames.column(attr) if isinstance(frames, FrameTrack)
                  else np.array([getattr(f, attr) for f in frames], dtype=float))
        n = len(values) // step
        if n == 0:
            return []
        bins = values[: n * step].reshape(n, step)
        if attr == "dbfs":
            power = np.mean(10.0 ** (bins / 10.0), axis=1)
            out = 10.0 * np.log10(np.maximum(power, 1e-10))
        else:
            voiced = ~np.isnan(bins)
            filled = np.where(voiced, bins, 0.0)
            counts = voiced.sum(axis=1)
            out = np.where(counts > 0, filled.sum(axis=1) / np.maximum(counts, 1), np.nan)
        return [None if np.isnan(v) else round(float(v), 1) for v in out]

    agent = timeline.agent_frames
    n = len(agent) // step
    tracks: dict[str, list] = {
        "t": [round((i * step + step / 2) * timeline.hop_s, 2) for i in range(n)],
        "agent_dbfs": track(agent, "dbfs"),
        "agent_pitch_hz": track(agent, "pitch_hz"),
    }
    if timeline.customer_frames is not None:
        tracks["customer_dbfs"] = track(timeline.customer_frames, "dbfs")[:n]
    return tracks
