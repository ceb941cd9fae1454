"""Per-hop loudness and pitch (`audio.frames`) on synthetic tones and real speech.

The features must be right (known pitch, known level, silence at the floor) and must not
depend on how the stream is cut into pushes: live 10 ms blocks and a whole recording in
one push give the same numbers, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from audio.frames import DB_FLOOR, HOP, HOP_S, SAMPLE_RATE, LoudnessPitch, yin_pitch

SR = SAMPLE_RATE
PER_S = round(1 / HOP_S)


def tone(f0: float, seconds: float, dbfs: float = -20.0) -> np.ndarray:
    """A harmonic-rich tone (five harmonics, 1/k) at an exact RMS level."""
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t + k) / k for k in range(1, 6))
    return (x / np.sqrt(np.mean(x**2)) * 10 ** (dbfs / 20)).astype(np.float32)


def push_in_blocks(x: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lp, dbfs, pitch, i, hops = LoudnessPitch(), [], [], 0, 0
    for n in sizes:
        block = lp.push(x[i:i + n])
        assert block.first_hop == hops
        hops += len(block.dbfs)
        dbfs.append(block.dbfs)
        pitch.append(block.pitch_hz)
        i += n
        if i >= len(x):
            break
    return np.concatenate(dbfs), np.concatenate(pitch)


@pytest.mark.parametrize("f0", [150.0, 220.0])
def test_a_harmonic_tone_gives_its_pitch(f0: float) -> None:
    block = LoudnessPitch().push(tone(f0, 1.0))
    steady = block.pitch_hz[5:]  # the first hops' windows still hold the silence before
    assert np.isnan(steady).mean() < 0.05
    assert np.nanmin(steady) == pytest.approx(f0, rel=0.03)
    assert np.nanmax(steady) == pytest.approx(f0, rel=0.03)


def test_pitch_follows_a_change_within_a_window() -> None:
    x = np.concatenate([tone(150, 1.0), tone(220, 1.0)])
    pitch = LoudnessPitch().push(x).pitch_hz
    assert np.nanmedian(pitch[PER_S - 10:PER_S]) == pytest.approx(150, rel=0.03)
    # the 64 ms window ending at each hop's end has passed the change 5 hops later
    assert np.nanmedian(pitch[PER_S + 5:PER_S + 15]) == pytest.approx(220, rel=0.03)


def test_a_known_db_step_shows_in_dbfs() -> None:
    x = np.concatenate([tone(200, 1.0, -30.0), tone(200, 1.0, -20.0)])
    block = LoudnessPitch().push(x)
    assert len(block.dbfs) == len(x) // HOP
    assert np.abs(block.dbfs[2:PER_S - 2] + 30.0).max() < 0.5
    assert np.abs(block.dbfs[PER_S + 2:-2] + 20.0).max() < 0.5


def test_silence_is_the_floor_with_no_pitch() -> None:
    block = LoudnessPitch().push(np.zeros(SR, dtype=np.float32))
    assert (block.dbfs == DB_FLOOR).all() and DB_FLOOR == -100.0
    assert np.isnan(block.pitch_hz).all()


def test_noise_and_very_quiet_tones_have_no_pitch() -> None:
    rng = np.random.default_rng(0)
    noise = LoudnessPitch().push((rng.standard_normal(SR) * 0.05).astype(np.float32))
    assert np.isnan(noise.pitch_hz).mean() > 0.9
    whisper = LoudnessPitch().push(tone(150, 1.0, -70.0))
    assert np.isnan(whisper.pitch_hz).all()  # under the -60 dBFS pitch gate


def test_pitch_mask_limits_where_pitch_is_computed() -> None:
    x = tone(180, 1.0)
    n = len(x) // HOP
    mask = np.zeros(n, dtype=bool)
    mask[20:40] = True
    pitch = LoudnessPitch().push(x, pitch_mask=mask).pitch_hz
    assert np.isnan(pitch[~mask]).all()
    assert np.nanmedian(pitch[mask]) == pytest.approx(180, rel=0.03)


def test_hop_times_count_from_the_stream_start() -> None:
    lp = LoudnessPitch()
    first = lp.push(np.zeros(HOP + 100, dtype=np.float32))
    assert (first.first_hop, first.t0, len(first.dbfs)) == (0, 0.0, 1)
    second = lp.push(np.zeros(3 * HOP - 100, dtype=np.float32))
    assert (second.first_hop, len(second.dbfs)) == (1, 3)
    assert second.t0 == pytest.approx(HOP_S)
    assert len(lp.push(np.zeros(HOP - 1, dtype=np.float32)).dbfs) == 0


def test_random_block_sizes_give_what_one_push_gives(shared_data) -> None:
    audio, sr = sf.read(shared_data / "stereo_diarization.wav", dtype="float32")
    assert sr == SR
    x = np.concatenate([audio[:, 0], tone(130, 0.5, -25.0)])
    whole = LoudnessPitch().push(x)
    rng = np.random.default_rng(7)
    for sizes in (rng.integers(1, 600, size=len(x)), rng.integers(160, 8000, size=len(x))):
        dbfs, pitch = push_in_blocks(x, sizes)
        np.testing.assert_array_equal(dbfs, whole.dbfs)
        np.testing.assert_array_equal(pitch, whole.pitch_hz)  # NaN where NaN, bit for bit


def test_real_speech_pitch_agrees_with_librosa_yin(shared_data) -> None:
    """The numpy YIN (no numba start-up) against librosa.yin on the same 8 kHz audio."""
    import librosa  # a dependency of the project: never skipped
    audio, _ = sf.read(shared_data / "stereo_diarization.wav", dtype="float32")
    for channel, (low, high) in enumerate([(70.0, 160.0), (100.0, 220.0)]):
        x = audio[:, channel]
        ours = LoudnessPitch().push(x).pitch_hz
        assert low < np.nanmedian(ours) < high  # a man's and a woman's reading voice
        x8 = 0.5 * (x[0::2] + x[1::2])  # the same decimation as LoudnessPitch
        ref = librosa.yin(x8.astype(np.float64), fmin=65, fmax=400, sr=8000,
                          frame_length=512, hop_length=128, center=False)
        # hop i's window ends at hop i's end: librosa's frame i - 3 (512 = 4 x 128)
        n = min(len(ours), len(ref) + 3)
        mine, theirs = ours[3:n], ref[: n - 3]
        found = ~np.isnan(mine)
        assert found.sum() > 30
        rel = np.abs(mine[found] / theirs[found] - 1.0)
        assert np.median(rel) < 0.015
        assert (rel < 0.03).mean() > 0.85


def test_yin_pitch_on_chosen_rows_only() -> None:
    x8 = tone(160, 0.5)[::2].astype(np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(x8, 512)[::128]
    rows = np.array([1, 3, 5])
    got = yin_pitch(windows, rows=rows)
    assert got.shape == (3,)
    np.testing.assert_allclose(got, yin_pitch(windows)[rows])
    assert got == pytest.approx([160.0] * 3, rel=0.03)
