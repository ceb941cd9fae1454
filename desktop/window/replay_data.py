"""What the replay page shows of an analysed call, built where the analysis ran.

Qt-free: the replay engine process (`engine_process`) builds it and sends it whole; the
window's workers use it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audio.analysis import CallAnalysis, loudness_tracks
from audio.contract import analysis_to_dict
from audio.model_location import ModelError
from audio.recording import RecordingError
from coaching.playbook import PlaybookError
from desktop.crash_log import log_exception

__all__ = ["ReplayData", "make_replay_data", "describe_error", "PLOT_POINTS_PER_S"]

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


def describe_error(exc: BaseException) -> str:
    """A user-facing line for anything an analysis can raise; the unexpected ones are
    also written, with their traceback, to the error log."""
    if isinstance(exc, _EXPECTED):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "the recording is too large to analyse in memory"
    log = log_exception(exc)
    return f"unexpected error ({type(exc).__name__}: {exc}); details in {log}"
