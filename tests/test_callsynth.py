"""The call synthesizer itself: the integration tests trust its channels, its line times and
its telephone and noise variants, so those are checked here against the audio it writes.

No Whisper here; see tests/calls.py for which phrases Whisper tiny.en hears correctly.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests import callsynth
from tests.calls import TELEPHONE, all_scenarios
from tests.callsynth import Line, louder, plan_call, synth_call, synth_speech


def test_speech_tools_are_installed() -> None:
    """espeak-ng and sox are test dependencies (scripts/setup --test installs them)."""
    assert shutil.which("espeak-ng") and shutil.which("sox")

A, C = "agent", "customer"
FRAME_S = 0.01
# Two lines each, with gaps, an overlap and a backchannel placed at an absolute time.
SCRIPT = [
    Line(A, "Thank you for calling, how can I help you today?"),
    Line(C, "My internet has been down since yesterday, and nobody called me back."),
    Line(A, "Let me check that for you.", gap=-1.0),
    Line(A, "Okay.", at=6.0),
    Line(C, "Thank you.", gap=1.5),
]


def frame_db(x: np.ndarray, rate: int) -> np.ndarray:
    n = int(FRAME_S * rate)
    frames = x[: len(x) // n * n].reshape(-1, n).astype(np.float64)
    return 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)


def channels(call: callsynth.SynthCall, agent_channel: str = "left") -> dict[str, np.ndarray]:
    audio, rate = sf.read(call.path, dtype="float32", always_2d=True)
    assert rate == call.sample_rate and audio.shape[1] == 2
    left, right = audio[:, 0], audio[:, 1]
    return {A: left, C: right} if agent_channel == "left" else {A: right, C: left}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> callsynth.SynthCall:
    return synth_call(SCRIPT, tmp_path_factory.mktemp("synth") / "clean.wav")


def test_lines_are_laid_out_by_gap_overlap_and_absolute_time(clean) -> None:
    greet, problem, check, okay, thanks = clean.lines
    assert greet.start == pytest.approx(0.5, abs=0.001)
    assert problem.start == pytest.approx(greet.end + 0.6, abs=0.001)
    assert check.start == pytest.approx(problem.end - 1.0, abs=0.001)  # talks over the end
    assert okay.start == pytest.approx(6.0, abs=0.001) and okay.end < problem.end
    # After an overlap the next line waits for whoever finished last.
    assert thanks.start == pytest.approx(max(problem.end, check.end) + 1.5, abs=0.001)
    assert clean.duration_s == pytest.approx(thanks.end + 1.0, abs=0.001)
    assert plan_call(SCRIPT) == clean.lines


@pytest.mark.parametrize("side", ["left", "right"])
def test_each_party_is_on_its_own_channel_only(tmp_path: Path, side: str) -> None:
    call = synth_call(SCRIPT, tmp_path / "call.wav", agent_channel=side)
    audio = channels(call, side)
    for line in call.lines:
        i, j = int(line.start * call.sample_rate), int(line.end * call.sample_rate)
        own = audio[line.speaker][i:j]
        other = audio[C if line.speaker == A else A][i:j]
        assert 20 * np.log10(np.sqrt(np.mean(own ** 2))) > -35
        if not any(o.speaker != line.speaker and o.start < line.end and line.start < o.end
                   for o in call.lines):
            assert np.all(other == 0), line.text  # digital silence: nothing leaks across


@pytest.mark.parametrize("variant", ["clean", "telephone"])
def test_line_times_match_the_energy_in_the_audio(tmp_path: Path, variant: str) -> None:
    """Start and end within 0.1 s of where the speaker's channel rises over and falls
    under -60 dBFS, also after sox's telephone band (whose filters must not shift time)."""
    call = synth_call(SCRIPT, tmp_path / "call.wav", telephone=variant == "telephone")
    audio = channels(call)
    for line in call.lines:
        db = frame_db(audio[line.speaker], call.sample_rate)
        mine = [o for o in call.lines if o.speaker == line.speaker]
        lo = max([o.end for o in mine if o.end <= line.start] + [0.0])
        hi = min([o.start for o in mine if o.start >= line.end] + [call.duration_s])
        a, b = int(np.ceil(lo / FRAME_S)), int(hi / FRAME_S)
        voiced = np.flatnonzero(db[a:b] > -60) + a
        assert len(voiced), line.text
        assert voiced[0] * FRAME_S == pytest.approx(line.start, abs=0.1), line.text
        assert (voiced[-1] + 1) * FRAME_S == pytest.approx(line.end, abs=0.1), line.text


def test_telephone_variant_is_8_khz_and_phone_band(tmp_path: Path) -> None:
    call = synth_call(SCRIPT, tmp_path / "phone.wav", telephone=True)
    info = sf.info(call.path)
    assert call.sample_rate == info.samplerate == 8000 and info.channels == 2
    agent = channels(call)[A]
    spectrum = np.abs(np.fft.rfft(agent)) ** 2
    freqs = np.fft.rfftfreq(len(agent), 1 / 8000)
    band = spectrum[(freqs > 400) & (freqs < 3300)].mean()
    assert 10 * np.log10(spectrum[freqs < 150].mean() / band) < -30  # the voice's low end
    assert 10 * np.log10(spectrum[freqs > 3700].mean() / band) < -30


@pytest.mark.parametrize("color", ["white", "pink"])
@pytest.mark.parametrize("telephone", [False, True], ids=["wide", "phone"])
def test_noise_is_at_the_requested_level(tmp_path: Path, color: str, telephone: bool) -> None:
    call = synth_call(SCRIPT, tmp_path / "noisy.wav", noise_dbfs=-45.0, noise_color=color,
                      telephone=telephone)
    audio = channels(call)
    # The lead-in and the tail: noise only.
    quiet = np.r_[0:int(0.45 * call.sample_rate), -int(0.95 * call.sample_rate):0]
    for x in audio.values():
        assert 20 * np.log10(np.sqrt(np.mean(x[quiet] ** 2))) == pytest.approx(-45.0, abs=1.0)
        assert abs(x[quiet].mean()) < 10 ** (-60 / 20)  # no DC offset
    # Each channel has its own noise, as two separate lines would.
    assert abs(np.corrcoef(audio[A][quiet], audio[C][quiet])[0, 1]) < 0.2


def test_agent_gain_makes_a_quiet_mic(tmp_path: Path, clean) -> None:
    quiet = synth_call(SCRIPT, tmp_path / "quiet.wav", agent_gain_db=-15.0)
    loud_a, quiet_a = channels(clean)[A], channels(quiet)[A]
    ratio = 20 * np.log10(np.sqrt(np.mean(quiet_a ** 2) / np.mean(loud_a ** 2)))
    assert ratio == pytest.approx(-15.0, abs=0.2)
    assert np.array_equal(channels(clean)[C], channels(quiet)[C])


def test_a_shouted_line_is_much_louder_and_never_clips(tmp_path: Path) -> None:
    normal = Line(A, "I am trying to help you, and I cannot do that like this.")
    call = synth_call([normal, louder(normal)], tmp_path / "shout.wav")
    agent = channels(call)[A]
    calm, shout = (agent[int(s.start * 16000):int(s.end * 16000)] for s in call.lines)
    rise = 10 * np.log10(np.mean(shout ** 2) / np.mean(calm ** 2))
    assert rise > 8.0
    assert np.abs(agent).max() < 0.999  # the soft limiter, not the 16-bit rail


def test_synth_speech_is_16_khz_trimmed_and_at_the_calling_level() -> None:
    x = synth_speech("Thank you for calling.", "agent")
    assert x.dtype == np.float32 and 0.8 < len(x) / 16000 < 3.0
    db = frame_db(x, 16000)
    assert db[0] > db.max() - 45 and db[-1] > db.max() - 45  # no padded silence
    loud = db > db.max() - 40
    level = 10 * np.log10(np.mean(10 ** (db[loud] / 10)))
    assert level == pytest.approx(callsynth.LEVEL_DBFS, abs=0.5)
    # Amplitude scales like espeak-ng's -a; other voices and settings give other speech.
    assert np.allclose(synth_speech("Thank you for calling.", "agent", amplitude=200), 2 * x)
    customer = synth_speech("Thank you for calling.", "customer")
    assert len(customer) != len(x) or not np.allclose(customer, x)
    assert len(synth_speech("Thank you for calling.", "en-us+m3", pitch=70)) > 0


def test_clips_are_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCOACH_SYNTH_CACHE", str(tmp_path / "cache"))
    text = "This sentence is only ever spoken by the cache test."
    first = synth_speech(text, "customer", pitch=61)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1

    def no_espeak(*args, **kwargs):
        raise AssertionError("espeak-ng ran again for a cached clip")

    monkeypatch.setattr(subprocess, "run", no_espeak)
    assert np.array_equal(synth_speech(text, "customer", pitch=61), first)
    with pytest.raises(AssertionError, match="ran again"):
        synth_speech(text, "customer", pitch=62)  # another setting is another clip


# -- the scenario library's own promises (no Whisper) ------------------------------------

@pytest.fixture(scope="module")
def scenarios():
    return {s.name: (s, plan_call(s.lines)) for s in all_scenarios()}


def test_every_scenario_is_30_to_60_s_and_the_variants_keep_its_times(
        scenarios, tmp_path: Path) -> None:
    for name, (_, spoken) in scenarios.items():
        assert 30.0 <= spoken[-1].end + 1.0 <= 60.0, name
    scenario, spoken = scenarios["dead_air"]
    phone = synth_call(scenario.lines, tmp_path / "phone.wav", **TELEPHONE)
    assert phone.lines == spoken and scenario.expect_for(phone) == scenario.expect


def test_angry_call_interrupts_twice_after_a_calm_baseline(scenarios) -> None:
    scenario, spoken = scenarios["angry"]
    expect = scenario.expect
    assert expect["interruptions"] == 2 and expect["raised_voice"] == 1
    for onset in expect["interruption_times"]:
        agent = next(s for s in spoken if s.speaker == A and s.start == onset)
        talked_over = next(s for s in spoken if s.speaker == C and s.start < onset < s.end)
        assert talked_over.end - onset == pytest.approx(1.5, abs=0.01)
        assert talked_over.end - talked_over.start > 5.0 and agent.end - agent.start > 2.0
    (shout_start, shout_end), = expect["raised_voice_times"]
    calm_agent = sum(s.end - s.start for s in spoken if s.speaker == A and s.end <= shout_start)
    assert calm_agent > 6.0 and shout_end - shout_start > 3.0
    assert expect["checks"]["apologized"] is False


def test_backchannels_are_short_and_inside_one_long_turn(scenarios) -> None:
    scenario, spoken = scenarios["backchannel"]
    story = max((s for s in spoken if s.speaker == C), key=lambda s: s.end - s.start)
    assert 25.0 <= story.end - story.start <= 30.0
    backchannels = scenario.expect["backchannel_times"]
    assert len(backchannels) == 4 and scenario.expect["interruptions"] == 0
    for start, end in backchannels:
        assert story.start < start and end < story.end and end - start < 0.7


def test_dead_air_is_twelve_silent_seconds(scenarios) -> None:
    scenario, spoken = scenarios["dead_air"]
    (start, end), = scenario.expect["dead_air_times"]
    assert end - start == pytest.approx(12.0, abs=0.01)
    assert not any(s.start < end and start < s.end for s in spoken)
