"""Speech turns from per-hop voice probabilities, causally, as a live engine sees them.

Hysteresis turns the probability into voice on/off; a hang-over keeps a turn open
through a breath; a blip shorter than `min_speech_s` never opens a turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coaching.timeline import Speaker, SpeechTurn

__all__ = ["TurnConfig", "TurnTracker", "TurnStep"]


@dataclass(frozen=True)
class TurnConfig:
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
    """Feeds on probabilities hop by hop; emits per-hop flags and closed turns."""

    def __init__(self, speaker: Speaker, hop_s: float, config: TurnConfig = TurnConfig()):
        self.speaker = speaker
        self.hop_s = hop_s
        self.config = config
        self._hop = 0
        self._voice = False
        self._run_start: int | None = None  # first hop of the current voiced run
        self._turn_start: int | None = None  # first hop of the open turn
        self._last_voice: int = -1  # last voiced hop
        self._min_hops = max(1, round(config.min_speech_s / hop_s))
        self._hang_hops = max(1, round(config.hangover_s / hop_s))

    @property
    def open_turn_start(self) -> float | None:
        return None if self._turn_start is None else self._turn_start * self.hop_s

    def _close(self) -> SpeechTurn:
        turn = SpeechTurn(self.speaker, round(self._turn_start * self.hop_s, 3),
                          round((self._last_voice + 1) * self.hop_s, 3))
        self._turn_start = None
        return turn

    def push(self, probs: np.ndarray) -> TurnStep:
        cfg = self.config
        n = len(probs)
        voice = np.zeros(n, dtype=bool)
        in_turn = np.zeros(n, dtype=bool)
        closed: list[SpeechTurn] = []
        for i, p in enumerate(probs):
            h = self._hop
            if self._voice:
                self._voice = p >= cfg.off_threshold
            else:
                self._voice = p >= cfg.on_threshold
            if self._voice:
                if self._run_start is None:
                    self._run_start = h
                self._last_voice = h
                if self._turn_start is None and h - self._run_start + 1 >= self._min_hops:
                    self._turn_start = self._run_start
            else:
                self._run_start = None
                if self._turn_start is not None and h - self._last_voice > self._hang_hops:
                    closed.append(self._close())
            voice[i] = self._voice
            in_turn[i] = self._turn_start is not None
            self._hop += 1
        return TurnStep(voice, in_turn, closed)

    def flush(self) -> list[SpeechTurn]:
        """End of stream: close the open turn."""
        return [self._close()] if self._turn_start is not None else []
