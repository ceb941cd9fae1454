"""The scorecard: every check passes and fails on a hand-written call, with evidence.

Most tests hand the scorecard the events directly (what the acoustic rules would have
found), so they judge the scorecard alone; one runs the whole engine.
"""

from __future__ import annotations

import json
import math

import pytest

from coaching.engine import run_rules
from coaching.playbook import load_playbook
from coaching.prompt_policy import PromptPolicy
from coaching.scorecard import CATEGORIES, CHECKS, build_scorecard
from coaching.timeline import Event
from tests.timeline_builder import build

A, C = "agent", "customer"
PB = load_playbook()
ALL = ["greeting", "used_name", "no_interruptions", "calm_voice", "apologized", "empathized",
       "summarized", "next_steps", "offered_more_help", "thanked", "no_calm_down",
       "no_blame", "responsive"]

GOOD = [
    (A, 1, 4, "Thank you for calling Acme, my name is Sam."),
    (C, 5, 9, "Hi, this is Maria calling. My order never arrived, I'm really upset."),
    (A, 10, 14, "I'm so sorry, Maria. I understand how frustrating that is."),
    (A, 15, 19, "Just to confirm, your order from Monday never arrived."),
    (A, 20, 24, "I will send a replacement today, you'll get it within two days."),
    (A, 25, 27, "Is there anything else I can help with?"),
    (C, 28, 29, "No, thanks."),
    (A, 30, 32, "Thank you for calling, Maria."),
]
BAD = [
    (A, 1, 3, "Yeah."),
    (C, 4, 9, "Hi, this is Maria calling. My order never arrived, again."),
    (A, 10, 13, "Calm down. That's company policy."),
    (A, 14, 16, "I'll send it."),
    (C, 17, 18, "Bye."),
]


def ev(kind: str, start: float, end: float, reason: str = "why", speaker: str = A,
       **measures: float) -> Event:
    return Event(kind, speaker, start, end, "prompt", reason, end, measures=measures)


def card(say, duration=34.0, events=None, agent_only=False, speech=None):
    """Score a call; `events` None runs the engine on it."""
    spans = speech if speech is not None else [s[:3] for s in say]
    tl = build(duration, spans, say, agent_only=agent_only)
    return build_scorecard(tl, run_rules(tl, PB) if events is None else events, PB)


def failed(sc) -> set[str]:
    return {c.id for c in sc.checks if c.applicable and not c.passed}


def not_judged(sc) -> set[str]:
    return {c.id for c in sc.checks if not c.applicable}


def not_needed(sc) -> set[str]:
    return {c.id for c in sc.checks if c.status == "not needed"}


# A good call whose customer tells a story long enough to need a summary
# (summary_after_customer_s), and the agent gives none.
NO_SUMMARY = [
    (A, 1, 4, "Thank you for calling Acme, my name is Sam."),
    (C, 5, 31, "Hi, this is Maria calling. My order never arrived, I'm really upset."),
    (A, 32, 36, "I'm so sorry, Maria. I understand how frustrating that is."),
    (A, 37, 41, "I will send a replacement today, you'll get it within two days."),
    (A, 42, 44, "Is there anything else I can help with?"),
    (C, 45, 46, "No, thanks."),
    (A, 47, 49, "Thank you for calling, Maria."),
]


# -- whole calls ----------------------------------------------------------------------

def test_a_good_call_passes_every_check_with_evidence() -> None:
    sc = card(GOOD)
    assert [c.id for c in sc.checks] == ALL == list(CHECKS)
    # A complaint told in 4 s is no story to play back: the summary given is shown, not
    # counted.
    assert failed(sc) == set() and not_judged(sc) == not_needed(sc) == {"summarized"}
    summary = sc.check("summarized")
    assert summary.passed and summary.status == "not needed"
    assert summary.detail == ("not needed: the customer told 0 s of story (a summary is "
                              "due after 25 s)")
    assert sc.score == 100
    assert sc.check("apologized").evidence[0].t == 10.0
    assert sc.check("apologized").evidence[0].text == "I'm so sorry"
    assert sc.check("used_name").detail == ('addressed the customer by name: '
                                            '"I\'m so sorry, Maria"')
    assert [e.text for e in sc.check("next_steps").evidence] == [
        "I will send a replacement today", "will send a replacement today"]  # step, time
    assert sc.breakdown["Apologize"]["earned"] == sc.breakdown["Apologize"]["possible"]


def test_a_bad_call_fails_what_it_should_and_says_why() -> None:
    sc = card(BAD, duration=20)
    assert failed(sc) == {"greeting", "used_name", "apologized", "next_steps",
                          "offered_more_help", "thanked", "no_calm_down", "no_blame"}
    # A complaint with no upset words, told in 5 s: no empathy or summary was needed.
    assert not_needed(sc) == {"empathized", "summarized"}
    assert sc.check("no_calm_down").evidence[0].text == "calm down"
    assert sc.check("no_blame").detail == 'blamed the customer or deflected: "company policy"'
    assert sc.check("next_steps").detail == "said what happens next but not when"
    assert sc.check("used_name").detail == ("the customer gave their name (Maria, at 4 s) "
                                            "but it was never used")
    apologized = sc.check("apologized")
    assert apologized.detail.startswith("the customer complained and heard no apology "
                                        '(they said "My order never arrived"')
    assert sc.score < 40


def test_the_whole_engine_feeds_the_acoustic_checks() -> None:
    say = [(A, 1, 4, "Hello, thank you for calling."), (C, 5, 12, "words " * 20)]
    extra = [(A, 10, 13), (C, 28, 30)]  # over the customer, then 15 s of silence
    sc = card(say, 31, speech=[s[:3] for s in say] + extra)
    assert "no_interruptions" in failed(sc) and "responsive" in failed(sc)
    assert "started over the customer" in sc.check("no_interruptions").evidence[0].text
    assert sc.metrics["interruptions"] == 1 and sc.metrics["dead_air_s"] > 10


# -- each check -----------------------------------------------------------------------

def test_greeting_must_come_early() -> None:
    late = [(A, 1, 3, "Yes?"), (C, 4, 6, "Hi."), (A, 40, 42, "Good morning, sorry.")]
    check = card(late, 45).check("greeting")
    assert not check.passed and check.detail == "greeted only at 40 s (expected within 30 s)"
    assert card([(A, 1, 3, "Good afternoon, you've reached Acme.")], 5).check("greeting").passed


def test_used_name_needs_a_name() -> None:
    nameless = [(A, 1, 3, "Hello, how can I help?"), (C, 4, 6, "My bill is wrong.")]
    check = card(nameless, 8).check("used_name")
    assert not check.applicable and check.detail == "the customer never gave a name"
    titled = nameless + [(A, 7, 9, "I'm sorry about that, Mrs. Lopez.")]
    check = card(titled, 10).check("used_name")
    assert check.passed and check.evidence[0].text == "I'm sorry about that, Mrs. Lopez"


def test_common_words_are_not_names() -> None:
    say = [(A, 1, 3, "Hello."), (C, 4, 6, "Hey, it's ridiculous."),
           (C, 7, 9, "my name is on the account")]
    assert not card(say, 10).check("used_name").applicable
    lower = [(C, 4, 6, "hi this is maria"), (A, 7, 9, "hi maria")]  # no casing: trusted
    assert card(lower, 10).check("used_name").passed


def test_apology_and_empathy_are_owed_only_after_a_complaint() -> None:
    calm = [(A, 1, 3, "Hello, Acme."), (C, 4, 6, "Hi, I'd like to change my address."),
            (A, 7, 9, "Sure, sorry for the wait.")]
    sc = card(calm, 10)
    apologized = sc.check("apologized")
    assert not apologized.applicable and apologized.passed  # shown, not counted
    assert apologized.evidence[0].text == "sorry for the wait"
    assert apologized.detail == ("not needed: the customer did not complain (nothing went "
                                 "wrong to apologize for)")
    assert sc.check("empathized").status == "not needed"
    assert sc.check("empathized").detail == "not needed: the customer did not sound upset"
    # A raised voice asks for empathy, even without upset words; it is no complaint.
    loud = [ev("customer_raised_voice", 4, 6, "+8.0 dB over their usual level", C)]
    sc = card(calm, 10, events=loud)
    assert sc.check("apologized").status == "not needed"
    empathized = sc.check("empathized")
    assert empathized.status == "failed"
    assert "they raised their voice" in empathized.detail
    assert empathized.evidence[0].text.startswith("they raised their voice")  # why it was due


def test_a_failed_check_shows_what_made_it_needed() -> None:
    say = [(C, 1, 4, "My order never arrived and I'm so frustrated."), (A, 5, 7, "Okay.")]
    sc = card(say, 10)
    assert sc.check("apologized").evidence[0].text.startswith('they said "My order never')
    assert sc.check("empathized").evidence[0].text.startswith('they said "')
    assert "frustrated" in sc.check("empathized").evidence[0].text


@pytest.mark.parametrize("words,ok", [("I'm so sorry.", True), ("i apologize", True),
                                      ("Sorry about that!", True), ("Let me check.", False)])
def test_apologized(words: str, ok: bool) -> None:
    say = [(C, 1, 4, "It's still not working."), (A, 5, 7, words)]
    assert card(say, 10).check("apologized").passed is ok


@pytest.mark.parametrize("words,ok", [("I understand how annoying this is.", True),
                                      ("That must be so frustrating.", True),
                                      ("I'm sorry.", False)])
def test_empathized(words: str, ok: bool) -> None:
    say = [(C, 1, 4, "I'm so frustrated."), (A, 5, 7, words)]
    assert card(say, 10).check("empathized").passed is ok


def test_summarized() -> None:
    story = (C, 1, 30, "The router light is red and it has been like this all week.")
    say = [story, (A, 31, 35, "So you're saying the light is red.")]
    assert card(say, 36).check("summarized").status == "passed"
    check = card([story, (A, 31, 35, "Okay.")], 36).check("summarized")
    assert check.status == "failed"
    assert check.detail == "never summarized the customer's points back"
    short = card([(C, 1, 4, "The router light is red."), (A, 5, 9, "Okay.")], 10)
    assert short.check("summarized").status == "not needed"


def test_next_steps_needs_the_time_with_the_step() -> None:
    both = [(A, 1, 3, "I'll escalate this."), (A, 4, 6, "You'll hear from us by Friday.")]
    check = card(both, 8).check("next_steps")
    assert check.passed
    assert [e.text for e in check.evidence] == ["I'll escalate this",
                                                "You'll hear from us by Friday"]
    # "today" in the greeting is not the time of a step said a minute later.
    apart = [(A, 1, 3, "How can I help you today?"), (A, 60, 62, "I will send a new one.")]
    check = card(apart, 65).check("next_steps")
    assert not check.passed and check.detail == "said what happens next but not when"
    check = card([(A, 1, 3, "Okay.")], 5).check("next_steps")
    assert check.detail == "never told them what happens next"


def test_offered_more_help() -> None:
    assert card([(A, 1, 3, "Anything else I can do?")], 5).check("offered_more_help").passed
    assert not card([(A, 1, 3, "Bye.")], 5).check("offered_more_help").passed


def test_thanks_in_the_greeting_is_not_thanks() -> None:
    opening = [(A, 1, 3, "Thank you for calling Acme."), (A, 10, 12, "Bye now.")]
    check = card(opening, 15).check("thanked")
    assert not check.passed and check.detail == "never thanked the customer after the greeting"
    closing = opening + [(A, 13, 14, "Thanks for your patience.")]
    assert card(closing, 15).check("thanked").passed


def test_forbidden_phrases_fail_their_checks_with_the_words() -> None:
    say = [(A, 1, 3, "You should have read the contract."), (A, 4, 6, "It's not my department.")]
    sc = card(say, 8)
    assert sc.check("no_calm_down").passed
    blame = sc.check("no_blame")
    assert not blame.passed
    assert [e.text for e in blame.evidence] == ["you should have read", "not my department"]
    sc = card([(A, 1, 3, "Come down, sir.")], 5)
    assert not sc.check("no_calm_down").passed and sc.check("no_blame").passed


def test_acoustic_events_fail_their_checks_with_the_figures() -> None:
    events = [ev("interruption", 5, 7, "you started over the customer"),
              ev("raised_voice", 9, 12, "+7.5 dB over your usual level for 2.0 s of speech",
                 excess_db=7.5),
              ev("slow_response", 14, 18, "the customer waited 4.0 s for an answer"),
              ev("dead_air", 20, 32, "12.0 s of silence on the line")]
    sc = card(GOOD, 34, events=events)
    assert failed(sc) == {"no_interruptions", "calm_voice", "responsive"}
    assert sc.check("calm_voice").detail == ("your voice rose up to +7.5 dB over your usual "
                                             "level (1 time)")
    assert "+7.5 dB" in sc.check("calm_voice").evidence[0].text
    assert sc.check("responsive").detail == ("left the customer waiting: 1 slow answer, "
                                             "1 silence of up to 12 s")
    assert [e.t for e in sc.check("responsive").evidence] == [14, 20]


# -- score ----------------------------------------------------------------------------

def test_score_is_the_weighted_share_of_applicable_checks() -> None:
    sc = card(NO_SUMMARY, 50)
    possible = sum(w for _, _, w in CHECKS.values())
    assert possible == 18.0
    assert sc.score == round(100 * (18 - CHECKS["summarized"][2]) / 18) == 94
    sc = card(BAD, duration=20)
    applicable = [c for c in sc.checks if c.applicable]
    expected = 100 * sum(c.weight for c in applicable if c.passed) / sum(
        c.weight for c in applicable)
    assert sc.score == math.floor(expected + 0.5)
    assert sum(b["possible"] for b in sc.breakdown.values()) == pytest.approx(
        sum(c.weight for c in applicable))


def test_breakdown_by_learn_category() -> None:
    sc = card(BAD, duration=20)
    assert list(sc.breakdown) == list(CATEGORIES)
    for cat, b in sc.breakdown.items():
        mine = [c for c in sc.checks if c.category == cat and c.applicable]
        assert sorted(b["passed"] + b["failed"]) == sorted(c.id for c in mine)
        assert b["earned"] == sum(c.weight for c in mine if c.passed)
    assert "no_calm_down" in sc.breakdown["Empathize"]["failed"]


# -- what cannot be judged ------------------------------------------------------------

def test_agent_only_does_not_guess_the_customer_side() -> None:
    sc = card([s for s in GOOD if s[0] == A], agent_only=True)
    assert not_judged(sc) == {"no_interruptions", "responsive", "apologized", "empathized",
                              "used_name"}  # the name they gave was not heard
    assert sc.check("responsive").detail == "needs the customer's channel"
    assert sc.check("apologized").passed  # shown, not counted
    assert sc.metrics["agent_talk_ratio"] is None and sc.metrics["interruptions"] is None
    assert sc.score == 100


def test_agent_only_still_hears_a_title_and_name() -> None:
    sc = card([(A, 1, 3, "Hello Mr. Smith, how can I help?")], 5, agent_only=True)
    assert sc.check("used_name").passed and sc.check("used_name").applicable


def test_silence_only_judges_nothing() -> None:
    sc = card([], duration=10)
    assert sc.score is None and not any(c.applicable for c in sc.checks)
    assert [c.id for c in sc.checks] == ALL
    assert {c.detail for c in sc.checks} == {"no speech was found"}
    assert sc.notes == ("no speech was found",)
    doc = sc.to_dict()
    assert doc["score"] is None and doc["notes"] == ["no speech was found"]
    assert all(b["possible"] == 0 for b in sc.breakdown.values())


def test_speech_without_a_transcript_judges_only_the_sound() -> None:
    sc = card([], duration=20, speech=[(A, 1, 4), (C, 5, 9), (A, 10, 13)])
    assert not_judged(sc) == {"greeting", "used_name", "apologized", "empathized",
                              "summarized", "next_steps", "offered_more_help", "thanked",
                              "no_calm_down", "no_blame"}
    assert sc.check("calm_voice").passed and sc.score == 100
    assert "none of it was transcribed" in sc.notes[0]


# -- contract -------------------------------------------------------------------------

def test_to_dict_is_the_json_contract() -> None:
    doc = json.loads(json.dumps(card(GOOD).to_dict()))
    assert {"score", "checks", "metrics", "breakdown"} <= set(doc)
    check = doc["checks"][ALL.index("apologized")]
    assert set(check) == {"id", "passed", "evidence", "category", "label", "detail",
                          "applicable", "status", "weight"}
    assert check["status"] == "passed"
    evidence = check["evidence"][0]
    assert {k: evidence[k] for k in ("t", "text")} == {"t": 10.0, "text": "I'm so sorry"}
    assert evidence["why"].startswith('pattern "') and "sorry" in evidence["why"]
    assert set(doc["breakdown"]["Listen"]) == {"earned", "possible", "passed", "failed"}
    assert set(doc["metrics"]) >= {
        "agent_talk_ratio", "interruptions", "customer_interruptions", "raised_voice_s",
        "longest_customer_turn_s", "dead_air_s", "longest_silence_s", "mean_response_gap_s",
        "max_response_gap_s", "agent_wpm", "agent_words", "customer_words", "agent_speech_s",
        "customer_speech_s", "events", "prompts_shown"}


def test_metrics() -> None:
    m = card(GOOD).metrics
    assert m["agent_speech_s"] == pytest.approx(19.0) and m["customer_speech_s"] == 5.0
    assert m["agent_talk_ratio"] == pytest.approx(19 / 24, abs=0.01)
    assert m["longest_customer_turn_s"] == 4.0
    assert m["mean_response_gap_s"] == pytest.approx(1.0)
    assert m["customer_words"] == 14


def test_prompt_policy_cooldown_priority_and_snooze() -> None:
    def prompt(kind, priority):
        return Event(kind, A, 0, 1, "text", "why", 0, priority)

    policy = PromptPolicy(PB.policy)
    assert policy.offer(prompt("raised_voice", 95), now=10)
    assert not policy.offer(prompt("fast_speech", 45), now=11)  # outranked while on screen
    assert not policy.offer(prompt("raised_voice", 95), now=20)  # cooldown
    assert policy.offer(prompt("raised_voice", 95), now=31)
    policy.snooze("interruption")
    assert not policy.offer(prompt("interruption", 90), now=60)
    assert policy.current(now=33).kind == "raised_voice"
    assert policy.current(now=60) is None
    assert not policy.offer(Event("x", A, 0, 1, "", "why", 0), now=100)  # no prompt text
