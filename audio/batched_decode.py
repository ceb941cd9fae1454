"""Whisper on many audio windows at once: one greedy decode for a batch of them.

`WhisperModel.transcribe` runs one 30-s window at a time, so on a CPU each decoding step
multiplies a matrix by one vector; several windows decoded together turn those into
matrix products and share the fixed cost of each step. `decode_windows` gives, for each
window, the segments `WhisperModel.transcribe` would give for it alone with the settings
callcoach uses (greedy, no temperature fallback, no previous-text prompt, no VAD, word
timestamps), up to Whisper's own batch/no-batch variation:
  - each window's features are its own (Whisper normalises loudness per input);
  - a decode that stops before the window's end (its last segment unfinished) goes on
    from the last word heard, as the one-window path does, in the next round; with
    `share_rests` the rests of several windows (a few seconds each) share one input,
    0.3 s of silence between them, so the encoder runs once for them all (a difference
    in context from the one-window path: a rest hears another window's rest after it,
    and ~1% of words come out differently);
  - the encoder takes 4 inputs at a time (its memory grows ~55 MB per input) and the
    decoder the whole batch;
  - word times are aligned window by window (the one-window path's heuristics for a
    word after a pause depend on that window's previous word, not another window's).
With `timestamps=False` (what `Transcriber` uses for a recorded call) each window is
decoded as faster-whisper's `BatchedInferencePipeline` decodes: no timestamp tokens, so
fewer tokens and no rest to decode again unless Whisper ends with speech still to come;
the words are timed by the alignment alone and cut into one segment per sentence.
Times are within each window. Segments are faster-whisper's own `Segment`s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import Segment, Word, get_suppressed_tokens

from audio.transcribe import compression_ratio

__all__ = ["decode_windows"]

_PREPEND = "\"'“¿([{-"  # faster-whisper's defaults: punctuation joined to the next word
_APPEND = "\"'.。,，!！?？:：”)]}、"  # ...and to the previous one
_MAX_INITIAL_TIMESTAMP_S = 1.0


@dataclass
class _Job:
    """One window: its features, its segments so far, the stretches still to decode."""

    index: int
    features: np.ndarray  # (mels, frames + 1), as the feature extractor returns it
    segments: list[Segment] = field(default_factory=list)
    last_speech_s: float = 0.0  # end of the last word heard (window time)
    left: int = 1  # stretches of it still to decode
    speech: list[tuple[float, float]] = field(default_factory=list)  # window seconds
    timestamps: bool = True  # decoded with Whisper's timestamp tokens

    def speech_after(self, t: float) -> float:
        """Seconds of the window's speech after time `t`."""
        return sum(max(0.0, b - max(a, t)) for a, b in self.speech)

    @property
    def content_frames(self) -> int:
        return self.features.shape[-1] - 1


@dataclass(frozen=True)
class _Span:
    """Frames [start, end) of a job's window, placed at frame `at` of one Whisper input."""

    job: _Job
    start: int
    end: int
    at: int = 0

    @property
    def length(self) -> int:
        return self.end - self.start


def decode_windows(model: Any, windows: Sequence[np.ndarray], *, language: str = "en",
                   beam_size: int = 1, batch_size: int = 8,
                   share_rests: bool = False, timestamps: bool = True,
                   loop_ratio: float = 2.4,
                   speech: Sequence[Sequence[tuple[float, float]]] | None = None,
                   lock: AbstractContextManager | None = None, parallel: int = 1,
                   after_batch: Callable[[list[int]], bool] | None = None
                   ) -> list[list[Segment]]:
    """Each window's Whisper segments (times within the window), decoded in batches.

    The first round gives each window an input of its own, as `WhisperModel.transcribe`
    would. A decode that stops short leaves the rest of its window (often a few seconds)
    for the next round, in an input of its own, or with `share_rests` packed with other
    rests like the windows' turns, a short silence between them.

    Args:
        model: a loaded `faster_whisper.WhisperModel`.
        windows: 16 kHz mono float32 audio, each at most 30 s.
        language: the language spoken.
        beam_size: 1 for greedy decoding.
        batch_size: inputs per decoder batch.
        share_rests: the rests of decodes that stop short share inputs (one encoder pass
            for several); False gives each its own, exactly as the one-window path.
        timestamps: False decodes each window once without Whisper's timestamp tokens,
            as faster-whisper's `BatchedInferencePipeline` does: fewer tokens and no
            rests unless Whisper ends the decode with speech still to come; its words
            are timed by the alignment alone and cut into segments at sentence ends.
        loop_ratio: such a decode whose text gzips better than this (a repetition loop,
            by faster-whisper's own measure) is decoded again with timestamps.
        speech: for each window, its stretches of speech (window seconds: the packed
            turns), which a decode without timestamps must have heard (None: the whole
            window).
        lock: held during each batch (the model decodes one batch at a time; others
            sharing it get their turn between batches); a semaphore with `parallel`.
        parallel: batches decoded at once, on as many threads (the model loaded with as
            many workers); the results are taken in order, as one at a time.
        after_batch: called with the indices of the windows a batch finished; when it
            returns True the rest is skipped (those windows keep what they have).

    Returns:
        One list of segments per window, in the order given.
    """
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                          task="transcribe", language=language)
    setup = _Setup(model, tokenizer, model.get_prompt(tokenizer, [], without_timestamps=False),
                   get_suppressed_tokens(tokenizer, [-1]), beam_size,
                   model.get_prompt(tokenizer, [], without_timestamps=True), loop_ratio,
                   # the encoder's memory (~55 MB an input) the same however many threads
                   max(1, _ENCODE_AT_ONCE // max(1, parallel)))
    jobs = [_Job(i, model.feature_extractor(np.ascontiguousarray(w, np.float32)),
                 timestamps=timestamps) for i, w in enumerate(windows)]
    for job, audio in zip(jobs, windows, strict=True):
        job.speech = (list(speech[job.index]) if speech is not None
                      else [(0.0, len(audio) / model.feature_extractor.sampling_rate)])
    inputs = [[_Span(job, 0, job.content_frames)] for job in jobs]
    def decode(batch: list[list[_Span]]) -> list[_Span]:
        with lock or nullcontext():
            return _decode_batch(setup, batch)

    pool = ThreadPoolExecutor(parallel, thread_name_prefix="decode") if parallel > 1 else None
    try:
        return _rounds(setup, jobs, inputs, batch_size, share_rests, decode, pool, parallel,
                       after_batch)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _rounds(setup: _Setup, jobs: list[_Job], inputs: list[list[_Span]], batch_size: int,
            share_rests: bool, decode: Callable[[list[list[_Span]]], list[_Span]],
            pool: ThreadPoolExecutor | None, parallel: int,
            after_batch: Callable[[list[int]], bool] | None) -> list[list[Segment]]:
    """Round after round of batches until no decode has a rest; each round's batches
    decoded on `pool`'s threads (a job is in one batch of a round: they share nothing)."""
    model = setup.model
    while inputs:
        rests: list[_Span] = []
        batches = _batches(inputs, batch_size, parallel)
        results = (pool.map(decode, batches) if pool is not None else map(decode, batches))
        for batch, left in zip(batches, results, strict=True):
            rests += left
            for spans in batch:
                for span in spans:
                    span.job.left -= 1
            for span in left:
                span.job.left += 1
            finished = sorted({span.job.index for spans in batch for span in spans
                               if span.job.left == 0})
            if after_batch is not None and after_batch(finished):
                return [job.segments for job in jobs]
        timed = [span for span in rests if span.job.timestamps]
        inputs = (_pack_rests(timed, model.feature_extractor.nb_max_frames) if share_rests
                  else [[span] for span in timed])
        inputs += [[span] for span in rests if not span.job.timestamps]  # one job an input
    return [job.segments for job in jobs]


def _batches(inputs: list[list[_Span]], size: int, parallel: int = 1
             ) -> list[list[list[_Span]]]:
    """Inputs in batches of at most `size`, those decoded with timestamps apart from those
    without (Whisper's decoder takes one kind of prompt per batch), in order. With
    `parallel` threads, as many batches of each kind as a multiple of them, of even
    sizes: 22 windows in 6, 6, 6 and 4, not 8, 8 and a last 6 decoded alone on one core."""
    out = []
    for timed in (False, True):
        kind = [spans for spans in inputs if spans[0].job.timestamps is timed]
        if not kind:
            continue
        each = size
        if parallel > 1:
            count = -(-len(kind) // size)  # batches of `size`, rounded up to the threads
            count = min(len(kind), -(-count // parallel) * parallel)
            each = -(-len(kind) // count)
        out += [kind[i:i + each] for i in range(0, len(kind), each)]
    return out


_ENCODE_AT_ONCE = 4
_GAP_FRAMES = 30  # 0.3 s of silence between packed rests, as between packed turns
_REST_FILL = 0.93  # of Whisper's 30-s input: leave room to end, as the windows do


def _pack_rests(rests: list[_Span], max_frames: int) -> list[list[_Span]]:
    """The rests of stopped decodes laid end to end in inputs of up to ~28 s."""
    inputs: list[list[_Span]] = []
    at = 0
    for span in rests:
        if inputs and at + span.length <= _REST_FILL * max_frames:
            inputs[-1].append(_Span(span.job, span.start, span.end, at))
        else:
            inputs.append([_Span(span.job, span.start, span.end, 0)])
            at = 0
        at = inputs[-1][-1].at + span.length + _GAP_FRAMES
    return inputs


@dataclass(frozen=True)
class _Setup:
    model: Any
    tokenizer: Tokenizer
    prompt: list[int]
    suppress: tuple[int, ...]
    beam_size: int
    untimed_prompt: list[int]
    loop_ratio: float
    encode_at_once: int = 4


def _input_features(spans: list[_Span], max_frames: int) -> np.ndarray:
    """The spans' features end to end, each followed by its window's silence, to 30 s."""
    parts = []
    for span in spans:
        job = span.job
        parts.append(job.features[:, span.start:span.end])
        if len(spans) > 1:
            parts.append(np.full((job.features.shape[0], _GAP_FRAMES), job.features.min(),
                                 np.float32))
    return pad_or_trim(np.concatenate(parts, axis=1)[:, :max_frames], max_frames)


def _decode_batch(setup: _Setup, batch: list[list[_Span]]) -> list[_Span]:
    """Encode and decode a batch of inputs; each job gets its segments. Returns the rests."""
    model = setup.model
    max_frames = model.feature_extractor.nb_max_frames
    # The encoder a few inputs at a time: its two threads have more to share than with
    # one, and its attention scores (~55 MB per input) stay small; decoded all together.
    rows = []
    for first in range(0, len(batch), setup.encode_at_once):
        group = np.stack([_input_features(spans, max_frames)
                          for spans in batch[first:first + setup.encode_at_once]])
        rows.append(np.asarray(model.encode(group)))
    stacked = np.concatenate(rows)
    encoded = [ctranslate2.StorageView.from_array(np.ascontiguousarray(stacked[i:i + 1]))
               for i in range(len(batch))]
    results = model.model.generate(
        ctranslate2.StorageView.from_array(stacked),
        [list(setup.prompt if spans[0].job.timestamps else setup.untimed_prompt)
         for spans in batch], beam_size=setup.beam_size, patience=1.0,
        length_penalty=1.0, repetition_penalty=1.0, no_repeat_ngram_size=0,
        max_length=model.max_length, return_scores=True, return_no_speech_prob=True,
        suppress_blank=True, suppress_tokens=list(setup.suppress),
        max_initial_timestamp_index=int(round(_MAX_INITIAL_TIMESTAMP_S
                                              / model.time_precision)))
    rests: list[_Span] = []
    for spans, one, result in zip(batch, encoded, results, strict=True):
        rests += _take_words(setup, spans, one, result)
    return rests


def _take_words(setup: _Setup, spans: list[_Span], encoded: Any, result: Any
                ) -> list[_Span]:
    """One decode's segments, word-aligned and handed to their windows; the rests."""
    model, tokenizer = setup.model, setup.tokenizer
    per_frame_s = model.feature_extractor.time_per_frame
    size = min(model.feature_extractor.nb_max_frames,
               spans[-1].at + spans[-1].length)
    tokens = list(result.sequences_ids[0])
    avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
    if not spans[0].job.timestamps:
        return _take_untimed_words(setup, spans[0], encoded, result, tokens, size,
                                   avg_logprob)
    pieces, heard, heard_to_end = _split_at_timestamps(
        tokenizer, tokens, 0, size, per_frame_s, model.time_precision, model.input_stride)
    # Word alignment input by input: faster-whisper's heuristics for a word after a pause
    # look at the previous word's end, which must be this window's, not another's.
    first = spans[0]
    last_speech = first.job.last_speech_s - first.start * per_frame_s if len(spans) == 1 else 0.0
    model.add_word_timestamps([pieces], tokenizer, encoded, size, _PREPEND, _APPEND,
                              last_speech_timestamp=last_speech)
    if not heard_to_end:  # go on from the last word heard, as the one-window path does
        ends = [w["end"] for piece in pieces for w in piece.get("words", [])]
        end = ends[-1] if ends else (pieces[-1]["end"] if pieces else None)
        if end is not None and end > 0:
            heard = round(end * model.frames_per_second)
    if heard <= 0:
        heard = size  # no progress at all: never decode the same input again
    for piece in pieces:
        text = tokenizer.decode(piece["tokens"])
        if piece["start"] == piece["end"] or not text.strip():
            continue
        for span, words in _words_by_span(spans, piece.get("words", []), per_frame_s):
            shift = (span.start - span.at) * per_frame_s
            moved = [Word(start=w["start"] + shift, end=w["end"] + shift, word=w["word"],
                          probability=w["probability"]) for w in words]
            job = span.job
            job.last_speech_s = max(job.last_speech_s, moved[-1].end) if moved else \
                job.last_speech_s
            job.segments.append(Segment(
                id=len(job.segments) + 1, seek=span.start,
                start=(moved[0].start if len(spans) > 1 else piece["start"] + shift),
                end=(moved[-1].end if len(spans) > 1 else piece["end"] + shift),
                text=("".join(w.word for w in moved) if len(spans) > 1 else text),
                tokens=piece["tokens"], avg_logprob=avg_logprob, compression_ratio=0.0,
                # Whisper's no-speech verdict is about the opening of its input only
                no_speech_prob=result.no_speech_prob if span is first else 0.0,
                temperature=0.0, words=moved))
    rests = []
    for span in spans:
        if heard < span.at + span.length:
            rests.append(_Span(span.job, span.start + max(0, heard - span.at), span.end))
    return rests


_SENTENCE_END = (".", "?", "!")
_UNHEARD_S = 2.0  # of a window's speech after the last word of a decode without timestamps


def _take_untimed_words(setup: _Setup, span: _Span, encoded: Any, result: Any,
                        tokens: list[int], size: int, avg_logprob: float) -> list[_Span]:
    """A decode without timestamp tokens: its words timed by the alignment over the
    whole input, one segment per sentence. Whisper sometimes ends such a decode after a
    sentence or two with turns still to come: when more than `_UNHEARD_S` of the
    window's speech comes after its last word, the rest is decoded again from there (as
    a decode with timestamps that stops short)."""
    model, tokenizer = setup.model, setup.tokenizer
    per_frame_s = model.feature_extractor.time_per_frame
    tokens = [t for t in tokens if t < tokenizer.eot]
    job = span.job
    if compression_ratio(tokenizer.decode(tokens)) > setup.loop_ratio:
        # A repetition loop ("I'm sorry. I'm sorry. ..." over a whole window): decoded
        # again with timestamps, whose segments keep Whisper to the audio.
        job.timestamps = True
        return [span]
    piece = {"seek": 0, "start": 0.0, "end": size * per_frame_s, "tokens": tokens}
    model.add_word_timestamps([[piece]], tokenizer, encoded, size, _PREPEND, _APPEND,
                              last_speech_timestamp=0.0)
    shift = span.start * per_frame_s
    sentences: list[list[Word]] = [[]]
    for w in piece.get("words", []):
        sentences[-1].append(Word(start=w["start"] + shift, end=w["end"] + shift,
                                  word=w["word"], probability=w["probability"]))
        if w["word"].strip().endswith(_SENTENCE_END):
            sentences.append([])
    for words in (s for s in sentences if s):
        job.segments.append(Segment(
            id=len(job.segments) + 1, seek=span.start, start=words[0].start,
            end=words[-1].end, text="".join(w.word for w in words), tokens=tokens,
            avg_logprob=avg_logprob, compression_ratio=0.0,
            # Whisper's no-speech verdict is about the opening of its input only
            no_speech_prob=result.no_speech_prob if not job.segments else 0.0,
            temperature=0.0, words=words))
    heard = [w.end for words in sentences for w in words]
    if not heard or job.speech_after(heard[-1]) <= _UNHEARD_S:
        return []
    start = round(heard[-1] * model.frames_per_second)
    return [_Span(job, start, span.end)] if span.start < start < span.end else []


def _words_by_span(spans: list[_Span], words: list[dict], per_frame_s: float
                   ) -> list[tuple[_Span, list[dict]]]:
    """A segment's words grouped by the span they fall in (most overlap, else nearest)."""
    if len(spans) == 1:
        return [(spans[0], words)]
    groups: dict[int, list[dict]] = {}
    for w in words:
        best = min(range(len(spans)), key=lambda i: _distance(spans[i], w, per_frame_s))
        groups.setdefault(best, []).append(w)
    return [(spans[i], group) for i, group in sorted(groups.items())]


def _distance(span: _Span, word: dict, per_frame_s: float) -> float:
    """How far a word (input times) is from a span: minus the overlap when they overlap."""
    a, b = span.at * per_frame_s, (span.at + span.length) * per_frame_s
    overlap = min(word["end"], b) - max(word["start"], a)
    return -overlap if overlap > 0 else max(a - word["end"], word["start"] - b, 0.0)


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
