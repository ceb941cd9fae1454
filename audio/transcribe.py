"""Whisper (faster-whisper) on speech turns only, with word times in call time.

Entry points for the one model: `transcribe_utterance` for the live engine (each
utterance as it ends), `transcribe_channels` for a recorded call and `transcribe_segments`
for one channel of one. Whisper pads its input to 30 s, so one call costs the same for a
1-s "yes" as for 28 s of speech; a call has hundreds of turns, so the recorded-call path
packs a speaker's turns into windows of up to ~28 s (`audio.turn_windows`) and pays the
fixed cost once per window. A map from window time to call time brings every word back
to its turn. `transcribe_channels` puts both speakers' windows in one queue and decodes
them several at a time (`audio.batched_decode`); `transcribe_segments` one at a time.

Whisper's known failure modes are guarded here rather than trusted away:
  - only VAD speech is given to it (the caller's turns), never long silence;
  - `condition_on_previous_text` is off, so one loop cannot feed the next window;
  - no temperature fallback: decoding is deterministic and the guards below decide;
  - segments it judges as no-speech with low confidence are dropped, per segment (its own
    skip would throw away a whole window because one quiet turn opens it);
  - words that land in the silence between packed turns are dropped;
  - repetition loops (a repeated n-gram, or text that compresses too well) are dropped;
  - its stock silence phrases ("Thank you.", "Thanks for watching!", "you") are dropped
    when they come from a quiet turn or Whisper itself thinks there was no speech.
"""

from __future__ import annotations

import logging
import math
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audio.model_location import ModelSpec, load_model, resolve_model
from audio.recording import SAMPLE_RATE
from audio.turn_windows import Piece, Window, level, pack_turns, place_word
from coaching.timeline import Speaker, Utterance, Word

__all__ = ["TranscriberConfig", "Transcriber", "ChannelTurns"]

_WHISPER_FRAME_S = 0.01  # a `Segment.seek` is counted in 10-ms feature frames
_SILENCE_PHRASES = frozenset({
    "you", "thank you", "thank you very much", "thanks", "thanks for watching",
    "thank you for watching", "thanks for watching and see you next time",
    "please subscribe", "subscribe", "bye",
})
log = logging.getLogger(__name__)

ChannelTurns = tuple[Speaker, np.ndarray, Sequence[tuple[float, float]]]
"""(speaker, the channel's audio from call time 0, its turns in call seconds)"""


@dataclass(frozen=True)
class TranscriberConfig:
    """How to run Whisper; a worker gets one of these, never the settings.

    Attributes:
        model: None for the bundled tiny.en, a size name or a model folder.
        language: the language spoken (Whisper does not have to guess).
        cpu_threads: threads for CTranslate2.
        beam_size: 1 is greedy: several times faster, nearly as accurate on short turns.
        no_speech_threshold: a segment Whisper thinks is this likely to be no speech...
        logprob_threshold: ...and whose words are this unlikely on average is dropped.
        compression_ratio_threshold: text that gzips better than this is a loop.
        quiet_db: a silence phrase from a turn this far below the speaker's level is
            dropped (as is one under `floor_dbfs`).
        floor_dbfs: the level under which a turn is silence whatever the speaker's level.
        window_s: audio per Whisper call (under its 30-s input, leaving room to end).
        gap_s: silence between packed turns.
        batch_size: windows decoded together by `transcribe_channels`.
        share_rests: there, the rests of decodes that stop short share one input: fewer
            encoder passes (~10% less CPU), but ~1% of words differ from one by one.
        timestamps: there, True decodes with Whisper's timestamp tokens and goes on
            where a decode stopped short (the words of one by one); False (the default)
            decodes each window once without them, as faster-whisper's
            `BatchedInferencePipeline` does: 10-20% less CPU on a 10-minute call, and no
            more word errors against what was really said (README, Speed).
        decoders: there, batches decoded at once, each on `cpu_threads // decoders`
            threads of a model loaded once for that many: one decode on both cores leaves
            them ~15% idle between Whisper's batches. Speed only: the words are the same
            (so not in the repr, which keys a batch's reports).
    """

    model: str | None = None
    language: str = "en"
    cpu_threads: int = 2
    beam_size: int = 1
    no_speech_threshold: float = 0.6
    logprob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    quiet_db: float = 20.0
    floor_dbfs: float = -60.0
    window_s: float = 28.0
    gap_s: float = 0.3
    batch_size: int = 8
    share_rests: bool = False
    timestamps: bool = False
    decoders: int = field(default=1, repr=False)


def _norm(text: str) -> str:
    return " ".join("".join(c if c.isalnum() or c == "'" else " " for c in text.lower()).split())


def _is_loop(text: str) -> bool:
    """Whisper's repetition loop: one n-gram repeated back to back (>= 3 times, >= 8 words)."""
    words = _norm(text).split()
    for n in range(1, 7):
        for i in range(len(words) - 3 * n + 1):
            gram = words[i:i + n]
            repeats = 1
            while words[i + repeats * n:i + (repeats + 1) * n] == gram:
                repeats += 1
            if repeats >= 3 and repeats * n >= 8:
                return True
    return False


def compression_ratio(text: str) -> float:
    """Whisper's own loop measure: raw bytes over gzip-compressed bytes."""
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


class Transcriber:
    """One Whisper model, loaded once, shared by whoever needs it (thread-safe).

    Decodes run one at a time, on every thread CTranslate2 was given; a recording's
    batches `config.decoders` at a time, each on its share of the threads (the model
    loaded for that many), which keeps the cores busy between Whisper's batches.
    """

    def __init__(self, config: TranscriberConfig = TranscriberConfig(), *,
                 model: Any = None) -> None:
        """Resolve the model now (a bad --model fails at once); load it on first use.

        Args:
            config: how to run Whisper.
            model: an already loaded faster-whisper model to use instead of loading
                `config.model` (shared between configs; a stand-in in tests).

        Raises:
            audio.model_location.ModelError: the model folder or name is invalid.
        """
        self.config = config
        self.spec: ModelSpec = resolve_model(config.model)
        self._model: Any = model
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, config.decoders))  # batches at once

    @property
    def name(self) -> str:
        """The model's display name ("tiny.en", a folder's name)."""
        return self.spec.name

    def load(self) -> None:
        """Load the model now (otherwise it is loaded on first use); a no-op once loaded.

        Raises:
            audio.model_location.ModelError: it cannot be loaded (not downloaded and
                offline, corrupt, ...).
        """
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                decoders = max(1, self.config.decoders)
                self._model = load_model(self.spec, max(1, self.config.cpu_threads // decoders),
                                         workers=decoders)

    # -- one Whisper call ----------------------------------------------------------------
    def _decode(self, audio: np.ndarray) -> list[Any]:
        """Whisper's segments for `audio` (times within it)."""
        self.load()
        cfg = self.config
        with self._lock:  # the segments are a lazy generator: decode inside the lock
            segments, _ = self._model.transcribe(
                audio, language=cfg.language, beam_size=cfg.beam_size,
                word_timestamps=True, vad_filter=False, condition_on_previous_text=False,
                temperature=0.0, no_speech_threshold=None, log_prob_threshold=None,
                compression_ratio_threshold=None, without_timestamps=False)
            return list(segments)

    def _keep_segment(self, seg: Any, no_speech: float) -> bool:
        """The segment-level guards: repetition loops, and no-speech with unlikely words."""
        cfg = self.config
        text = seg.text.strip()
        if not text or not seg.words:
            return False
        if _is_loop(text) or compression_ratio(text) > cfg.compression_ratio_threshold:
            log.debug("dropped a repetition loop (%d words)", len(seg.words))
            return False
        word_logprob = float(np.mean([math.log(max(w.probability, 1e-6)) for w in seg.words]))
        if (no_speech > cfg.no_speech_threshold
                and min(word_logprob, seg.avg_logprob) < cfg.logprob_threshold):
            log.debug("dropped a no-speech segment (p=%.2f, %d words)", no_speech,
                      len(seg.words))
            return False
        return True

    def _silence_phrase(self, piece: Piece, words: list[Word], no_speech: float,
                        reference_dbfs: float) -> bool:
        """A stock phrase Whisper says over silence, heard in a quiet turn or no speech."""
        if _norm(" ".join(w.text for w in words)) not in _SILENCE_PHRASES:
            return False
        cfg = self.config
        quiet = piece.level_dbfs < max(cfg.floor_dbfs, reference_dbfs - cfg.quiet_db)
        if quiet or no_speech > cfg.no_speech_threshold:
            log.debug("dropped a silence phrase (%.0f dBFS, no-speech p=%.2f)",
                      piece.level_dbfs, no_speech)
            return True
        return False

    def _window_words(self, window: Window, segments: list[Any], reference_dbfs: float
                      ) -> list[tuple[Piece, Word]]:
        """A window's kept words (Whisper's `segments` for it), each with its piece, in
        call time."""
        cfg = self.config
        found: list[tuple[Piece, Word]] = []
        for seg in segments:
            no_speech = _no_speech(seg)
            if not self._keep_segment(seg, no_speech):
                continue
            by_piece: dict[Piece, list[Word]] = {}
            for w in seg.words:
                text, w_start, w_end = w.word.strip(), float(w.start), float(w.end)
                if not any(c.isalnum() for c in text):
                    continue  # a lone punctuation mark, Whisper's way of saying "nothing"
                piece = place_word(window.pieces, w_start, w_end, cfg.gap_s)
                if piece is None:
                    continue  # in the silence between packed turns
                stop = piece.call_start + piece.duration
                start = min(max(w_start + piece.shift, piece.call_start), stop)
                end = min(max(w_end + piece.shift, start), stop)
                by_piece.setdefault(piece, []).append(
                    Word(round(start, 3), round(end, 3), text, round(float(w.probability), 3)))
            for piece, words in by_piece.items():
                if not self._silence_phrase(piece, words, no_speech, reference_dbfs):
                    found += [(piece, w) for w in words]
        return found

    # -- packing -------------------------------------------------------------------------
    def _pack(self, audio: np.ndarray, segments: Sequence[tuple[float, float]],
              origin_s: float) -> tuple[list[Window], float]:
        """The channel's windows, and its speech level (the reference for quiet turns)."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        windows = pack_turns(audio, segments, origin_s, self.config.window_s, self.config.gap_s)
        speech = [np.concatenate([c for c in w.chunks[::2]]) for w in windows]
        return windows, (level(np.concatenate(speech)) if speech else -100.0)

    def _run(self, audio: np.ndarray, speaker: Speaker,
             segments: Sequence[tuple[float, float]], origin_s: float,
             progress: Callable[[float], None] | None,
             cancel: Callable[[], bool] | None) -> list[Utterance]:
        """Pack, transcribe window by window, and gather the words of each segment."""
        windows, reference = self._pack(audio, segments, origin_s)
        total = sum(w.length_s for w in windows) or 1.0
        done = 0.0
        found: list[tuple[Piece, Word]] = []
        for window in windows:
            if cancel is not None and cancel():
                break
            found += self._window_words(window, self._decode(np.concatenate(window.chunks)),
                                        reference)
            done += window.length_s
            if progress is not None:
                progress(min(1.0, done / total))
        if progress is not None and not windows:
            progress(1.0)
        return _utterances(speaker, found)

    def _run_batched(self, channels: Sequence[ChannelTurns],
                     progress: Callable[[float], None] | None,
                     cancel: Callable[[], bool] | None) -> list[Utterance]:
        """Every channel's windows in one queue, decoded several at a time."""
        queue: list[tuple[int, Window, float]] = []
        for index, (_, audio, segments) in enumerate(channels):
            windows, reference = self._pack(audio, segments, 0.0)
            queue += [(index, window, reference) for window in windows]
        total = sum(w.length_s for _, w, _ in queue) or 1.0
        done = 0.0

        def after_batch(finished: list[int]) -> bool:
            nonlocal done
            done += sum(queue[i][1].length_s for i in finished)
            if progress is not None:
                progress(min(1.0, done / total))
            return cancel is not None and cancel()

        decoded: list[list[Any]] = []
        if queue and not (cancel is not None and cancel()):
            from audio.batched_decode import decode_windows  # faster-whisper: loaded late

            self.load()
            decoded = decode_windows(
                self._model, [np.concatenate(w.chunks) for _, w, _ in queue],
                language=self.config.language, beam_size=self.config.beam_size,
                batch_size=self.config.batch_size, share_rests=self.config.share_rests,
                timestamps=self.config.timestamps,
                loop_ratio=self.config.compression_ratio_threshold,
                speech=[[(p.at, p.at_end) for p in w.pieces] for _, w, _ in queue],
                lock=self._slots, parallel=max(1, self.config.decoders),
                after_batch=after_batch)
        if progress is not None and not queue:
            progress(1.0)
        found: list[list[tuple[Piece, Word]]] = [[] for _ in channels]
        for (index, window, reference), segments in zip(queue, decoded, strict=False):
            found[index] += self._window_words(window, segments, reference)
        return sorted((u for (speaker, _, _), words in zip(channels, found, strict=True)
                       for u in _utterances(speaker, words)),
                      key=lambda u: (u.start, u.speaker))

    # -- public --------------------------------------------------------------------------
    def transcribe_utterance(self, audio: np.ndarray, speaker: Speaker,
                             offset_s: float) -> Utterance | None:
        """One finished utterance (the live path).

        Args:
            audio: the utterance, 16 kHz mono float32.
            speaker: whose it is.
            offset_s: the call time of its first sample.

        Returns:
            The utterance with its words in call time, or None when nothing real was said.

        Raises:
            audio.model_location.ModelError: the model cannot be loaded.
        """
        duration = len(audio) / SAMPLE_RATE
        found = self._run(audio, speaker, [(offset_s, offset_s + duration)], offset_s,
                          None, None)
        return found[0] if found else None

    def transcribe_segments(self, audio: np.ndarray, speaker: Speaker,
                            segments: Sequence[tuple[float, float]],
                            progress: Callable[[float], None] | None = None,
                            cancel: Callable[[], bool] | None = None) -> list[Utterance]:
        """Every speech turn of one speaker's channel (the recorded-call path).

        Args:
            audio: the speaker's whole channel, 16 kHz mono float32 (sample 0 = call time 0).
            speaker: whose channel it is.
            segments: the turns to transcribe, (start, end) in call seconds. Overlapping
                turns (padded ones) are fine: shared audio goes to the earlier turn.
            progress: called with the fraction done (0..1) after each window.
            cancel: polled before each window; when it returns True the rest is skipped
                and what is done so far is returned.

        Returns:
            One utterance per segment that held words, in call order, times in call time.

        Raises:
            audio.model_location.ModelError: the model cannot be loaded.
        """
        return self._run(audio, speaker, segments, 0.0, progress, cancel)

    def transcribe_channels(self, channels: Sequence[ChannelTurns],
                            progress: Callable[[float], None] | None = None,
                            cancel: Callable[[], bool] | None = None) -> list[Utterance]:
        """Every speech turn of a recorded call's channels, windows decoded in batches.

        The same words as `transcribe_segments` on each channel (within Whisper's own
        batch/no-batch variation, `audio.batched_decode`), several times faster on a CPU:
        both speakers' windows go into one queue, `batch_size` at a time.

        Args:
            channels: (speaker, channel audio, turns) per channel, as for
                `transcribe_segments`.
            progress: called with the fraction done (0..1) after each batch.
            cancel: polled before the first batch and after each; when it returns True
                the rest is skipped and what is done so far is returned.

        Returns:
            Every channel's utterances, in call order.

        Raises:
            audio.model_location.ModelError: the model cannot be loaded.
        """
        return self._run_batched(channels, progress, cancel)


def _utterances(speaker: Speaker, found: list[tuple[Piece, Word]]) -> list[Utterance]:
    """The words gathered into one utterance per input segment, in call order."""
    by_segment: dict[int, list[Word]] = {}
    for piece, word in found:
        by_segment.setdefault(piece.segment, []).append(word)
    utterances = []
    for words in by_segment.values():
        words.sort(key=lambda w: w.start)
        utterances.append(Utterance(speaker, words[0].start, max(w.end for w in words),
                                    " ".join(w.text for w in words), tuple(words)))
    utterances.sort(key=lambda u: u.start)
    return utterances


def _no_speech(seg: Any) -> float:
    """Whisper's no-speech probability, where it says something about this segment.

    Whisper judges "no speech" once per 30-s decode, from its opening: in a packed window
    that is the first turn's verdict, so it counts only for a segment near that opening.
    """
    opening_s = getattr(seg, "seek", 0) * _WHISPER_FRAME_S
    return float(seg.no_speech_prob) if seg.start - opening_s < 1.0 else 0.0


