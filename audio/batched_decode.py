"""Whisper on many audio windows at once: one encoder pass and one greedy decode per batch.

`WhisperModel.transcribe` runs one 30-s window at a time, so on a CPU each decoding step
multiplies a matrix by one vector; several windows decoded together turn those into
matrix products and share the fixed cost of each step. `decode_windows` gives, for each
window, the segments `WhisperModel.transcribe` would give for it alone with the settings
callcoach uses (greedy, no temperature fallback, no previous-text prompt, no VAD, word
timestamps), up to Whisper's own batch/no-batch variation:
  - each window's features are its own (Whisper normalises loudness per input);
  - a decode that stops before the window's end (its last segment unfinished) goes on
    from the last word heard, as the one-window path does, in the next round's batch;
  - word times are aligned window by window (the one-window path's heuristics for a
    word after a pause depend on that window's previous word, not another window's).
Times are within each window. Segments are faster-whisper's own `Segment`s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import Segment, Word, get_suppressed_tokens

__all__ = ["decode_windows"]

_PREPEND = "\"'“¿([{-"  # faster-whisper's defaults: punctuation joined to the next word
_APPEND = "\"'.。,，!！?？:：”)]}、"  # ...and to the previous one
_MAX_INITIAL_TIMESTAMP_S = 1.0


@dataclass
class _Job:
    """One window being decoded: its features and how far the decoding has got."""

    index: int
    features: np.ndarray  # (mels, frames + 1), as the feature extractor returns it
    seek: int = 0  # in feature frames (10 ms)
    last_speech_s: float = 0.0
    segments: list[Segment] = field(default_factory=list)

    @property
    def content_frames(self) -> int:
        return self.features.shape[-1] - 1


def decode_windows(model: Any, windows: Sequence[np.ndarray], *, language: str = "en",
                   beam_size: int = 1, batch_size: int = 8,
                   lock: AbstractContextManager | None = None,
                   after_batch: Callable[[list[int]], bool] | None = None
                   ) -> list[list[Segment]]:
    """Each window's Whisper segments (times within the window), decoded in batches.

    Args:
        model: a loaded `faster_whisper.WhisperModel`.
        windows: 16 kHz mono float32 audio, each at most 30 s.
        language: the language spoken.
        beam_size: 1 for greedy decoding.
        batch_size: windows per encoder/decoder batch.
        lock: held during each batch (the model decodes one batch at a time; others
            sharing it get their turn between batches).
        after_batch: called with the indices of the windows a batch finished; when it
            returns True the rest is skipped (those windows get no segments).

    Returns:
        One list of segments per window, in the order given.
    """
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                          task="transcribe", language=language)
    prompt = model.get_prompt(tokenizer, [], without_timestamps=False)
    suppress = get_suppressed_tokens(tokenizer, [-1])
    pending = [_Job(i, model.feature_extractor(np.ascontiguousarray(w, np.float32)))
               for i, w in enumerate(windows)]
    jobs = list(pending)
    while pending:
        still: list[_Job] = []
        for first in range(0, len(pending), batch_size):
            batch = pending[first:first + batch_size]
            with lock or nullcontext():
                _decode_batch(model, tokenizer, prompt, suppress, beam_size, batch)
            unfinished = [job for job in batch if job.seek < job.content_frames]
            still += unfinished
            finished = [job.index for job in batch if job not in unfinished]
            if after_batch is not None and after_batch(finished):
                return [job.segments for job in jobs]
        pending = still
    return [job.segments for job in jobs]


def _decode_batch(model: Any, tokenizer: Tokenizer, prompt: list[int],
                  suppress: tuple[int, ...], beam_size: int, batch: list[_Job]) -> None:
    """One encoder pass and one greedy decode for the batch; each job's segments and seek."""
    per_frame_s = model.feature_extractor.time_per_frame
    max_frames = model.feature_extractor.nb_max_frames
    sizes = [min(max_frames, job.content_frames - job.seek) for job in batch]
    features = np.stack([pad_or_trim(job.features[:, job.seek:job.seek + size])
                         for job, size in zip(batch, sizes, strict=True)])
    encoded = model.encode(features)
    results = model.model.generate(
        encoded, [list(prompt) for _ in batch], beam_size=beam_size, patience=1.0,
        length_penalty=1.0, repetition_penalty=1.0, no_repeat_ngram_size=0,
        max_length=model.max_length, return_scores=True, return_no_speech_prob=True,
        suppress_blank=True, suppress_tokens=list(suppress),
        max_initial_timestamp_index=int(round(_MAX_INITIAL_TIMESTAMP_S
                                              / model.time_precision)))
    # Word alignment one window at a time: faster-whisper's heuristics carry the previous
    # word's end from one input to the next, which across windows would be wrong.
    encoded_rows = np.asarray(encoded)
    for row, (job, size, result) in enumerate(zip(batch, sizes, results, strict=True)):
        tokens = list(result.sequences_ids[0])
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        start_seek = job.seek
        pieces, job.seek, heard_to_end = _split_at_timestamps(
            tokenizer, tokens, start_seek, size, per_frame_s, model.time_precision,
            model.input_stride)
        one = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(encoded_rows[row:row + 1]))
        job.last_speech_s = model.add_word_timestamps(
            [pieces], tokenizer, one, size, _PREPEND, _APPEND,
            last_speech_timestamp=job.last_speech_s) or job.last_speech_s
        if not heard_to_end:  # go on from the last word heard, as the one-window path does
            ends = [w["end"] for piece in pieces for w in piece.get("words", [])]
            end = ends[-1] if ends else (pieces[-1]["end"] if pieces else None)
            if end is not None and end > start_seek * per_frame_s:
                job.seek = round(end * model.frames_per_second)
        for piece in pieces:
            text = tokenizer.decode(piece["tokens"])
            if piece["start"] == piece["end"] or not text.strip():
                continue
            job.segments.append(Segment(
                id=len(job.segments) + 1, seek=start_seek, start=piece["start"],
                end=piece["end"], text=text, tokens=piece["tokens"],
                avg_logprob=avg_logprob, compression_ratio=0.0,
                no_speech_prob=result.no_speech_prob, temperature=0.0,
                words=[Word(**w) for w in piece.get("words", [])]))


def _split_at_timestamps(tokenizer: Tokenizer, tokens: list[int], seek: int, size: int,
                         per_frame_s: float, precision_s: float, stride: int
                         ) -> tuple[list[dict], int, bool]:
    """Cut a decode's tokens into segments at Whisper's timestamp tokens.

    Whisper brackets each segment with timestamp tokens; two in a row close one segment
    and open the next. A decode ending in a lone timestamp heard everything to the end of
    its input; otherwise its last segment is unfinished and is left for the next decode.

    Returns:
        The segments (dicts with seek, start, end, tokens; times within the window), the
        next seek (feature frames), and whether the decode ended in a lone timestamp
        (heard to the end of its input; if not, the caller may go on from its last word).
    """
    begin = tokenizer.timestamp_begin
    offset_s = seek * per_frame_s
    heard_to_end = len(tokens) >= 2 and tokens[-2] < begin <= tokens[-1]
    cuts = [i for i in range(1, len(tokens)) if tokens[i] >= begin and tokens[i - 1] >= begin]
    if not cuts:  # one segment (or none): it runs to its last timestamp or the input end
        stamps = [t for t in tokens if t >= begin]
        duration = size * per_frame_s
        if stamps and stamps[-1] != begin:
            duration = (stamps[-1] - begin) * precision_s
        return ([{"seek": seek, "start": offset_s, "end": offset_s + duration,
                  "tokens": tokens}], seek + size, heard_to_end)
    if heard_to_end:
        cuts.append(len(tokens))
    pieces, last = [], 0
    for cut in cuts:
        part = tokens[last:cut]
        pieces.append({"seek": seek, "start": offset_s + (part[0] - begin) * precision_s,
                       "end": offset_s + (part[-1] - begin) * precision_s, "tokens": part})
        last = cut
    if heard_to_end:
        return pieces, seek + size, True
    return pieces, seek + (tokens[last - 1] - begin) * stride, False
