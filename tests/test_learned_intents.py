"""The learned intents: the bundled model is what `callcoach playbook train` makes from
the blind files, it hears phrasings the patterns miss on files it never saw, it is
explained, the playbook's guards and floors hold over it, and a bad model file is one
clear message."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assets import ASSETS_DIR, DEFAULT_PLAYBOOK
from audio.sentence_encoder import load_encoder
from coaching.intent_training import parse_labelled, train_intents
from coaching.learned_intents import LearnedIntents
from coaching.phrase_check import judge_line
from coaching.playbook import PlaybookError, load_playbook
from tests.test_phrase_meaning import per_set

ROOT = Path(__file__).resolve().parents[1]
BLIND = ROOT / "bench" / "data"
TRAINED_ON = [BLIND / f"phrase_blind_{x}.tsv"
              for x in [*"abcdefghijklmnopstuvwxyz", "aa", "ab", "ac", "ad"]]
HELD_OUT = ("q", "r")  # never trained on
CALLCOACH = Path(sys.executable).with_name("callcoach")


@pytest.fixture(scope="module")
def encoder():
    return load_encoder()


def _playbook(encoder, path: Path | None = None):
    playbook = load_playbook(path)
    playbook.use_encoder(encoder)
    return playbook


@pytest.fixture(scope="module")
def pb(encoder):
    return _playbook(encoder)


def _with_learned(tmp_path: Path, section: str) -> Path:
    """A copy of the bundled playbook whose `[learned]` section is `section`."""
    text = DEFAULT_PLAYBOOK.read_text(encoding="utf-8")
    start = text.index("[learned]")
    end = text.index("\n[", start + 1)
    path = tmp_path / "playbook.toml"
    path.write_text(text[:start] + section + text[end:], encoding="utf-8")
    return path


def _labelled(letter: str):
    path = BLIND / f"phrase_blind_{letter}.tsv"
    return parse_labelled(path.read_text(encoding="utf-8").splitlines())


def test_the_bundled_model_is_what_playbook_train_makes_of_the_blind_files(tmp_path) -> None:
    out = tmp_path / "model.npz"
    proc = subprocess.run([str(CALLCOACH), "playbook", "train", *map(str, TRAINED_ON),
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and "agent: greeting" in proc.stdout
    made, bundled = LearnedIntents.load(out), LearnedIntents.load(ASSETS_DIR / "intent_model.npz")
    assert made.sets == bundled.sets and made.trained_on == bundled.trained_on
    for speaker in made.sets:  # float16 on disk; BLAS may differ in the last bits
        assert np.abs(made.weights[speaker] - bundled.weights[speaker]).max() < 0.01
    assert not any(f"phrase_blind_{x}.tsv" in bundled.trained_on for x in HELD_OUT)


@pytest.mark.parametrize("letter", HELD_OUT)
def test_files_it_never_saw_are_understood_better_with_it(encoder, pb, tmp_path,
                                                          letter: str) -> None:
    rows = _labelled(letter)
    without = _playbook(encoder, _with_learned(tmp_path, '[learned]\nmodel = ""\n'))
    sets = set(pb.intents("agent")) | set(pb.intents("customer"))

    def score(playbook):
        records = [judge_line(playbook, r.speaker, r.text) for r in rows]
        return per_set(records, [set(r.labels) & sets for r in rows])[1]

    with_model, patterns_and_examples = score(pb), score(without)
    assert with_model >= 0.90, (with_model, patterns_and_examples)
    assert with_model >= patterns_and_examples + 0.03, (with_model, patterns_and_examples)


def test_a_learned_match_says_how_sure_and_which_words_weighed(pb) -> None:
    line = "I don't set the coverage, that's underwriting."
    record = judge_line(pb, "agent", line, why=True)
    why = record["why"]["deflection"]
    assert why["how"] == "learned" and why["probability"] >= 0.7
    assert why["learned_words"] and all(
        w in "i dont set the coverage thats underwriting"
        for w in why["learned_words"])
    assert why["reason"].startswith("learned from labelled calls (")


def test_the_guards_and_the_question_hold_over_the_model(pb) -> None:
    # a request is no apology and a statement is no question, however the model reads them
    assert judge_line(pb, "agent", "Sorry, could you repeat that for me?")["intents"] == []
    text = "I just need to call my boss at work and make sure I can get the time off"
    assert "next_steps_question" not in judge_line(pb, "customer", text)["intents"]
    for short in ("Okay.", "Alright, sure.", "I'm going to be", "Mm-hmm, yes.", "it from you all"):
        for speaker in ("agent", "customer"):  # too few words that say something
            why = judge_line(pb, speaker, short, why=True)["why"]
            assert not [n for n, w in why.items() if w["how"] == "learned"], (short, why)


def test_a_forbidden_phrase_needs_more_certainty(encoder, pb, tmp_path) -> None:
    line = "Right, well, the card on file had expired, so."
    read = pb.matcher._read(line)
    pb.matcher.find("blame", line)
    p = read.learned[("agent", -1)]["blame"]
    assert 0.5 <= p < 0.7  # the model leans to it, but not surely enough
    assert "blame" not in judge_line(pb, "agent", line)["intents"]
    lenient = _playbook(encoder, _with_learned(
        tmp_path, '[learned]\nmodel = "intent_model.npz"\nmin_probability_of = {}\n'))
    assert "blame" in judge_line(lenient, "agent", line)["intents"]


def test_a_copied_playbook_finds_the_bundled_model_and_model_off_turns_it_off(
        encoder, tmp_path) -> None:
    copy = tmp_path / "campaign.toml"
    shutil.copy(DEFAULT_PLAYBOOK, copy)
    line = ("customer", "so what, I just sit tight and wait till then?")
    assert load_playbook(copy).learned is not None
    assert "next_steps_question" in judge_line(_playbook(encoder, copy), *line)["intents"]
    off = _playbook(encoder, _with_learned(tmp_path, '[learned]\nmodel = ""\n'))
    assert off.learned is None
    assert "next_steps_question" not in judge_line(off, *line)["intents"]


def test_a_bad_model_file_or_setting_is_one_clear_message(tmp_path) -> None:
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    cases = {
        '[learned]\nmodel = "broken.npz"\n': "cannot read learned model",
        '[learned]\nmodel = "nowhere.npz"\n': "learned model not found",
        '[learned]\nmodel = "intent_model.npz"\nmin_probability = 1.5\n': "between 0 and 1",
        '[learned]\nmin_probability_of = { shouting = 0.9 }\n': "table of phrase sets",
        '[learned]\nmin_words = 0\n': "min_words",
        '[learned]\nmodle = "x.npz"\n': "unknown setting 'modle'",
    }
    for section, words in cases.items():
        with pytest.raises(PlaybookError) as err:
            load_playbook(_with_learned(tmp_path, section))
        assert words in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_the_model_is_silent_with_another_encoder(pb) -> None:
    class Other:
        name = "some other encoder"

        def encode(self, texts):
            return load_encoder().encode(texts)

    playbook = load_playbook()
    playbook.use_encoder(Other())
    line = "I don't set the coverage, that's underwriting."
    assert judge_line(pb, "agent", line)["intents"] == ["deflection"]
    assert judge_line(playbook, "agent", line)["intents"] == []


def test_a_trainer_teaches_a_campaign_word(encoder, tmp_path) -> None:
    """Twenty lines about a product nobody else sells are enough for the model to hear
    it said in a sentence it was not shown, and to say that word is why."""
    lines = ["customer\tmy zorbex keeps beeping at night\tcomplaint",
             "customer\tthe zorbex stopped charging again\tcomplaint",
             "customer\tthis zorbex is faulty\tcomplaint",
             "customer\tthe zorbex arrived broken\tcomplaint",
             "customer\tmy zorbex screen went black\tcomplaint"] * 2 + [
             "customer\tI live in Leeds\t-", "customer\tmy order number is 4471\t-",
             "customer\tyes that's the one\t-", "customer\tit was a birthday present\t-",
             "customer\tI'll hold on\t-"] * 2 + [
             "agent\tI'm sorry about that\tapology", "agent\tlet me check\t-"]
    file = tmp_path / "campaign.tsv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = parse_labelled(file.read_text(encoding="utf-8").splitlines())
    model = train_intents(rows, {"customer": ("complaint",)}, encoder, "test")
    text = "honestly the zorbex is rubbish"
    p = model.probabilities("customer", text, encoder.encode([text])[0])["complaint"]
    assert p > 0.5 and "zorbex" in model.weighed_words("complaint", text)
    other = "honestly the weather is lovely"
    assert model.probabilities("customer", other, encoder.encode([other])[0])["complaint"] < p


def test_train_reports_a_bad_line_and_a_set_without_examples(tmp_path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("agent\tI'm so sorry\tapology\nagent no tab here\n", encoding="utf-8")
    proc = subprocess.run([str(CALLCOACH), "playbook", "train", str(bad), "--out",
                           str(tmp_path / "m.npz")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "line 2" in proc.stderr and "Traceback" not in proc.stderr
    few = tmp_path / "few.tsv"
    few.write_text("agent\tI'm so sorry\tapology\ncustomer\tit broke\tcomplaint\n",
                   encoding="utf-8")
    proc = subprocess.run([str(CALLCOACH), "playbook", "train", str(few), "--out",
                           str(tmp_path / "m.npz")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "no agent line is labelled greeting" in proc.stderr
    assert not (tmp_path / "m.npz").exists()
