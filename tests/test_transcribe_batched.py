"""Batched decoding of a recorded call's windows: the same words as one window at a time.

Real recorded speech from ../shared/data (J. F. Kennedy phrase by phrase, two read-speech
speakers) laid out as a two-party call, transcribed by the bundled tiny.en both ways.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audio.batched_decode import decode_windows
from audio.transcribe import Transcriber, TranscriberConfig
from bench.batch_throughput import word_errors  # the WER the benchmark prints

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SR = 16000
pytestmark = pytest.mark.model


def words_of(utterances) -> list[tuple[str, str, float]]:
    """(speaker, lower-case word without punctuation, start) of each word, in call order."""
    return [(u.speaker, "".join(c for c in w.text.lower() if c.isalnum() or c == "'"),
             w.start)
            for u in sorted(utterances, key=lambda u: (u.start, u.speaker)) for w in u.words]


def _bare(word: str) -> str:
    """A word as the comparison counts it: lower case, no punctuation."""
    return "".join(c for c in word.lower() if c.isalnum() or c == "'")


@pytest.fixture(scope="module")
def tiny() -> Transcriber:
    transcriber = Transcriber()
    transcriber.load()
    return transcriber


@pytest.fixture(scope="module")
def speech() -> dict[str, np.ndarray]:
    import librosa
    import soundfile as sf

    jfk, rate = sf.read(SHARED_DATA / "jfk.flac", dtype="float32")
    jfk = librosa.resample(jfk[:, 0], orig_sr=rate, target_sr=SR).astype(np.float32)
    stereo, _ = sf.read(SHARED_DATA / "stereo_diarization.wav", dtype="float32")
    return {"jfk": jfk, "left": stereo[:, 0].copy(), "right": stereo[:, 1].copy()}


def two_party_call(speech: dict[str, np.ndarray], seconds: float = 75.0):
    """Each party's channel and turns: real clips with 0.8-2.5 s pauses, in turn."""
    jfk = speech["jfk"]
    phrases = [jfk[int(a * SR):int(b * SR)] for a, b in
               ((0.2, 2.1), (3.2, 4.35), (5.35, 7.6), (8.1, 10.6))]
    pools = {"agent": phrases + [speech["left"]], "customer": [speech["right"]] + phrases}
    rng = np.random.default_rng(7)
    n = int(seconds * SR)
    channels = {spk: np.zeros(n, np.float32) for spk in pools}
    turns: dict[str, list[tuple[float, float]]] = {spk: [] for spk in pools}
    t, i = 0.5, 0
    while True:
        spk = ("agent", "customer")[i % 2]
        clip = pools[spk][(i // 2) % len(pools[spk])]
        if t + len(clip) / SR > seconds - 0.5:
            break
        a = int(t * SR)
        channels[spk][a:a + len(clip)] = clip
        turns[spk].append((t, t + len(clip) / SR))
        t += len(clip) / SR + float(rng.uniform(0.8, 2.5))
        i += 1
    return [(spk, channels[spk], turns[spk]) for spk in pools]


def test_batched_and_one_by_one_give_the_same_words_in_call_time(
        tiny: Transcriber, speech: dict[str, np.ndarray]) -> None:
    channels = two_party_call(speech)
    # Short windows and small batches: several windows per party, several batches.
    config = TranscriberConfig(window_s=12.0, batch_size=2)
    small = Transcriber(config, model=tiny._model)
    before = [u for spk, audio, turns in channels
              for u in small.transcribe_segments(audio, spk, turns)]
    seen: list[float] = []
    after = small.transcribe_channels(channels, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3

    old, new = words_of(before), words_of(after)
    assert len(old) > 100
    for speaker in ("agent", "customer"):
        ref = [w for s, w, _ in old if s == speaker]
        hyp = [w for s, w, _ in new if s == speaker]
        assert ref and word_errors(ref, hyp) / len(ref) <= 0.03, (speaker, ref, hyp)
    said = {spk: " ".join(w for s, w, _ in new if s == spk) for spk in ("agent", "customer")}
    assert "what your country can do for you" in said["agent"]
    assert "confused complaint against the wizard" in said["agent"]
    assert "horizon seems extremely distant" in said["customer"]

    # Every word inside its own turn, in call time, with its speaker's turns only.
    turns = {spk: segs for spk, _, segs in channels}
    assert [u.start for u in after] == sorted(u.start for u in after)
    for u in after:
        start, end = next((a - 1e-3, b + 1e-3) for a, b in turns[u.speaker]
                          if a - 1e-3 <= u.start < b)  # times are rounded to 1 ms
        assert start <= u.start <= u.end <= end, (u.speaker, u.text, start, end)
        assert all(start <= w.start <= w.end <= end for w in u.words)
        assert u.text == " ".join(w.text for w in u.words)


def test_cancel_stops_after_the_batch_in_hand(tiny: Transcriber,
                                              speech: dict[str, np.ndarray]) -> None:
    channels = two_party_call(speech, seconds=60.0)
    small = Transcriber(TranscriberConfig(window_s=10.0, batch_size=2), model=tiny._model)
    batches: list[float] = []
    partial = small.transcribe_channels(channels, progress=batches.append,
                                        cancel=lambda: len(batches) >= 1)
    whole = small.transcribe_channels(channels)
    assert len(batches) == 1 and 0 < batches[0] < 1
    assert 0 < len(partial) < len(whole)
    assert small.transcribe_channels(channels, cancel=lambda: True) == []


class CountingEncodes:
    """The real model, counting the inputs its encoder runs on."""

    def __init__(self, model) -> None:
        self._model, self.encodes = model, 0

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def encode(self, features):
        self.encodes += features.shape[0] if features.ndim == 3 else 1
        return self._model.encode(features)


def test_decodes_that_stop_short_go_on_like_whisper_alone(
        tiny: Transcriber, speech: dict[str, np.ndarray]) -> None:
    # Over 30 s of speech: Whisper's first decode covers 30 s and a second one the rest,
    # in `WhisperModel.transcribe` and here; here the two windows' rests share one input.
    windows = [np.concatenate([speech["jfk"]] * 3),
               np.concatenate([speech["left"], speech["right"]] * 3 + [speech["left"]]),
               speech["right"]]
    counting = CountingEncodes(tiny._model)
    batched = decode_windows(counting, windows, batch_size=2, share_rests=True)
    decodes_alone = 0
    for audio, got in zip(windows, batched, strict=True):
        alone, _ = tiny._model.transcribe(
            audio, language="en", beam_size=1, word_timestamps=True, vad_filter=False,
            condition_on_previous_text=False, temperature=0.0, no_speech_threshold=None,
            log_prob_threshold=None, compression_ratio_threshold=None)
        alone = list(alone)
        decodes_alone += len({s.seek for s in alone})
        ref = [w.word.strip().lower() for s in alone for w in s.words]
        hyp = [w.word.strip().lower() for s in got for w in s.words]
        assert word_errors(ref, hyp) <= max(1, len(ref) // 20), (ref, hyp)
        times = [w.start for s in got for w in s.words]
        assert times == sorted(times) and times[-1] <= len(audio) / SR
        assert len(audio) / SR - times[-1] < 3.0  # heard to the end of the window
    assert decodes_alone == 5  # 2 + 2 + 1
    assert counting.encodes == 4  # 3 windows, then both rests in one input
    assert " ".join(s.text for s in batched[0]).lower().count("ask not") == 3
    assert " ".join(s.text for s in batched[1]).lower().count("horizon") == 3


def test_without_timestamps_each_window_is_decoded_once_unless_whisper_stops_early(
        tiny: Transcriber, speech: dict[str, np.ndarray]) -> None:
    """As faster-whisper's BatchedInferencePipeline decodes (callcoach's default for a
    recorded call): no timestamp tokens, so one encoder pass per window, words timed by
    the alignment and cut into sentences. The second window makes Whisper end its decode
    after the first sentence with 6 s of speech to come: that rest is decoded again."""
    import librosa

    def tight(clip):  # a turn as voice activity would cut it: no silence at its ends
        return librosa.effects.trim(clip, top_db=35)[0]

    jfk, left, right = (tight(speech[k]) for k in ("jfk", "left", "right"))
    layouts = [[jfk, left], [left, jfk[int(0.2 * SR):int(10.6 * SR)]], [right]]
    windows, turns = [], []
    for clips in layouts:  # the turns end to end, a second of silence between them
        at, parts, spans = 0.0, [], []
        for clip in clips:
            spans.append((at, at + len(clip) / SR))
            parts += [clip, np.zeros(SR, np.float32)]
            at += len(clip) / SR + 1.0
        windows.append(np.concatenate(parts[:-1]))
        turns.append(spans)
    counting = CountingEncodes(tiny._model)
    untimed = decode_windows(counting, windows, batch_size=2, timestamps=False, speech=turns)
    timed = decode_windows(tiny._model, windows, batch_size=2)
    assert counting.encodes == len(windows) + 1  # the second window's rest, once
    said = {"jfk": "and so my fellow americans ask not what your country can do for you ask "
                   "what you can do for your country",
            "left": "he began a confused complaint against the wizard who had vanished "
                    "behind the curtain on the left",
            "right": "the horizon seems extremely distant"}
    truths = [said["jfk"] + " " + said["left"], said["left"] + " " + said["jfk"], said["right"]]
    for audio, got, ref, truth in zip(windows, untimed, timed, truths, strict=True):
        hyp = [_bare(w.word) for s in got for w in s.words]
        with_stamps = [_bare(w.word) for s in ref for w in s.words]
        errors = word_errors(truth.split(), hyp)  # what was said, to a word...
        assert errors <= 1, (truth, " ".join(hyp))
        # ...and no further from it than the decode with timestamps
        assert errors <= word_errors(truth.split(), with_stamps), (truth, " ".join(hyp))
        times = [t for s in got for w in s.words for t in (w.start, w.end)]
        assert times == sorted(times) and 0 <= times[0] and times[-1] <= len(audio) / SR
        assert len(audio) / SR - times[-1] < 2.0  # heard to the end of the window
        for s in got[:-1]:  # cut into sentences, each one segment
            assert s.text.strip().endswith((".", "?", "!")), s.text
            assert s.text == "".join(w.word for w in s.words)
    assert " ".join(s.text for s in untimed[1]).lower().count("ask not") == 1


def test_two_decoders_give_the_words_of_one_with_two_batches_at_once(
        tiny: Transcriber, speech: dict[str, np.ndarray]) -> None:
    """A recording's batches decoded two at a time, each on one core of a model loaded
    for two decodes (callcoach analyze's way): the same words at the same times."""
    import threading

    channels = two_party_call(speech)
    one = Transcriber(TranscriberConfig(window_s=12.0, batch_size=2), model=tiny._model)
    two = Transcriber(TranscriberConfig(window_s=12.0, batch_size=2, decoders=2))
    two.load()
    busiest, done = 0, threading.Event()

    def watch() -> None:  # how many batches the model decodes at one moment
        nonlocal busiest
        while not done.wait(0.002):
            busiest = max(busiest, two._model.model.num_active_batches)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        seen: list[float] = []
        parallel = two.transcribe_channels(channels, progress=seen.append)
    finally:
        done.set()
        watcher.join()
    assert two._model.model.num_workers == 2 and busiest >= 2  # its batches (an alignment
    # counts as one too) side by side
    assert seen == sorted(seen) and seen[-1] == 1.0
    serial = one.transcribe_channels(channels)
    assert len(serial) > 10
    assert [(u.speaker, u.text, u.start, u.end) for u in parallel] == [
        (u.speaker, u.text, u.start, u.end) for u in serial]
    assert [w for u in parallel for w in u.words] == [w for u in serial for w in u.words]
