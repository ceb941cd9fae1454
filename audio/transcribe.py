"""Whisper (faster-whisper) on speech only, with word times in call time.

Two entry points for the one model: `transcribe_utterance` for the live engine (each
utterance as it ends) and `transcribe_segments` for a recorded call, which packs a
speaker's turns into windows of up to ~28 s so that Whisper's fixed 30-s cost is paid
per window, not per turn (a call has hundreds of turns). Whisper's known failure modes
are guarded: only VAD speech is transcribed, segments Whisper itself judges as
no-speech are dropped, `condition_on_previous_text` is off (no repetition loops carried
across windows), and repeated-phrase loops and stock silence phrases are discarded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from audio.model_location import ModelError, ModelSpec, resolve_model
from audio.recording import SAMPLE_RATE
from coaching.timeline import Speaker, Utterance, Word

__all__ = ["TranscriberConfig", "Transcriber"]

_WINDOW_S = 28.0
_GAP_S = 0.3  # silence between packed turns, so Whisper hears a boundary
_SILENCE_PHRASES = {"thank you", "thanks for watching", "you", "bye", "thank you very much",
                    "thanks for watching and see you next time"}


@dataclass(frozen=True)
class TranscriberConfig:
    model: str | None = None  # None = the bundled tiny.en
    language: str = "en"
    cpu_threads: int = 2
    beam_size: int = 1
    no_speech_threshold: float = 0.6
    logprob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    min_word_probability: float = 0.0


@dataclass
class _Window:
    """Packed audio and, for each piece, (window offset, call start, duration, segment)."""

    pieces: list[tuple[float, float, float, int]]
    audio: list[np.ndarray]
    length_s: float = 0.0


def _is_loop(text: str) -> bool:
    words = text.lower().split()
    if len(words) < 8:
        return False
    for n in (1, 2, 3, 4):
        grams = [" ".join(words[i:i + n]) for i in range(0, len(words) - n + 1, n)]
        if grams and max(grams.count(g) for g in set(grams)) >= max(4, len(grams) * 0.6):
            return True
    return False


def _norm(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum() or c == " ").strip()


class Transcriber:
    """One Whisper model, loaded once, shared by the calls that need it (thread-safe)."""

    def __init__(self, config: TranscriberConfig = TranscriberConfig()) -> None:
        self.config = config
        self.spec: ModelSpec = resolve_model(config.model)
        self._model = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    def load(self) -> None:
        """Load the model now (it is otherwise loaded on first use).

        Raises:
            ModelError: it cannot be loaded (not downloaded and offline, corrupt, ...).
        """
        with self._lock:
            if self._model is not None:
                return
            if self.spec.bundled:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from faster_whisper import WhisperModel

                self._model = WhisperModel(self.spec.source, device="cpu",
                                           compute_type="int8",
                                           cpu_threads=self.config.cpu_threads)
            except Exception as exc:  # noqa: BLE001 - hub, file and runtime errors alike
                hint = ("" if self.spec.bundled or os.path.isdir(self.spec.source) else
                        " (not downloaded and no network? use the bundled tiny.en or a "
                        "local model folder)")
                raise ModelError(f"cannot load Whisper model {self.spec.name!r}: "
                                 f"{exc.__class__.__name__}: {exc}{hint}") from None

    def _run(self, audio: np.ndarray) -> list:
        self.load()
        cfg = self.config
        with self._lock:  # one decode at a time: CTranslate2 already uses every core
            segments, _ = self._model.transcribe(
                audio, language=cfg.language, beam_size=cfg.beam_size, word_timestamps=True,
                vad_filter=False, condition_on_previous_text=False,
                no_speech_threshold=cfg.no_speech_threshold,
                log_prob_threshold=cfg.logprob_threshold,
                compression_ratio_threshold=cfg.compression_ratio_threshold,
                temperature=0.0, without_timestamps=False)
            return list(segments)

    def _words(self, audio: np.ndarray) -> list[Word]:
        """Words (times within `audio`) from the segments that pass the guards."""
        cfg = self.config
        words: list[Word] = []
        for seg in self._run(audio):
            text = seg.text.strip()
            if not text or not seg.words:
                continue
            if seg.no_speech_prob > cfg.no_speech_threshold and seg.avg_logprob < -0.5:
                continue
            if seg.compression_ratio > cfg.compression_ratio_threshold or _is_loop(text):
                continue
            if _norm(text) in _SILENCE_PHRASES and seg.no_speech_prob > 0.3:
                continue
            words += [Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
                      for w in seg.words if w.word.strip()
                      and w.probability >= cfg.min_word_probability]
        return words

    def transcribe_utterance(self, audio: np.ndarray, speaker: Speaker,
                             offset_s: float) -> Utterance | None:
        """One finished utterance (the live path).

        Args:
            audio: the utterance, 16 kHz float32.
            speaker: whose it is.
            offset_s: its start in call time.

        Returns:
            The utterance in call time, or None when nothing real was said.
        """
        words = self._words(np.asarray(audio, dtype=np.float32))
        if not words:
            return None
        words = [Word(round(w.start + offset_s, 3), round(w.end + offset_s, 3), w.text,
                      w.probability) for w in words]
        return Utterance(speaker, words[0].start, words[-1].end,
                         " ".join(w.text for w in words), tuple(words))

    def _pack(self, audio: np.ndarray, segments: Sequence[tuple[float, float]]
              ) -> list[_Window]:
        windows: list[_Window] = []
        current = _Window([], [])
        gap = np.zeros(int(_GAP_S * SAMPLE_RATE), dtype=np.float32)
        for index, (start, end) in enumerate(segments):
            pos = start
            while pos < end - 0.05:  # split a turn longer than a window
                piece_end = min(end, pos + _WINDOW_S)
                length = piece_end - pos
                if current.pieces and current.length_s + length > _WINDOW_S:
                    windows.append(current)
                    current = _Window([], [])
                clip = audio[int(pos * SAMPLE_RATE):int(piece_end * SAMPLE_RATE)]
                current.pieces.append((current.length_s, pos, length, index))
                current.audio += [clip, gap]
                current.length_s += len(clip) / SAMPLE_RATE + _GAP_S
                pos = piece_end
        if current.pieces:
            windows.append(current)
        return windows

    def transcribe_segments(self, audio: np.ndarray, speaker: Speaker,
                            segments: Sequence[tuple[float, float]],
                            progress: Callable[[float], None] | None = None,
                            cancel: Callable[[], bool] | None = None) -> list[Utterance]:
        """Every speech turn of one speaker's channel (the recorded-call path).

        Args:
            audio: the speaker's whole channel, 16 kHz float32.
            speaker: whose channel it is.
            segments: the turns to transcribe, (start, end) in call seconds, in order.
            progress: called with the fraction done (0..1).
            cancel: polled between windows; when it returns True the rest is skipped.

        Returns:
            One utterance per segment that held words, times in call time.
        """
        windows = self._pack(np.asarray(audio, dtype=np.float32), segments)
        by_segment: dict[int, list[Word]] = {}
        for n, window in enumerate(windows):
            if cancel and cancel():
                break
            for w in self._words(np.concatenate(window.audio)):
                mid = (w.start + w.end) / 2
                for offset, call_start, length, index in window.pieces:
                    if offset - 0.15 <= mid <= offset + length + 0.15:
                        shift = call_start - offset
                        by_segment.setdefault(index, []).append(Word(
                            round(max(call_start, w.start + shift), 3),
                            round(min(call_start + length, w.end + shift), 3),
                            w.text, w.probability))
                        break
            if progress:
                progress((n + 1) / len(windows))
        utterances = []
        for index in sorted(by_segment):
            words = by_segment[index]
            utterances.append(Utterance(speaker, words[0].start, words[-1].end,
                                        " ".join(w.text for w in words), tuple(words)))
        return utterances


