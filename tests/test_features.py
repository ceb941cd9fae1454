"""Frame features, voice activity and turns on synthetic signals and real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.channel import ChannelAnalyzer, ChannelConfig, analyze_channel
from audio.frames import HOP_S, LoudnessPitch
from tests.callsynth import synth_speech

SR = 16000
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def tone(f0: float, seconds: float, dbfs: float = -20.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (x / np.sqrt(np.mean(x ** 2)) * 10 ** (dbfs / 20)).astype(np.float32)


@pytest.mark.parametrize("f0", [85.0, 150.0, 220.0, 330.0])
def test_pitch_of_a_harmonic_tone(f0: float) -> None:
    block = LoudnessPitch().push(tone(f0, 1.0))
    assert np.nanmedian(block.pitch_hz[5:]) == pytest.approx(f0, rel=0.01)
    assert np.isnan(block.pitch_hz[5:]).mean() < 0.05


def test_a_known_db_step() -> None:
    x = np.concatenate([tone(200, 1.0, -30), tone(200, 1.0, -20)])
    block = LoudnessPitch().push(x)
    per_s = int(1 / HOP_S)
    assert np.median(block.dbfs[5:per_s - 5]) == pytest.approx(-30, abs=0.5)
    assert np.median(block.dbfs[per_s + 5:-5]) == pytest.approx(-20, abs=0.5)


def test_noise_has_no_pitch_and_silence_is_the_floor() -> None:
    rng = np.random.default_rng(0)
    block = LoudnessPitch().push((rng.standard_normal(SR) * 0.05).astype(np.float32))
    assert np.isnan(block.pitch_hz).mean() > 0.9
    silent = LoudnessPitch().push(np.zeros(SR, dtype=np.float32))
    assert (silent.dbfs == -100).all()


def test_streaming_gives_what_one_push_gives() -> None:
    speech = synth_speech("Thank you for calling, how can I help you today?", "agent")
    x = np.concatenate([np.zeros(SR // 2, np.float32), speech, np.zeros(SR, np.float32)])
    frames, turns = analyze_channel(x, "agent")
    analyzer, got, got_turns = ChannelAnalyzer("agent"), [], []
    rng = np.random.default_rng(3)
    i = 0
    while i < len(x):
        n = int(rng.integers(160, 4000))
        update = analyzer.push(x[i:i + n])
        got += update.frames
        got_turns += update.closed_turns
        i += n
    last = analyzer.flush()
    got += last.frames
    got_turns += last.closed_turns
    assert got_turns == turns
    assert [f.voice for f in got] == [f.voice for f in frames]
    assert np.allclose([f.dbfs for f in got], [f.dbfs for f in frames])
    assert np.allclose([f.pitch_hz for f in got], [f.pitch_hz for f in frames],
                       equal_nan=True)


def _turns(x: np.ndarray, vad: str = "silero"):
    return analyze_channel(x, "agent", ChannelConfig(vad=vad))[1]


@pytest.mark.parametrize("vad", ["silero", "energy"])
def test_a_short_pause_is_one_turn_a_long_one_two(vad: str) -> None:
    a = synth_speech("I can help you with that.", "agent")
    b = synth_speech("Let me check your account.", "agent")
    z = lambda s: np.zeros(int(s * SR), np.float32)  # noqa: E731
    assert len(_turns(np.concatenate([z(0.5), a, z(0.2), b, z(1)]), vad)) == 1
    two = _turns(np.concatenate([z(0.5), a, z(1.5), b, z(1)]), vad)
    assert len(two) == 2
    assert two[0].start == pytest.approx(0.5, abs=0.1)
    assert two[1].start == pytest.approx(0.5 + len(a) / SR + 1.5, abs=0.1)


@pytest.mark.parametrize("vad", ["silero", "energy"])
def test_noise_alone_is_not_speech_and_speech_in_noise_is(vad: str) -> None:
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(SR * 6) * 10 ** (-45 / 20)).astype(np.float32)
    assert _turns(noise, vad) == []
    click = noise.copy()
    click[SR * 3:SR * 3 + 800] += 0.5
    assert _turns(click, vad) == []
    speech = synth_speech("I have called you three times this week.", "customer")
    x = noise.copy()
    x[SR:SR + len(speech)] += speech
    found = _turns(x, vad)
    assert len(found) == 1 and found[0].start == pytest.approx(1.0, abs=0.15)


def test_telephone_band_speech_is_still_found(tmp_path: Path) -> None:
    import subprocess

    speech = synth_speech("Thank you for calling Acme support.", "agent")
    wide = tmp_path / "wide.wav"
    phone = tmp_path / "phone.wav"
    sf.write(wide, np.concatenate([np.zeros(SR, np.float32), speech, np.zeros(SR, np.float32)]),
             SR)
    subprocess.run(["sox", str(wide), str(phone), "sinc", "300-3400", "rate", "8k", "rate",
                    "16k"], check=True)
    x, _ = sf.read(phone, dtype="float32")
    found = _turns(x)
    assert len(found) == 1 and found[0].start == pytest.approx(1.0, abs=0.15)


def test_real_speech_turns_and_pitch() -> None:
    audio, sr = sf.read(SHARED / "stereo_diarization.wav", dtype="float32")
    frames, turns = analyze_channel(audio[:, 0], "agent")
    assert len(turns) == 1 and turns[0].start < 0.5 and turns[0].end > 4.3
    pitch = np.array([f.pitch_hz for f in frames if f.voice])
    assert 70 < np.nanmedian(pitch) < 250  # a speaking voice
    padded = np.concatenate([audio[:, 1], np.zeros(sr * 3, np.float32)])
    _, turns = analyze_channel(padded, "customer")
    assert turns[-1].end < 3.0  # nothing found in the appended silence
