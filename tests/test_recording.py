"""Reading recordings: formats, sample rates, channel mapping, notes, and bad input.

Fixtures are made in tmp_path with numpy + soundfile and the real Debian tools (sox for
FLAC/OGG, ffmpeg for MP3/M4A), so each format goes through the decoder users will hit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.recording import SAMPLE_RATE, RecordingError, load_recording, probe_duration

AGENT_HZ, CUSTOMER_HZ = 220.0, 440.0  # left, right
AMPLITUDE = 0.3


def tones(rate: int, seconds: float = 2.0, freqs: tuple[float, ...] = (AGENT_HZ, CUSTOMER_HZ)
          ) -> np.ndarray:
    """One sine per channel, (frames, channels) float32."""
    t = np.arange(int(rate * seconds)) / rate
    return np.stack([AMPLITUDE * np.sin(2 * np.pi * f * t) for f in freqs],
                    axis=1).astype(np.float32)


def peak_hz(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def make(tmp_path: Path, data: np.ndarray, rate: int, suffix: str, name: str = "call") -> Path:
    """Write `data` as WAV, then convert with the tool a user's recorder would resemble."""
    wav = tmp_path / f"{name}-src.wav"
    sf.write(wav, data, rate, subtype="PCM_16")
    if suffix == ".wav":
        return wav
    out = tmp_path / f"{name}{suffix}"
    if suffix in (".flac", ".ogg"):
        run("sox", str(wav), str(out))
    else:
        run("ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), str(out))
    return out


def assert_user_error(path: Path, agent_channel: str = "left") -> str:
    with pytest.raises(RecordingError) as info:
        load_recording(path, agent_channel)
    message = str(info.value)
    assert path.name in message, message
    assert "\n" not in message and "Traceback" not in message, message
    return message


# --- formats, rates, channel mapping -------------------------------------------------------

@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3", ".m4a"])
@pytest.mark.parametrize("rate", [8000, 44100])
def test_each_format_and_rate_keeps_the_parties_apart(tmp_path: Path, suffix: str,
                                                      rate: int) -> None:
    path = make(tmp_path, tones(rate), rate, suffix)

    left = load_recording(path)
    assert left.channels == "stereo" and left.agent_channel == "left"
    assert left.sample_rate == SAMPLE_RATE and left.source_sample_rate == rate
    assert left.source_channels == 2 and left.notes == ()
    assert left.agent.dtype == np.float32 and left.customer.dtype == np.float32
    assert left.duration_s == pytest.approx(2.0, abs=0.08)
    assert len(left.customer) == len(left.agent)
    assert peak_hz(left.agent) == pytest.approx(AGENT_HZ, abs=3)
    assert peak_hz(left.customer) == pytest.approx(CUSTOMER_HZ, abs=3)

    right = load_recording(path, agent_channel="right")
    assert right.agent_channel == "right"
    assert peak_hz(right.agent) == pytest.approx(CUSTOMER_HZ, abs=3)
    assert peak_hz(right.customer) == pytest.approx(AGENT_HZ, abs=3)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_resampling_keeps_frequency_length_and_level(tmp_path: Path, rate: int) -> None:
    path = tmp_path / f"r{rate}.wav"
    sf.write(path, tones(rate, 3.0, (1000.0, 3000.0)), rate)
    rec = load_recording(path)
    assert len(rec.agent) == pytest.approx(3 * SAMPLE_RATE, abs=2)
    assert peak_hz(rec.agent) == pytest.approx(1000, abs=2)
    assert peak_hz(rec.customer) == pytest.approx(3000, abs=2)
    middle = slice(SAMPLE_RATE // 2, -SAMPLE_RATE // 2)  # away from the filter's edges
    assert rms(rec.agent[middle]) == pytest.approx(AMPLITUDE / np.sqrt(2), rel=0.02)


def test_path_is_kept_as_given_and_pathlike_works(tmp_path: Path) -> None:
    path = make(tmp_path, tones(16000), 16000, ".wav")
    assert load_recording(path).path == str(path)
    assert load_recording(str(path)).path == str(path)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT"])
def test_sample_formats_are_scaled_to_plus_minus_one(tmp_path: Path, subtype: str) -> None:
    path = tmp_path / f"{subtype}.wav"
    x = tones(16000, 1.0) / AMPLITUDE * 0.9  # peaks at 0.9 full scale
    sf.write(path, x, 16000, subtype=subtype)
    rec = load_recording(path)
    assert float(np.max(np.abs(rec.agent))) == pytest.approx(0.9, abs=0.02)


def test_nan_and_inf_samples_become_zero(tmp_path: Path) -> None:
    path = tmp_path / "float.wav"
    x = tones(16000, 1.0)
    x[100:110, 0] = np.nan
    x[200, 1] = np.inf
    x[300, 1] = -np.inf
    sf.write(path, x, 16000, subtype="FLOAT")
    rec = load_recording(path)
    assert np.isfinite(rec.agent).all() and np.isfinite(rec.customer).all()
    assert rec.agent[100:110].tolist() == [0.0] * 10 and rec.customer[200] == 0.0


# --- channel layouts -----------------------------------------------------------------------

def test_mono_is_the_agent_only_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "mono.wav"
    sf.write(path, tones(8000, freqs=(AGENT_HZ,)), 8000)
    for side in ("left", "right"):
        rec = load_recording(path, side)
        assert rec.customer is None and rec.channels == "agent-only"
        assert rec.source_channels == 1
        assert peak_hz(rec.agent) == pytest.approx(AGENT_HZ, abs=3)
        assert rec.notes == ("mono recording: analysing the agent only (no customer channel)",)


@pytest.mark.parametrize("variant", ["identical", "quieter copy", "mp3 of a copy"])
def test_one_voice_on_both_channels_is_the_agent_only(tmp_path: Path, variant: str) -> None:
    voice = tones(16000, 2.0, (AGENT_HZ,))[:, 0] + tones(16000, 2.0, (330.0,))[:, 0]
    right = voice * (0.5 if variant == "quieter copy" else 1.0)
    data = np.stack([voice, right], axis=1) * 0.8
    path = make(tmp_path, data, 16000, ".mp3" if variant == "mp3 of a copy" else ".wav")
    rec = load_recording(path)
    assert rec.customer is None and rec.channels == "agent-only"
    assert rec.source_channels == 2
    assert any("same audio" in n and "agent only" in n for n in rec.notes)


def test_a_silent_customer_is_still_a_customer(tmp_path: Path) -> None:
    data = tones(16000)
    data[:, 1] = 0.0
    rec = load_recording(make(tmp_path, data, 16000, ".wav"))
    assert rec.channels == "stereo" and not np.any(rec.customer)


@pytest.mark.parametrize("rate", [8000, 16000])
def test_silence_is_valid(tmp_path: Path, rate: int) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((rate, 2), np.float32), rate)
    rec = load_recording(path)
    assert rec.duration_s == pytest.approx(1.0) and not np.any(rec.agent)


@pytest.mark.parametrize(("channels", "side", "note"), [
    (4, "left", "4 channels: used 1 (agent) and 2 (customer), ignored 3-4"),
    (4, "right", "4 channels: used 2 (agent) and 1 (customer), ignored 3-4"),
    (3, "left", "3 channels: used 1 (agent) and 2 (customer), ignored 3"),
])
def test_more_than_two_channels_uses_the_first_two(tmp_path: Path, channels: int, side: str,
                                                   note: str) -> None:
    freqs = (AGENT_HZ, CUSTOMER_HZ, 660.0, 880.0)[:channels]
    path = tmp_path / "multi.wav"
    sf.write(path, tones(16000, 1.0, freqs), 16000)
    rec = load_recording(path, side)
    assert rec.source_channels == channels and rec.notes == (note,)
    agent_hz, customer_hz = (AGENT_HZ, CUSTOMER_HZ) if side == "left" else (CUSTOMER_HZ, AGENT_HZ)
    assert peak_hz(rec.agent) == pytest.approx(agent_hz, abs=3)
    assert peak_hz(rec.customer) == pytest.approx(customer_hz, abs=3)


# --- real recordings -----------------------------------------------------------------------

def test_real_two_speaker_recording_is_stereo(shared_data: Path) -> None:
    rec = load_recording(shared_data / "stereo_diarization.wav")
    assert rec.channels == "stereo" and rec.notes == ()
    assert rec.duration_s == pytest.approx(5.0, abs=0.01)
    assert rec.source_sample_rate == 16000
    corr = np.corrcoef(rec.agent, rec.customer)[0, 1]
    assert abs(corr) < 0.5  # two different speakers


def test_real_mono_saved_as_stereo_is_agent_only(shared_data: Path) -> None:
    rec = load_recording(shared_data / "jfk.flac", "right")
    assert rec.channels == "agent-only" and rec.source_channels == 2
    assert rec.source_sample_rate == 44100
    assert rec.duration_s == pytest.approx(11.0, abs=0.05)
    assert any("same audio" in n for n in rec.notes)


# --- truncated files -----------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3"])
def test_a_file_cut_in_its_data_keeps_what_decodes_and_says_so(tmp_path: Path,
                                                               suffix: str) -> None:
    path = make(tmp_path, tones(16000, 4.0), 16000, suffix)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    rec = load_recording(path)
    assert 1.0 < rec.duration_s < 3.0
    assert peak_hz(rec.agent) == pytest.approx(AGENT_HZ, abs=3)
    note = next(n for n in rec.notes if "truncated" in n)
    assert note.startswith("file looks truncated: header promised 4.0 s, read ")


def test_an_m4a_cut_short_keeps_what_decodes(tmp_path: Path) -> None:
    src = make(tmp_path, tones(16000, 4.0), 16000, ".wav")
    path = tmp_path / "faststart.m4a"  # index first, as streaming recorders write it
    run("ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-movflags", "+faststart",
        str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    rec = load_recording(path)
    assert 0.5 < rec.duration_s < 3.5
    assert any("truncated" in n for n in rec.notes)


def test_an_m4a_cut_before_its_index_is_an_error(tmp_path: Path) -> None:
    path = make(tmp_path, tones(16000, 4.0), 16000, ".m4a")  # ffmpeg puts the index last
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_user_error(path)


# --- bad input -----------------------------------------------------------------------------

def _bad_file(tmp_path: Path, case: str) -> Path:
    path = tmp_path / f"{case}.wav"
    if case == "missing":
        pass
    elif case == "folder":
        path.mkdir()
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "zero samples":
        sf.write(path, np.zeros((0, 2), np.float32), 16000)
    elif case == "text":
        path.write_text("hello, this is not audio\n" * 100)
    elif case == "random mp3":
        path = tmp_path / "noise.mp3"
        path.write_bytes(np.random.default_rng(0).bytes(5000))
    elif case.startswith("header cut at "):
        sf.write(path, tones(16000), 16000, subtype="PCM_16")
        path.write_bytes(path.read_bytes()[: int(case.split()[-1])])
    return path


@pytest.mark.parametrize("case", ["missing", "folder", "empty", "zero samples", "text",
                                  "random mp3", "header cut at 12", "header cut at 20",
                                  "header cut at 40"])
def test_bad_input_is_one_clear_line_naming_the_file(tmp_path: Path, case: str) -> None:
    message = assert_user_error(_bad_file(tmp_path, case))
    if case == "missing":
        assert "not found" in message
    if case == "empty":
        assert "empty" in message
    if case == "zero samples":
        assert "no audio samples" in message


@pytest.mark.parametrize("side", ["middle", "", "agent"])
def test_an_unknown_agent_channel_is_a_user_error(tmp_path: Path, side: str) -> None:
    path = make(tmp_path, tones(16000), 16000, ".wav")
    assert "'left' or 'right'" in assert_user_error(path, side)


# --- duration probe and speed --------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3", ".m4a"])
def test_probe_duration_reads_the_header(tmp_path: Path, suffix: str) -> None:
    path = make(tmp_path, tones(8000, 3.0), 8000, suffix)
    assert probe_duration(path) == pytest.approx(3.0, abs=0.1)


def test_probe_duration_of_a_non_recording_is_none(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("not audio\n" * 20)
    assert probe_duration(text) is None
    assert probe_duration(tmp_path / "missing.wav") is None


def test_ten_minutes_of_stereo_load_whole(tmp_path: Path) -> None:
    """A long call loads whole and in order (its speed is measured in bench/, not here)."""
    rate = 44100
    rng = np.random.default_rng(1)
    path = tmp_path / "long.wav"
    x = (rng.standard_normal((rate * 600, 2)) * 0.1).astype(np.float32)
    x[-rate:, 0] = 0.0  # the agent's last second is silent
    sf.write(path, x, rate, subtype="PCM_16")
    rec = load_recording(path)
    assert rec.duration_s == pytest.approx(600.0) and rec.channels == "stereo"
    assert np.abs(rec.agent[-8000:]).max() < 1e-3 < np.abs(rec.customer[-8000:]).max()
