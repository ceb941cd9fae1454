"""Whisper on speech turns: packing into windows, times mapped back, failure guards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.transcribe import Transcriber, _is_loop

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SR = 16000


def test_whisper_repetition_loops_are_recognised() -> None:
    assert _is_loop("thank you thank you thank you thank you thank you thank you")
    assert _is_loop("I'm sorry. I'm sorry. I'm sorry. I'm sorry. I'm sorry. I'm sorry.")
    assert not _is_loop("I will send a technician tomorrow morning, within two hours.")


@pytest.mark.model
def test_packed_turns_come_back_one_utterance_each_at_their_times() -> None:
    audio, _ = sf.read(SHARED / "stereo_diarization.wav", dtype="float32")
    gap = np.zeros(SR * 4, np.float32)
    rng = np.random.default_rng(0)
    hiss = (rng.standard_normal(SR * 2) * 0.003).astype(np.float32)
    channel = np.concatenate([audio[:, 0], gap, audio[:, 1], gap, hiss, gap])
    second = 5.0 + 4.0
    segments = [(0.2, 4.8), (second + 0.3, second + 2.7), (18.0 + 0.2, 18.0 + 1.8)]
    utterances = Transcriber().transcribe_segments(channel, "agent", segments)
    assert len(utterances) == 2  # the hiss segment says nothing (no hallucinated text)
    first, other = utterances
    assert "wizard" in first.text.lower() and "horizon" in other.text.lower()
    for u, (start, end) in zip(utterances, segments, strict=False):
        assert start - 0.05 <= u.start < u.end <= end + 0.05
        assert all(start - 0.05 <= w.start <= w.end <= end + 0.05 for w in u.words)
    live = Transcriber().transcribe_utterance(audio[:, 1], "customer", offset_s=100.0)
    assert live is not None and live.start >= 100.0 and "horizon" in live.text.lower()
