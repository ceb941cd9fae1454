"""Kept call audio: written only behind the transcript, redacted stretches silent in both
channels, nothing undecided on the disk."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from audio.kept_audio import RedactedRecorder, unheard_spans
from coaching.redactor import SilenceSpan
from coaching.timeline import CUSTOMER, Word

SR = 16000


def tone(seconds: float, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_audio_is_written_only_up_to_what_is_decided(tmp_path) -> None:
    path = tmp_path / "call.wav"
    rec = RedactedRecorder(str(path), margin_s=0.25)
    rec.open()
    agent, customer = tone(10), tone(10, 0.3)
    for i in range(0, len(agent), 320):
        rec.add(agent[i:i + 320], customer[i:i + 320])
    assert not rec.due(0.2)  # within the margin of the start: nothing decided yet
    rec.write(4.0, [])
    assert rec.written_s == 3.75 and rec.buffered_s == 6.25
    assert sf.info(path).frames in (0, int(3.75 * SR))  # header may lag, never the data
    span = SilenceSpan(CUSTOMER, 5.0, 6.0, "card_number")
    rec.write(7.0, [span])
    rec.close([span])
    data, rate = sf.read(path, dtype="float32")
    assert rate == SR and data.shape == (10 * SR, 2)
    silent = slice(int(4.75 * SR), int(6.25 * SR))
    assert np.all(data[silent] == 0.0)  # both channels, the margin either side
    assert np.abs(data[int(4.7 * SR):int(4.74 * SR)]).max() > 0.1
    assert np.abs(data[int(6.26 * SR):int(6.3 * SR)]).max() > 0.1
    assert rec.silenced_samples == int(1.5 * SR)


def test_a_span_reported_late_still_silences_audio_not_yet_written(tmp_path) -> None:
    path = tmp_path / "call.wav"
    rec = RedactedRecorder(str(path), margin_s=0.3)
    rec.open()
    rec.add(tone(6))
    rec.write(2.0, [])  # 0 .. 1.7 s on disk
    rec.close([SilenceSpan(CUSTOMER, 3.0, 4.0, "security_code")])
    data, _ = sf.read(path, dtype="float32")
    assert np.all(data[int(2.7 * SR):int(4.3 * SR)] == 0.0)
    assert np.abs(data[: int(1.7 * SR), 0]).max() > 0.4


def test_abandoning_drops_what_was_held(tmp_path) -> None:
    path = tmp_path / "call.wav"
    rec = RedactedRecorder(str(path), margin_s=0.3)
    rec.open()
    rec.add(tone(5))
    rec.write(1.3, [])
    rec.abandon()
    assert sf.info(path).frames == SR  # what was decided stays; the rest never came
    rec.close([])  # harmless after abandoning


def test_speech_no_word_covers_is_unchecked() -> None:
    words = [Word(1.0, 1.4, "hello"), Word(1.5, 1.9, "there"), Word(4.0, 4.5, "bye")]
    spans = unheard_spans(CUSTOMER, 0.8, 6.0, words)
    # The gap between "there" and "bye" (Whisper heard nothing of 2 s of speech) and the
    # end of the clip after "bye"; not the edges a few tenths from a word.
    assert [(round(s.start, 2), round(s.end, 2)) for s in spans] == [(2.4, 3.5), (5.0, 6.0)]
    assert all(s.reason == "unchecked" for s in spans)
    assert unheard_spans(CUSTOMER, 0.8, 2.0, [Word(0.9, 1.9, "hello")]) == []
    whole = unheard_spans(CUSTOMER, 3.0, 5.0)  # nothing came back at all
    assert [(s.start, s.end) for s in whole] == [(3.0, 5.0)]
