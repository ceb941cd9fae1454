"""Kept call audio, with what the transcript redacted silenced before it reaches the disk.

Live, the audio of a card number arrives seconds before its transcript can say so. The
recorder therefore holds the call's audio in memory and writes only what the engine says
is decided (`cleared_s`): audio before the earliest speech not yet transcribed and
redacted. Each redacted stretch (with a margin) is silenced in both channels, since the
customer's voice leaks into the agent's headset microphone; so is speech no transcript
covers (Whisper dropped it, the backlog dropped it, it failed): what was not checked is
not kept. A crash loses the audio not yet decided, never writes it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np

from audio.recording import SAMPLE_RATE
from coaching.redactor import SilenceSpan
from coaching.timeline import Speaker, Word

__all__ = ["RedactedRecorder", "unheard_spans"]

_TOLERANCE_S = 0.5  # Whisper's word times are this far off at worst, near enough


def unheard_spans(speaker: Speaker, start: float, end: float, words: Sequence[Word] = ()
                  ) -> list[SilenceSpan]:
    """Stretches of a transcribed clip (call times) that no word covers, give or take
    Whisper's timing: speech it dropped, or all of it when no word came back."""
    spans = []
    prev = start - _TOLERANCE_S
    for w in sorted(words, key=lambda w: w.start):
        if w.start - prev > 2 * _TOLERANCE_S:
            spans.append(SilenceSpan(speaker, prev + _TOLERANCE_S, w.start - _TOLERANCE_S,
                                     "unchecked"))
        prev = max(prev, w.end)
    if end + _TOLERANCE_S - prev > 2 * _TOLERANCE_S:
        spans.append(SilenceSpan(speaker, prev + _TOLERANCE_S, end, "unchecked"))
    return spans


class RedactedRecorder:
    """A stereo 16-bit WAV (agent left, customer right) written behind the transcript.

    `add` every block as it comes; `write` whenever the engine has decided more of the
    call; `close` at the end with the final spans. Writing errors (a full disk) raise
    OSError or RuntimeError and leave nothing undecided on the disk.
    """

    def __init__(self, path: str, margin_s: float = 0.3, sample_rate: int = SAMPLE_RATE
                 ) -> None:
        self.path = path
        self.margin_s = margin_s
        self.rate = sample_rate
        self._file = None
        self._chunks: deque[np.ndarray] = deque()  # int16, (n, 2)
        self._buffered = 0
        self._written = 0  # samples on disk; the first buffered sample's index
        self.silenced_samples = 0

    @property
    def written_s(self) -> float:
        return self._written / self.rate

    @property
    def buffered_s(self) -> float:
        """Audio held in memory, waiting for its transcript."""
        return self._buffered / self.rate

    def open(self) -> None:
        import soundfile as sf

        self._file = sf.SoundFile(self.path, "w", samplerate=self.rate, channels=2,
                                  subtype="PCM_16")

    def add(self, agent: np.ndarray, customer: np.ndarray | None = None) -> None:
        agent = np.asarray(agent, dtype=np.float32)
        other = np.zeros_like(agent) if customer is None else np.asarray(customer, np.float32)
        pair = np.column_stack([agent, other])
        self._chunks.append((np.clip(pair, -1.0, 1.0) * 32767).astype(np.int16))
        self._buffered += len(pair)

    def _take(self, n: int) -> np.ndarray:
        pieces, need = [], n
        while need > 0:
            chunk = self._chunks[0]
            if len(chunk) <= need:
                pieces.append(self._chunks.popleft())
                need -= len(chunk)
            else:
                pieces.append(chunk[:need])
                self._chunks[0] = chunk[need:]
                need = 0
        self._buffered -= n
        return np.concatenate(pieces) if len(pieces) > 1 else pieces[0].copy()

    def _silence(self, block: np.ndarray, first: int, spans: Iterable[SilenceSpan]) -> None:
        last = first + len(block)
        for span in spans:
            a = max(first, int((span.start - self.margin_s) * self.rate))
            b = min(last, int(np.ceil((span.end + self.margin_s) * self.rate)))
            if a < b:
                block[a - first:b - first] = 0
                self.silenced_samples += b - a

    def due(self, cleared_s: float) -> bool:
        """Whether `write(cleared_s, ...)` would write anything."""
        return (self._file is not None and self._buffered > 0
                and int((cleared_s - self.margin_s) * self.rate) > self._written)

    def write(self, cleared_s: float, spans: Iterable[SilenceSpan]) -> None:
        """Write the audio before `cleared_s` (less the margin): the engine's redactions
        there are final."""
        if self._file is None:
            return
        upto = min(self._written + self._buffered,
                   int((cleared_s - self.margin_s) * self.rate))
        n = upto - self._written
        if n <= 0:
            return
        block = self._take(n)
        self._silence(block, self._written, spans)
        self._file.write(block)
        self._written += n

    def close(self, spans: Iterable[SilenceSpan]) -> None:
        """The call is over and every transcript is in: write the rest and close."""
        if self._file is None:
            return
        try:
            if self._buffered:
                first = self._written
                block = self._take(self._buffered)
                self._silence(block, first, list(spans))
                self._file.write(block)
                self._written += len(block)
        finally:
            self._file.close()
            self._file = None

    def abandon(self) -> None:
        """Stop keeping audio (a write failed): drop what is held, close the file."""
        self._chunks.clear()
        self._buffered = 0
        if self._file is not None:
            try:
                self._file.close()
            except (OSError, RuntimeError):
                pass
            self._file = None
