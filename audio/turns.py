"""Speech turns from per-hop voice probabilities, causally, as a live engine sees them.

Hysteresis turns the probability into voice on/off; a hang-over keeps a turn open
through a breath; a blip shorter than `min_speech_s` never opens a turn. Everything is
decided hop by hop from the past only, so `in_turn` is what a live engine sees, and any
way of cutting the probabilities into pushes gives the same result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audio.frames import HOP_S
from coaching.timeline import Speaker, SpeechTurn

__all__ = ["TurnConfig", "TurnTracker", "TurnStep"]


@dataclass(frozen=True)
class TurnConfig:
    """Hysteresis thresholds on the speech probability and the turn timings (s)."""

    on_threshold: float = 0.5
    off_threshold: float = 0.35
    min_speech_s: float = 0.12
    hangover_s: float = 0.35


@dataclass(frozen=True)
class TurnStep:
    """The tracker's output for a run of hops."""

    voice: np.ndarray  # bool per hop, hysteresis only
    in_turn: np.ndarray  # bool per hop, hang-over applied
    closed: list[SpeechTurn]


class TurnTracker:
    """Feeds on probabilities hop by hop; emits per-hop flags and closed turns.

    A turn is a stretch of voice whose gaps are all within the hang-over. It opens (and
    `in_turn` turns true) once it holds `min_speech_s` of voice in all, so a click is
    never a turn but a short first word ("I ...") still starts one: its start is the
    first voiced hop, not the first long run. It closes `hangover_s` after the last voiced
    hop, and ends at that hop's end (the hang-over is not speech).
    """

    def __init__(self, speaker: Speaker, hop_s: float = HOP_S,
                 config: TurnConfig = TurnConfig()) -> None:
        self.speaker = speaker
        self.hop_s = hop_s
        self.config = config
        self._hop = 0
        self._voice = False
        self._start: int | None = None  # first voiced hop of the current stretch
        self._voiced = 0  # voiced hops in the current stretch
        self._open = False  # the stretch has enough voice to be a turn
        self._last_voice = -1  # last voiced hop
        self._min_hops = max(1, round(config.min_speech_s / hop_s))
        self._hang_hops = max(1, round(config.hangover_s / hop_s))

    @property
    def open_turn_start(self) -> float | None:
        return round(self._start * self.hop_s, 3) if self._open else None

    @property
    def stretch_start(self) -> float | None:
        """Where the voice heard so far and not yet closed began, turn or not yet."""
        return round(self._start * self.hop_s, 3) if self._start is not None else None

    def _end_stretch(self) -> list[SpeechTurn]:
        closed = []
        if self._open:
            closed.append(SpeechTurn(self.speaker, round(self._start * self.hop_s, 3),
                                     round((self._last_voice + 1) * self.hop_s, 3)))
        self._start, self._voiced, self._open = None, 0, False
        return closed

    def push(self, probs: np.ndarray) -> TurnStep:
        cfg = self.config
        n = len(probs)
        voice = np.zeros(n, dtype=bool)
        in_turn = np.zeros(n, dtype=bool)
        closed: list[SpeechTurn] = []
        for i, p in enumerate(np.asarray(probs, dtype=np.float64).tolist()):
            h = self._hop
            self._voice = p >= (cfg.off_threshold if self._voice else cfg.on_threshold)
            if self._voice:
                if self._start is None:
                    self._start = h
                self._voiced += 1
                self._last_voice = h
                if self._voiced >= self._min_hops:
                    self._open = True
            elif self._start is not None and h - self._last_voice > self._hang_hops:
                closed += self._end_stretch()
            voice[i] = self._voice
            in_turn[i] = self._open
            self._hop += 1
        return TurnStep(voice, in_turn, closed)

    def flush(self) -> list[SpeechTurn]:
        """End of stream: close the open turn."""
        return self._end_stretch()
