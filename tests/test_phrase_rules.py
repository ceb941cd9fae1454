"""Transcript rules on hand-written transcripts in Whisper's varying style."""

from __future__ import annotations

import pytest

from coaching.engine import run_rules
from coaching.playbook import load_playbook
from coaching.timeline import Utterance
from tests.timeline_builder import build, words_for

A, C = "agent", "customer"
PB = load_playbook()


def call(say: list[tuple], duration: float = 60.0):
    speech = [(s[0], s[1], s[2]) for s in say]
    return run_rules(build(duration, speech, say), PB)


def kinds(events, kind):
    return [e for e in events if e.kind == kind]


@pytest.mark.parametrize("text", ["Calm down.", "Sir, please calm down!", "you need to come down",
                                  "CALM DOWN, SIR"])
def test_calm_down_in_any_style(text: str) -> None:
    found = kinds(call([(A, 2, 5, text)]), "forbidden_phrase")
    assert len(found) == 1 and "(calm down)" in found[0].reason


@pytest.mark.parametrize("text,label", [
    ("That's company policy.", "deflection"), ("It's not my department.", "deflection"),
    ("There's nothing I can do.", "deflection"), ("Well, that's your fault.", "blame"),
    ("You should have read the contract.", "blame")])
def test_blame_and_deflection(text: str, label: str) -> None:
    found = kinds(call([(A, 2, 5, text)]), "forbidden_phrase")
    assert len(found) == 1 and f"({label})" in found[0].reason


def test_forbidden_phrase_is_located_at_its_words() -> None:
    found = kinds(call([(A, 2, 8, "Sir I need you to calm down right now")]),
                  "forbidden_phrase")
    u = words_for(A, 2, 8, "Sir I need you to calm down right now")
    assert found[0].start == u.words[5].start and found[0].end == u.words[6].end


def test_a_polite_agent_says_nothing_forbidden() -> None:
    text = "I understand, I'm so sorry about that. I will fix it today."
    assert kinds(call([(A, 2, 6, text)]), "forbidden_phrase") == []


def test_apologize_prompt_after_a_complaint_unless_already_apologized() -> None:
    events = call([(C, 1, 5, "This is ridiculous, it's the third time I call."),
                   (A, 6, 9, "Let me look at your account.")])
    found = kinds(events, "prompt_apologize")
    assert len(found) == 1
    assert found[0].detected_at == pytest.approx(5.0, abs=0.05)
    assert '"ridiculous"' in found[0].reason and found[0].prompt == "Apologize"
    events = call([(A, 1, 3, "I'm so sorry for the trouble."),
                   (C, 4, 8, "It's still not working, this is ridiculous.")])
    assert kinds(events, "prompt_apologize") == []


@pytest.mark.parametrize("apology", ["I'm so sorry.", "i apologize", "Sorry about that!",
                                     "My apologies, sir."])
def test_apology_variants_close_the_episode(apology: str) -> None:
    events = call([(C, 1, 4, "My order never arrived."), (A, 5, 7, apology),
                   (C, 8, 11, "It is still not here and it's unacceptable.")])
    assert len(kinds(events, "prompt_apologize")) == 1


def test_empathize_prompt_on_distress() -> None:
    found = kinds(call([(C, 1, 4, "I'm so frustrated with this.")]), "prompt_empathize")
    assert len(found) == 1 and found[0].prompt == "Show you understand"


def test_next_steps_prompt_on_when_question_unless_answered_with_a_time() -> None:
    assert len(kinds(call([(C, 1, 4, "When will it be fixed?")]), "prompt_next_steps")) == 1
    events = call([(A, 1, 5, "I will send a technician tomorrow morning."),
                   (C, 6, 8, "When will he come?")])
    assert kinds(events, "prompt_next_steps") == []


def test_anything_else_prompt_on_a_closing_once() -> None:
    events = call([(C, 1, 3, "Great, thanks a lot."), (C, 10, 12, "Okay, bye.")])
    assert len(kinds(events, "prompt_anything_else")) == 1
    events = call([(A, 1, 4, "Is there anything else I can help with?"),
                   (C, 5, 7, "No, that's all, thanks.")])
    assert kinds(events, "prompt_anything_else") == []


def test_summarize_prompt_after_long_customer_speech() -> None:
    tl_say = [(C, 1, 30, "long story " * 40), (A, 31, 34, "Okay, let me check that.")]
    found = kinds(call(tl_say), "prompt_summarize")
    assert len(found) == 1 and found[0].start == pytest.approx(31.0, abs=0.05)
    assert kinds(call([(C, 1, 15, "short story " * 10), (A, 16, 18, "Okay.")]),
                 "prompt_summarize") == []


def test_fast_speech() -> None:
    fast = " ".join(["word"] * 40)  # 40 words in 10 s of talk = 240 wpm
    found = kinds(call([(A, 1, 11, fast)]), "fast_speech")
    assert len(found) == 1 and found[0].measures["wpm"] == pytest.approx(240, abs=1)
    slow = " ".join(["word"] * 25)  # 150 wpm
    assert kinds(call([(A, 1, 11, slow)]), "fast_speech") == []


def test_utterance_arrives_when_it_ends() -> None:
    u = Utterance(C, 1.0, 4.0, "this is unacceptable")
    assert u.duration == 3.0
    found = kinds(call([(C, 1, 4, "this is unacceptable")]), "prompt_apologize")
    assert found[0].detected_at >= 4.0
