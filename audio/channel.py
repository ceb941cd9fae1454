"""One party's channel, hop by hop: loudness, pitch, voice activity and speech turns.

The live engine pushes 20 ms blocks, replay pushes a whole recording; both get the same
frames because every stage works on whole 512-sample windows and keeps its state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import starmap

import numpy as np

from audio.frames import HOP, HOP_S, LoudnessPitch
from audio.turns import TurnConfig, TurnTracker
from audio.vad import WINDOW, make_vad
from coaching.timeline import Frame, Speaker, SpeechTurn

__all__ = ["ChannelConfig", "ChannelUpdate", "ChannelAnalyzer", "analyze_channel"]

_HOPS_PER_WINDOW = WINDOW // HOP
_MAX_BLOCK = 20 * 16000  # samples analysed at once


@dataclass(frozen=True)
class ChannelConfig:
    """Voice-activity settings; frozen so a worker can hold it without surprises."""

    vad: str = "silero"  # or "energy"
    turns: TurnConfig = field(default_factory=TurnConfig)


@dataclass(frozen=True)
class ChannelUpdate:
    frames: list[Frame]
    closed_turns: list[SpeechTurn]
    open_turn_start: float | None


class ChannelAnalyzer:
    """Streaming analysis of one speaker's audio (16 kHz float32)."""

    def __init__(self, speaker: Speaker, config: ChannelConfig = ChannelConfig()) -> None:
        self.speaker = speaker
        self.config = config
        self.vad = make_vad(config.vad)
        self._features = LoudnessPitch()
        self._turns = TurnTracker(speaker, HOP_S, config.turns)
        self._pending = np.zeros(0, dtype=np.float32)

    @property
    def vad_name(self) -> str:
        return self.vad.name

    @property
    def speech_since(self) -> float | None:
        """The start of speech not yet closed into a turn (None in silence): audio from
        here on may still be transcribed."""
        return self._turns.stretch_start

    def push(self, samples: np.ndarray) -> ChannelUpdate:
        """Frames for every hop `samples` completes (a long recording goes in pieces, so
        memory stays bounded; the result does not depend on how it is cut)."""
        samples = np.asarray(samples, dtype=np.float32)
        if len(samples) > _MAX_BLOCK:
            parts = [self._push(samples[i:i + _MAX_BLOCK])
                     for i in range(0, len(samples), _MAX_BLOCK)]
            return ChannelUpdate([f for p in parts for f in p.frames],
                                 [t for p in parts for t in p.closed_turns],
                                 parts[-1].open_turn_start)
        return self._push(samples)

    def _push(self, samples: np.ndarray) -> ChannelUpdate:
        x = np.concatenate([self._pending, samples])
        n_win = len(x) // WINDOW
        body, self._pending = x[: n_win * WINDOW], x[n_win * WINDOW:]
        if n_win == 0:
            return ChannelUpdate([], [], self._turns.open_turn_start)
        probs = np.repeat(self.vad.process(body.reshape(n_win, WINDOW)), _HOPS_PER_WINDOW)
        step = self._turns.push(probs)
        feats = self._features.push(body, pitch_mask=step.voice)
        first = feats.first_hop
        times = np.round(np.arange(first, first + len(probs)) * HOP_S, 3).tolist()
        pitch = np.where(step.voice, feats.pitch_hz, np.nan).tolist()
        tilt = np.where(step.voice, feats.tilt_db, np.nan).tolist()
        frames = list(starmap(Frame, zip(
            times, feats.dbfs.tolist(), pitch, probs.tolist(), step.voice.tolist(),
            step.in_turn.tolist(), tilt, strict=True)))
        return ChannelUpdate(frames, step.closed, self._turns.open_turn_start)

    def flush(self) -> ChannelUpdate:
        """End of stream: pad the last partial window with silence and close the turn."""
        update = ChannelUpdate([], [], None)
        if len(self._pending):
            pad = np.zeros(WINDOW - len(self._pending), dtype=np.float32)
            update = self._push(pad)
        return ChannelUpdate(update.frames, update.closed_turns + self._turns.flush(), None)


def analyze_channel(samples: np.ndarray, speaker: Speaker,
                    config: ChannelConfig = ChannelConfig()
                    ) -> tuple[list[Frame], list[SpeechTurn]]:
    """A whole channel at once: its frames and speech turns."""
    analyzer = ChannelAnalyzer(speaker, config)
    first = analyzer.push(samples)
    last = analyzer.flush()
    return first.frames + last.frames, first.closed_turns + last.closed_turns
