"""Whisper on speech turns: model location, packing into windows, call times, guards.

The guard tests feed a stand-in model with scripted Whisper output (fast, exact). The
`model` tests run the bundled tiny.en on real recorded speech, loaded once per module.
"""

from __future__ import annotations

import difflib
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from audio.model_location import (
    BUNDLED_NAME,
    ModelError,
    bundled_model_path,
    load_model,
    resolve_model,
)
from audio.transcribe import Transcriber, TranscriberConfig, _is_loop
from coaching.timeline import Utterance

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SR = 16000
LEFT = "He began a confused complaint against the wizard, who had vanished behind the " \
       "curtain on the left."
RIGHT = "The horizon seems extremely distant."


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, norm(a).split(), norm(b).split()).ratio()


# -- model location ---------------------------------------------------------------------

def test_default_and_tiny_en_are_the_bundled_folder() -> None:
    for name in (None, "", "tiny.en"):
        spec = resolve_model(name)
        assert spec.bundled and spec.name == BUNDLED_NAME
        assert Path(spec.source) == bundled_model_path()
        assert (Path(spec.source) / "model.bin").is_file()


def test_size_names_and_folders_resolve_without_loading(tmp_path: Path) -> None:
    assert resolve_model("base.en") == resolve_model("base.en")
    spec = resolve_model("base.en")
    assert (spec.source, spec.name, spec.bundled) == ("base.en", "base.en", False)
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"")
    spec = resolve_model(str(folder))
    assert (spec.source, spec.name, spec.bundled) == (str(folder), "my-model", False)


def test_bad_model_names_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.bin").write_bytes(b"x")
    cases = {str(tmp_path / "nope" / "model"): "model folder not found",
             str(tmp_path / "empty"): "no model.bin",
             str(tmp_path / "file.bin"): "no model.bin",
             "huge-v9": "unknown Whisper model 'huge-v9'"}
    for name, message in cases.items():
        with pytest.raises(ModelError, match=message) as err:
            resolve_model(name)
        assert "\n" not in str(err.value)


def test_a_corrupt_model_folder_fails_to_load_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (folder / name).write_bytes((bundled_model_path() / name).read_bytes())
    (folder / "model.bin").write_bytes(b"not a model" * 100)
    with pytest.raises(ModelError, match="cannot load Whisper model 'broken'") as err:
        load_model(resolve_model(str(folder)))
    assert "\n" not in str(err.value)
    with pytest.raises(ModelError):
        Transcriber(TranscriberConfig(model=str(folder))).load()


# -- guards, with a stand-in model --------------------------------------------------------

def fake_word(start: float, end: float, text: str, p: float = 0.9) -> SimpleNamespace:
    return SimpleNamespace(start=start, end=end, word=" " + text, probability=p)


def fake_segment(words: list[SimpleNamespace], no_speech: float = 0.05,
                 logprob: float = -0.3, opens_decode: bool = False) -> SimpleNamespace:
    """A Whisper segment; `opens_decode`: the first of a 30-s decode (its no-speech verdict
    is about this segment)."""
    start = words[0].start
    return SimpleNamespace(text="".join(w.word for w in words), words=words, start=start,
                           end=words[-1].end, seek=int(start * 100) if opens_decode else 0,
                           no_speech_prob=no_speech, avg_logprob=logprob)


class ScriptedModel:
    """Answers each `transcribe` call with the next scripted list of segments."""

    def __init__(self, *answers: list[SimpleNamespace]) -> None:
        self.answers = list(answers)
        self.calls: list[dict] = []

    def transcribe(self, audio: np.ndarray, **options):
        self.calls.append({"seconds": len(audio) / SR, **options})
        return iter(self.answers.pop(0) if self.answers else []), None


def tone(seconds: float, dbfs: float = -20.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_words_map_back_to_their_segments_and_padding_words_are_dropped() -> None:
    # Call: a loud 2-s turn at 1 s and a loud 1-s turn at 10 s. Packed with 0.3-s gaps the
    # window holds [0, 2] then gap [2, 2.3] then [2.3, 3.3].
    channel = np.zeros(12 * SR, np.float32)
    channel[1 * SR:3 * SR] = tone(2.0)
    channel[10 * SR:11 * SR] = tone(1.0)
    model = ScriptedModel([
        fake_segment([fake_word(0.1, 0.5, "Hello"), fake_word(0.6, 1.9, "there.")]),
        fake_segment([fake_word(2.05, 2.25, "uh"), fake_word(2.25, 2.25, ".")]),  # the gap
        fake_segment([fake_word(2.3, 2.8, "Yes,"), fake_word(2.8, 3.4, "please.")]),
    ])
    tr = Transcriber(model=model)
    got = tr.transcribe_segments(channel, "agent", [(1.0, 3.0), (10.0, 11.0)])
    assert len(model.calls) == 1  # both turns in one Whisper call
    call = model.calls[0]
    assert call["word_timestamps"] and not call["vad_filter"]
    assert not call["condition_on_previous_text"] and call["beam_size"] == 1
    assert [u.text for u in got] == ["Hello there.", "Yes, please."]
    first, second = got
    assert (first.start, first.end) == (1.1, 2.9)
    assert (second.start, second.end) == (10.0, 11.0)  # clamped to the turn
    assert [w.start for w in second.words] == [10.0, 10.5]


def test_silence_phrases_go_only_when_quiet_or_no_speech() -> None:
    channel = np.zeros(20 * SR, np.float32)
    channel[0:2 * SR] = tone(2.0, -20.0)
    channel[5 * SR:6 * SR] = tone(1.0, -55.0)  # faint hum: not speech
    channel[10 * SR:11 * SR] = tone(1.0, -22.0)
    channel[15 * SR:16 * SR] = tone(1.0, -22.0)
    # Window layout: [0, 2] gap [2.3, 3.3] gap [3.6, 4.6] gap [4.9, 5.9]
    model = ScriptedModel([
        fake_segment([fake_word(0.2, 1.5, "Good"), fake_word(1.5, 1.9, "morning.")]),
        fake_segment([fake_word(2.4, 2.8, "Thank"), fake_word(2.8, 3.1, "you.")]),  # faint
        fake_segment([fake_word(3.7, 4.0, "Thank"), fake_word(4.0, 4.4, "you.")]),  # said
        fake_segment([fake_word(5.0, 5.5, "you")], no_speech=0.9, opens_decode=True),
    ])
    got = Transcriber(model=model).transcribe_segments(
        channel, "customer", [(0.0, 2.0), (5.0, 6.0), (10.0, 11.0), (15.0, 16.0)])
    assert [(u.start, u.text) for u in got] == [(0.2, "Good morning."), (10.1, "Thank you.")]


def test_a_no_speech_verdict_counts_only_near_the_opening_of_its_decode() -> None:
    # Whisper's no-speech probability is about the opening of a 30-s decode: in a packed
    # window it says nothing about a turn 10 s later.
    channel = np.zeros(20 * SR, np.float32)
    channel[0:10 * SR] = tone(10.0, -30.0)
    channel[15 * SR:16 * SR] = tone(1.0, -22.0)
    model = ScriptedModel([
        fake_segment([fake_word(0.5, 9.5, "Hmm")], no_speech=0.7),
        fake_segment([fake_word(10.4, 10.8, "Thank"), fake_word(10.8, 11.1, "you.")],
                     no_speech=0.7),
    ])
    got = Transcriber(model=model).transcribe_segments(channel, "agent",
                                                       [(0.0, 10.0), (15.0, 16.0)])
    assert [u.text for u in got] == ["Hmm", "Thank you."]


def test_loops_and_unlikely_no_speech_segments_are_dropped() -> None:
    channel = tone(6.0)
    loop = [fake_word(0.2 + 0.2 * i, 0.4 + 0.2 * i, w) for i, w in
            enumerate(("thank", "you") * 6)]
    model = ScriptedModel([
        fake_segment(loop),
        fake_segment([fake_word(3.0, 3.5, "Okay", 0.2), fake_word(3.5, 3.9, "then", 0.1)],
                     no_speech=0.8, logprob=-1.4, opens_decode=True),
        fake_segment([fake_word(4.0, 4.5, "Right.")], no_speech=0.8, logprob=-0.2,
                     opens_decode=True),
    ])
    got = Transcriber(model=model).transcribe_segments(channel, "agent", [(0.0, 6.0)])
    assert [u.text for u in got] == ["Right."]  # confident despite no_speech: kept


def test_repetition_loops_are_recognised() -> None:
    assert _is_loop("thank you thank you thank you thank you thank you thank you")
    assert _is_loop("I'm sorry. I'm sorry. I'm sorry. I'm sorry. I'm sorry. I'm sorry.")
    assert _is_loop("no " * 9)
    assert not _is_loop("no, no, no, that is not what I said")
    assert not _is_loop("I'm sorry, I'm sorry, I really am sorry about the bill.")
    assert not _is_loop("I will send a technician tomorrow morning, within two hours.")


def test_long_turns_are_split_into_windows_and_progress_reaches_one() -> None:
    channel = tone(70.0)
    model = ScriptedModel([fake_segment([fake_word(1.0, 1.5, "one")])],
                          [fake_segment([fake_word(1.0, 1.5, "two")])],
                          [fake_segment([fake_word(1.0, 1.5, "three")])])
    seen: list[float] = []
    got = Transcriber(model=model).transcribe_segments(channel, "agent", [(0.0, 70.0)],
                                                       progress=seen.append)
    assert len(model.calls) == 3 and all(c["seconds"] <= 28.3 for c in model.calls)
    assert len(got) == 1 and got[0].text == "one two three"
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_cancel_stops_before_the_next_window() -> None:
    model = ScriptedModel()
    got = Transcriber(model=model).transcribe_segments(tone(60.0), "agent", [(0.0, 60.0)],
                                                       cancel=lambda: True)
    assert got == [] and model.calls == []
    assert Transcriber(model=model).transcribe_utterance(np.zeros(0, np.float32), "agent",
                                                         1.0) is None


def test_one_decode_at_a_time_from_many_threads() -> None:
    class Watched(ScriptedModel):
        active = peak = 0

        def transcribe(self, audio: np.ndarray, **options):
            def lazy():  # faster-whisper decodes while its segments are iterated
                Watched.active += 1
                Watched.peak = max(Watched.peak, Watched.active)
                time.sleep(0.01)
                yield fake_segment([fake_word(0.1, 0.5, "Hello")])
                Watched.active -= 1
            return lazy(), None

    tr = Transcriber(model=Watched())
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda i: tr.transcribe_utterance(tone(1.0), "agent", i),
                            range(8)))
    assert [u.start for u in got] == [i + 0.1 for i in range(8)] and Watched.peak == 1


# -- the bundled tiny.en on real speech ---------------------------------------------------

@pytest.fixture(scope="module")
def tiny() -> Transcriber:
    transcriber = Transcriber()
    transcriber.load()
    return transcriber


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    import librosa
    import soundfile as sf

    audio, rate = sf.read(SHARED_DATA / "jfk.flac", dtype="float32")
    return librosa.resample(audio[:, 0], orig_sr=rate, target_sr=SR).astype(np.float32)


@pytest.fixture(scope="module")
def stereo() -> np.ndarray:
    import soundfile as sf

    audio, rate = sf.read(SHARED_DATA / "stereo_diarization.wav", dtype="float32")
    assert rate == SR
    return audio


def cut(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    return audio[int(start * SR):int(end * SR)]


@pytest.mark.model
def test_jfk(tiny: Transcriber, jfk: np.ndarray) -> None:
    u = tiny.transcribe_utterance(jfk, "agent", offset_s=0.0)
    assert u is not None and tiny.name == "tiny.en"
    assert "ask not what your country can do for you" in norm(u.text)


@pytest.mark.model
def test_each_channel_of_a_two_speaker_recording(tiny: Transcriber, stereo: np.ndarray
                                                 ) -> None:
    left = tiny.transcribe_utterance(stereo[:, 0], "agent", offset_s=0.0)
    right = tiny.transcribe_utterance(stereo[:, 1], "customer", offset_s=0.0)
    assert left is not None and right is not None
    assert left.speaker == "agent" and right.speaker == "customer"
    assert similar(left.text, LEFT) > 0.9 and similar(right.text, RIGHT) > 0.9


@pytest.mark.model
def test_live_utterance_words_are_in_call_time(tiny: Transcriber, stereo: np.ndarray) -> None:
    u = tiny.transcribe_utterance(stereo[:, 1], "customer", offset_s=100.0)
    assert u is not None and "horizon" in norm(u.text)
    # The voice runs from 0.35 s to 2.45 s of the clip.
    assert 100.0 <= u.start <= 100.7 and 102.1 <= u.end <= 102.8
    assert all(100.0 <= w.start <= w.end <= 105.0 for w in u.words)
    assert u.text == " ".join(w.text for w in u.words)


@pytest.mark.model
def test_silence_and_faint_noise_say_nothing(tiny: Transcriber) -> None:
    noise = (np.random.default_rng(0).standard_normal(2 * SR) * 0.003).astype(np.float32)
    assert tiny.transcribe_utterance(np.zeros(SR, np.float32), "agent", 3.0) is None
    assert tiny.transcribe_utterance(noise, "agent", 3.0) is None


@pytest.mark.model
def test_packed_turns_come_back_one_utterance_each(tiny: Transcriber, jfk: np.ndarray,
                                                   stereo: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    pieces = [  # (audio, expected text or None for a turn with no words)
        (stereo[:, 0], LEFT),
        (cut(jfk, 3.2, 4.35), "ask not"),
        (stereo[:, 1], RIGHT),
        ((rng.standard_normal(int(1.5 * SR)) * 0.003).astype(np.float32), None),  # hiss
        (cut(jfk, 5.35, 7.6), "what your country can do for you"),
        (np.zeros(SR, np.float32), None),
        (cut(jfk, 0.2, 2.1), "and so my fellow americans"),
        (cut(jfk, 8.1, 10.6), "ask what you can do for your country"),
    ]
    parts, segments, expected = [np.zeros(SR, np.float32)], [], []
    t = 1.0
    for i, (audio, text) in enumerate(pieces):
        segments.append((t, t + len(audio) / SR))
        expected.append(text)
        parts += [audio, np.zeros(int((1.0 + 0.7 * (i % 3)) * SR), np.float32)]
        t += len(audio) / SR + 1.0 + 0.7 * (i % 3)
    channel = np.concatenate(parts)
    seen: list[float] = []
    got = tiny.transcribe_segments(channel, "customer", segments, progress=seen.append)
    assert seen and seen[-1] == 1.0

    spoken = [(seg, text) for seg, text in zip(segments, expected, strict=True) if text]
    assert len(got) == len(spoken), [u.text for u in got]
    for u, ((start, end), text) in zip(got, spoken, strict=True):
        assert isinstance(u, Utterance) and u.speaker == "customer"
        assert similar(u.text, text) >= 0.8, (u.text, text)
        assert start - 0.3 <= u.start <= u.end <= end + 0.3
        assert all(start - 0.3 <= w.start <= w.end <= end + 0.3 for w in u.words)


@pytest.mark.model
def test_a_turn_longer_than_a_window_is_cut_between_words(tiny: Transcriber,
                                                          jfk: np.ndarray) -> None:
    short_windows = Transcriber(TranscriberConfig(window_s=6.0), model=tiny._model)
    channel = np.concatenate([np.zeros(2 * SR, np.float32), jfk])
    got = short_windows.transcribe_segments(channel, "agent", [(2.0, 2.0 + len(jfk) / SR)])
    assert len(got) == 1
    assert "ask not what your country can do for you" in norm(got[0].text)
    assert got[0].start >= 2.0
