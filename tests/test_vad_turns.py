"""Voice activity (`audio.vad`), speech turns (`audio.turns`) and the channel analyzer.

The turn tracker is tested on hand-made probabilities (exact hops); both VADs on
synthetic signals, espeak-ng speech with known timing, telephone band and a real
recording; and everything for streaming: any cut of the stream gives the same result.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.channel import ChannelAnalyzer, ChannelConfig, analyze_channel
from audio.frames import HOP_S, SAMPLE_RATE
from audio.turns import TurnConfig, TurnTracker
from audio.vad import WINDOW, EnergyVad, SileroVad, make_vad
from coaching.timeline import Frame, SpeechTurn
from tests.callsynth import synth_speech

SR = SAMPLE_RATE
VADS = ["silero", "energy"]


def zeros(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), dtype=np.float32)


def noise(seconds: float, dbfs: float = -45.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SR)) * 10 ** (dbfs / 20)).astype(np.float32)


@pytest.fixture(scope="module")
def words() -> tuple[np.ndarray, np.ndarray]:
    """Two short espeak-ng utterances (their own leading/trailing silence trimmed)."""
    return (synth_speech("I can help you with that.", "agent"),
            synth_speech("Let me check your account.", "agent"))


def turns_of(x: np.ndarray, vad: str) -> list[SpeechTurn]:
    return analyze_channel(x, "agent", ChannelConfig(vad=vad))[1]


def frame_key(f: Frame) -> tuple:
    """A frame as a tuple that compares NaN pitch as equal."""
    return (f.t, f.dbfs, None if np.isnan(f.pitch_hz) else f.pitch_hz, f.speech_prob,
            f.voice, f.in_turn)


# --- the turn tracker on hand-made probabilities (one value per 16 ms hop) ---------------

def track(probs: list[float] | np.ndarray, **config: float):
    tracker = TurnTracker("agent", HOP_S, TurnConfig(**config))
    step = tracker.push(np.asarray(probs, dtype=np.float32))
    return step, step.closed + tracker.flush()


def hops(*runs: tuple[float, int]) -> np.ndarray:
    return np.concatenate([np.full(n, p, dtype=np.float32) for p, n in runs])


def test_a_turn_spans_its_voiced_hops_without_the_hangover() -> None:
    step, turns = track(hops((0.0, 10), (0.9, 30), (0.0, 60)))
    assert turns == [SpeechTurn("agent", round(10 * HOP_S, 3), round(40 * HOP_S, 3))]
    assert np.flatnonzero(step.voice).tolist() == list(range(10, 40))
    # causal: in a turn once 0.12 s (8 hops) of voice is heard, and through the 0.35 s
    # (22 hops) hang-over after the last voiced hop
    assert np.flatnonzero(step.in_turn).tolist() == list(range(17, 62))


def test_hysteresis_holds_voice_between_the_two_thresholds() -> None:
    step, _ = track(hops((0.0, 5), (0.4, 10), (0.9, 10), (0.4, 10), (0.2, 10)))
    assert not step.voice[:15].any()  # 0.4 never starts voice
    assert step.voice[15:35].all()  # ...but holds it once started
    assert not step.voice[35:].any()


def test_a_breath_is_not_a_turn_end_a_long_pause_is() -> None:
    pause = round(0.2 / HOP_S)
    _, one = track(hops((0.9, 60), (0.0, pause), (0.9, 60), (0.0, 40)))
    assert len(one) == 1 and one[0].start == 0.0
    _, two = track(hops((0.9, 60), (0.0, round(1.5 / HOP_S)), (0.9, 60), (0.0, 40)))
    assert len(two) == 2
    assert two[0].end == pytest.approx(60 * HOP_S)


def test_a_blip_is_not_a_turn() -> None:
    for blip_hops in (1, 3, 7):  # up to 0.112 s, under min_speech_s
        step, turns = track(hops((0.0, 20), (0.95, blip_hops), (0.0, 60)))
        assert turns == [] and not step.in_turn.any()
    _, turns = track(hops((0.0, 20), (0.95, 8), (0.0, 60)))
    assert len(turns) == 1


def test_a_short_first_word_starts_the_turn() -> None:
    """ "I ... can help": a 5-hop word, a dip, then more speech; the turn starts at "I"."""
    _, turns = track(hops((0.0, 10), (0.9, 5), (0.1, 4), (0.9, 30), (0.0, 40)))
    assert turns == [SpeechTurn("agent", round(10 * HOP_S, 3), round(49 * HOP_S, 3))]


def test_the_tracker_streams() -> None:
    rng = np.random.default_rng(5)
    probs = np.clip(np.repeat(rng.random(300), rng.integers(1, 30, 300)), 0, 1)
    whole, whole_turns = track(probs)
    tracker, voice, in_turn, turns, i = TurnTracker("agent"), [], [], [], 0
    while i < len(probs):
        n = int(rng.integers(1, 50))
        step = tracker.push(probs[i:i + n])
        voice += step.voice.tolist()
        in_turn += step.in_turn.tolist()
        turns += step.closed
        if tracker.open_turn_start is not None:
            assert in_turn[-1]
        i += n
    turns += tracker.flush()
    assert voice == whole.voice.tolist() and in_turn == whole.in_turn.tolist()
    assert turns == whole_turns and len(turns) > 3


# --- the two VADs ----------------------------------------------------------------------

def test_make_vad_names_what_runs() -> None:
    assert make_vad("silero").name == "silero"
    assert make_vad("energy").name == "energy"
    with pytest.raises(ValueError):
        make_vad("webrtc")


def test_without_onnxruntime_the_energy_vad_runs_and_says_why(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    vad = make_vad("silero")
    assert isinstance(vad, EnergyVad)
    assert vad.name.startswith("energy") and "onnxruntime" in vad.name
    assert ChannelAnalyzer("agent").vad_name == vad.name


def test_silero_ungated_is_faster_whispers_own_run(shared_data) -> None:
    """Context and LSTM state carried across pushes: the same numbers as faster-whisper
    running the model over the whole recording at once."""
    from faster_whisper.vad import SileroVADModel

    from audio.vad import _silero_path

    audio, _ = sf.read(shared_data / "stereo_diarization.wav", dtype="float32")
    x = audio[: len(audio) // WINDOW * WINDOW, 1]
    expected = np.asarray(SileroVADModel(_silero_path())(x)).reshape(-1)
    vad, got, i = SileroVad(gate_db=None), [], 0
    rng = np.random.default_rng(2)
    while i < len(x):
        n = int(rng.integers(100, 5000))
        got.append(vad.push(x[i:i + n]))
        i += n
    np.testing.assert_array_equal(np.concatenate(got), expected)


@pytest.mark.parametrize("vad", VADS)
def test_vad_push_is_block_size_independent(vad: str, words) -> None:
    x = np.concatenate([zeros(0.4), words[0], noise(1.0), words[1] * 0.3 + noise(len(
        words[1]) / SR), zeros(2.0), noise(1.5, -55.0), words[0]])
    whole = make_vad(vad).push(x)
    assert len(whole) == len(x) // WINDOW
    streamed, v, i = [], make_vad(vad), 0
    rng = np.random.default_rng(11)
    while i < len(x):
        n = int(rng.integers(1, 3000))
        streamed.append(v.push(x[i:i + n]))
        i += n
    np.testing.assert_array_equal(np.concatenate(streamed), whole)


def test_the_silero_gate_skips_silence_and_keeps_speech(words) -> None:
    x = np.concatenate([noise(4.0, -55.0), words[0] + noise(len(words[0]) / SR, -55.0),
                        noise(4.0, -55.0, seed=2)])
    gated, full = SileroVad(), SileroVad(gate_db=None)
    p_gated, p_full = gated.push(x), full.push(x)
    assert gated.windows_run < 0.5 * full.windows_run
    speech = p_full > 0.5
    assert (p_gated[speech] > 0.5).mean() > 0.9


@pytest.mark.parametrize("vad", VADS)
def test_silence_is_no_voice(vad: str) -> None:
    frames, turns = analyze_channel(zeros(3.0), "agent", ChannelConfig(vad=vad))
    assert turns == []
    assert all(f.dbfs == -100.0 and not f.voice and f.speech_prob == 0 for f in frames)


@pytest.mark.parametrize("vad", VADS)
@pytest.mark.parametrize("lead_in", ["noise", "digital silence"])
def test_line_noise_alone_is_not_speech(vad: str, lead_in: str) -> None:
    """-45 dBFS noise from the start, or after digital silence (the line not yet open)."""
    x = noise(6.0) if lead_in == "noise" else np.concatenate([zeros(2.0), noise(6.0)])
    frames, turns = analyze_channel(x, "agent", ChannelConfig(vad=vad))
    assert turns == []
    assert np.mean([f.voice for f in frames]) < 0.02


@pytest.mark.parametrize("vad", VADS)
def test_a_click_in_noise_is_not_a_turn(vad: str) -> None:
    x = noise(4.0)
    x[2 * SR:2 * SR + 800] += 0.5  # 50 ms
    assert turns_of(x, vad) == []


@pytest.mark.parametrize("vad", VADS)
def test_speech_in_noise_is_found_where_it_is(vad: str, words) -> None:
    x = noise(2.0 + len(words[0]) / SR + 2.0)
    x[SR * 2:SR * 2 + len(words[0])] += words[0]
    turns = turns_of(x, vad)
    assert len(turns) == 1
    assert turns[0].start == pytest.approx(2.0, abs=0.12)
    assert turns[0].end == pytest.approx(2.0 + len(words[0]) / SR, abs=0.2)


@pytest.mark.parametrize("vad", VADS)
def test_a_short_pause_is_one_turn_a_long_one_two(vad: str, words) -> None:
    a, b = words
    one = turns_of(np.concatenate([zeros(0.5), a, zeros(0.2), b, zeros(1.0)]), vad)
    assert len(one) == 1
    assert one[0].start == pytest.approx(0.5, abs=0.1)
    assert one[0].end == pytest.approx(0.5 + (len(a) + len(b)) / SR + 0.2, abs=0.15)
    two = turns_of(np.concatenate([zeros(0.5), a, zeros(1.5), b, zeros(1.0)]), vad)
    assert len(two) == 2
    assert two[1].start == pytest.approx(0.5 + len(a) / SR + 1.5, abs=0.1)


@pytest.mark.parametrize("vad", VADS)
def test_telephone_band_speech_is_still_found(vad: str, words, tmp_path: Path) -> None:
    wide, phone = tmp_path / "wide.wav", tmp_path / "phone.wav"
    x = np.concatenate([zeros(1.0), words[1], zeros(1.0)])
    sf.write(wide, x + noise(len(x) / SR, -50.0), SR)
    subprocess.run(["sox", str(wide), str(phone), "rate", "8k", "rate", "16k"], check=True)
    x, sr = sf.read(phone, dtype="float32")
    assert sr == SR
    turns = turns_of(x, vad)
    assert len(turns) == 1
    assert turns[0].start == pytest.approx(1.0, abs=0.12)
    assert turns[0].end == pytest.approx(1.0 + len(words[1]) / SR, abs=0.2)


@pytest.mark.parametrize("vad", VADS)
def test_real_speech_is_found_and_appended_silence_is_not(vad: str, shared_data) -> None:
    audio, _ = sf.read(shared_data / "stereo_diarization.wav", dtype="float32")
    # left: one sentence over ~0.3-4.6 s; right: a shorter one over ~0.4-2.6 s
    for channel, (start, end) in enumerate([(0.3, 4.55), (0.4, 2.55)]):
        x = np.concatenate([audio[:, channel], zeros(3.0)])
        frames, turns = analyze_channel(x, "agent", ChannelConfig(vad=vad))
        assert turns and turns[0].start == pytest.approx(start, abs=0.12)
        assert turns[-1].end == pytest.approx(end, abs=0.15)
        voiced = [f.t for f in frames if f.voice]
        assert min(voiced) > start - 0.15 and max(voiced) < end + 0.15
        covered = sum(t.duration for t in turns) / (end - start)
        assert covered > 0.85


# --- the channel analyzer: everything together, streaming --------------------------------

@pytest.mark.parametrize("vad", VADS)
def test_channel_streaming_with_random_blocks_equals_one_push(vad: str, words) -> None:
    a, b = words
    x = np.concatenate([noise(0.7, -50.0), a, noise(0.25, -50.0, 2), b * 2.0,
                        noise(1.2, -50.0, 3), a * 0.5, zeros(0.5)])
    config = ChannelConfig(vad=vad)
    frames, turns = analyze_channel(x, "agent", config)
    assert len(turns) == 2 and len(frames) == 2 * -(-len(x) // WINDOW)
    rng = np.random.default_rng(3)
    for high in (200, 20000):  # live-sized blocks, then file-sized blocks
        analyzer, got, got_turns, i = ChannelAnalyzer("agent", config), [], [], 0
        while i < len(x):
            n = int(rng.integers(1, high))
            update = analyzer.push(x[i:i + n])
            got += update.frames
            got_turns += update.closed_turns
            if update.open_turn_start is not None:
                assert got and got[-1].in_turn
            i += n
        last = analyzer.flush()
        assert last.open_turn_start is None
        got += last.frames
        got_turns += last.closed_turns
        assert got_turns == turns
        assert [frame_key(f) for f in got] == [frame_key(f) for f in frames]


def test_channel_frames_are_consistent(words) -> None:
    x = np.concatenate([zeros(0.5), words[0], zeros(0.5)])
    frames, turns = analyze_channel(x, "customer")
    assert [f.t for f in frames] == [round(i * HOP_S, 3) for i in range(len(frames))]
    assert all(np.isnan(f.pitch_hz) for f in frames if not f.voice)  # pitch gated by voice
    voiced_pitch = [f.pitch_hz for f in frames if f.voice and f.has_pitch]
    assert len(voiced_pitch) > 10 and 70 < np.median(voiced_pitch) < 300
    assert turns[0].speaker == "customer"
    inside = [f for f in frames if turns[0].start <= f.t < turns[0].end]
    assert all(f.in_turn for f in inside if f.t >= turns[0].start + 0.12)
