"""Speech turns packed end to end into windows of up to ~28 s, one Whisper input each.

Whisper pads its input to 30 s, so a 1-s "yes" costs as much as 28 s of speech; packing a
speaker's turns (joined by a short silence, so Whisper hears the boundary) pays that
fixed cost once per window. Each turn's place in its window maps Whisper's word times back
to call time, and a word that lands in the silence between turns belongs to none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from audio.recording import SAMPLE_RATE

__all__ = ["Piece", "Window", "level", "pack_turns", "place_word"]

_FRAME = SAMPLE_RATE // 20  # 50 ms, for loudness and quiet split points
_MIN_PIECE_S = 0.05


@dataclass(frozen=True)
class Piece:
    """A stretch of one input segment placed in a window."""

    at: float  # start in the window (s)
    call_start: float  # start in the call (s)
    duration: float
    segment: int  # index of the input segment
    level_dbfs: float  # its speech level (90th percentile of 50-ms frames)

    @property
    def at_end(self) -> float:
        return self.at + self.duration

    @property
    def shift(self) -> float:
        return self.call_start - self.at


@dataclass
class Window:
    """Turns laid end to end, each followed by `gap_s` of silence, for one Whisper call."""

    pieces: list[Piece] = field(default_factory=list)
    chunks: list[np.ndarray] = field(default_factory=list)
    length_s: float = 0.0


def _frame_dbfs(audio: np.ndarray) -> np.ndarray:
    """Loudness of each 50-ms frame (dBFS, floored at -100)."""
    n = len(audio) // _FRAME
    if n == 0:
        power = np.array([np.mean(audio.astype(np.float64) ** 2)]) if len(audio) else np.zeros(1)
    else:
        power = np.mean(audio[: n * _FRAME].astype(np.float64).reshape(n, _FRAME) ** 2, axis=1)
    return 10 * np.log10(np.maximum(power, 1e-10))


def level(audio: np.ndarray) -> float:
    """Speech level of a stretch: loud frames count, the silent padding of a turn does not."""
    return float(np.percentile(_frame_dbfs(audio), 90))


def _quietest(audio: np.ndarray, lo: float, hi: float) -> float:
    """Where to cut a long turn in [lo, hi] (s): the quietest 50 ms, i.e. between words.

    Of frames within 1 dB of the quietest (a pause is flat), the latest: longer pieces.
    """
    a, b = int(lo * SAMPLE_RATE), min(int(hi * SAMPLE_RATE), len(audio))
    if b - a < 2 * _FRAME:
        return hi
    levels = _frame_dbfs(audio[a:b])
    index = int(np.flatnonzero(levels <= levels.min() + 1.0)[-1])
    return lo + (index + 0.5) * _FRAME / SAMPLE_RATE


def _split_long(audio: np.ndarray, start: float, end: float, max_s: float
                ) -> list[tuple[float, float]]:
    """Cut a turn longer than a window at quiet points in the last quarter of each window."""
    parts: list[tuple[float, float]] = []
    while end - start > max_s:
        cut = _quietest(audio, start + 0.75 * max_s, start + max_s)
        parts.append((start, cut))
        start = cut
    parts.append((start, end))
    return parts


def pack_turns(audio: np.ndarray, segments: Sequence[tuple[float, float]], origin_s: float,
               window_s: float, gap_s: float) -> list[Window]:
    """Lay the segments (call times; audio sample 0 is `origin_s`) out in windows."""
    length_s = len(audio) / SAMPLE_RATE
    gap = np.zeros(int(round(gap_s * SAMPLE_RATE)), dtype=np.float32)
    windows: list[Window] = []
    current = Window()
    covered = 0.0  # audio already packed: overlapping (padded) turns are not sent twice
    for index in sorted(range(len(segments)), key=lambda i: segments[i]):
        start = max(segments[index][0] - origin_s, covered, 0.0)
        end = min(segments[index][1] - origin_s, length_s)
        if end - start < _MIN_PIECE_S:
            continue
        covered = end
        for a, b in _split_long(audio, start, end, window_s):
            clip = audio[int(round(a * SAMPLE_RATE)):int(round(b * SAMPLE_RATE))]
            duration = len(clip) / SAMPLE_RATE
            if current.pieces and current.length_s + duration > window_s:
                windows.append(current)
                current = Window()
            current.pieces.append(Piece(current.length_s, origin_s + a, duration, index,
                                         level(clip)))
            current.chunks += [clip, gap]
            current.length_s += duration + gap_s
    if current.pieces:
        windows.append(current)
    return windows


def place_word(pieces: list[Piece], start: float, end: float, gap_s: float) -> Piece | None:
    """The piece a word (window times) belongs to, or None for a word in the padding.

    Whisper's word times ignore the silence between packed turns: a turn's last word often
    runs on into the gap or past it. So a word goes to the piece it overlaps most; a word
    inside the gap (or after the last turn) overlaps none and is dropped. A zero-length
    word is an alignment artefact of a real token: it goes to the nearest piece.
    """
    if end > start:
        overlaps = [min(end, p.at_end) - max(start, p.at) for p in pieces]
        best = int(np.argmax(overlaps))
        return pieces[best] if overlaps[best] > 0 else None
    distances = [max(p.at - start, start - p.at_end, 0.0) for p in pieces]
    best = int(np.argmin(distances))
    return pieces[best] if distances[best] <= gap_s else None
