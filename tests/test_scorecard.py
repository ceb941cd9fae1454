"""The scorecard: every check passes and fails on a hand-written call, with evidence."""

from __future__ import annotations

import pytest

from coaching.engine import run_rules
from coaching.playbook import PlaybookError, load_playbook
from coaching.prompt_policy import PromptPolicy
from coaching.scorecard import build_scorecard
from coaching.timeline import Event
from tests.timeline_builder import build

A, C = "agent", "customer"
PB = load_playbook()
ALL = {"greeting", "used_name", "no_interruptions", "calm_voice", "apologized", "empathized",
       "summarized", "next_steps", "offered_more_help", "thanked", "no_calm_down",
       "no_blame", "responsive"}

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
    (C, 4, 9, "Hi, this is Maria calling. My order never arrived, this is ridiculous."),
    (A, 10, 13, "Calm down. That's company policy."),
    (A, 14, 16, "I'll send it."),
    (C, 17, 18, "Bye."),
]


def card(say, duration=34.0, extra=(), agent_only=False):
    speech = [(s[0], s[1], s[2]) for s in say] + list(extra)
    tl = build(duration, speech, say, agent_only=agent_only)
    return build_scorecard(tl, run_rules(tl, PB), PB)


def test_a_good_call_passes_every_check_with_evidence() -> None:
    sc = card(GOOD)
    assert {c.id for c in sc.checks} == ALL
    assert [c.id for c in sc.checks if not c.passed] == []
    assert sc.score == 100
    assert sc.check("apologized").evidence[0].t == 10
    assert sc.check("used_name").evidence[0].text.startswith("I'm so sorry, Maria")
    assert sc.breakdown["Apologize"]["earned"] == sc.breakdown["Apologize"]["possible"]


def test_a_bad_call_fails_what_it_should_and_says_why() -> None:
    sc = card(BAD, duration=20)
    failed = {c.id for c in sc.checks if c.applicable and not c.passed}
    assert failed == {"greeting", "used_name", "apologized", "empathized", "summarized",
                      "next_steps", "offered_more_help", "thanked", "no_calm_down",
                      "no_blame"}
    assert "calm down" in sc.check("no_calm_down").evidence[0].text
    assert sc.check("next_steps").detail == "said what happens next but not when"
    assert sc.score < 40


def test_interruptions_raised_voice_and_silence_fail_their_checks() -> None:
    say = [(A, 1, 4, "Hello, thank you for calling."), (C, 5, 12, "words " * 20)]
    extra = [(A, 10, 13), (C, 28, 30)]  # over the customer, then 15 s of silence
    sc = card(say, 31, extra)
    assert not sc.check("no_interruptions").passed
    assert "started over the customer" in sc.check("no_interruptions").evidence[0].text
    assert not sc.check("responsive").passed
    assert sc.metrics["interruptions"] == 1 and sc.metrics["dead_air_s"] > 10


def test_score_is_the_weighted_share_of_applicable_checks() -> None:
    sc = card(BAD, duration=20)
    applicable = [c for c in sc.checks if c.applicable]
    expected = 100 * sum(c.weight for c in applicable if c.passed) / sum(
        c.weight for c in applicable)
    assert sc.score == round(expected)
    assert sum(b["possible"] for b in sc.breakdown.values()) == pytest.approx(
        sum(c.weight for c in applicable))


def test_agent_only_marks_customer_checks_not_applicable() -> None:
    sc = card([s for s in GOOD if s[0] == A], agent_only=True)
    na = {c.id for c in sc.checks if not c.applicable}
    assert {"no_interruptions", "responsive"} <= na
    assert sc.metrics["agent_talk_ratio"] is None and sc.metrics["interruptions"] is None


def test_silence_only_judges_nothing() -> None:
    sc = card([], duration=10)
    assert sc.score is None and not any(c.applicable for c in sc.checks)
    assert sc.notes == ("no speech was found",)
    assert sc.to_dict()["score"] is None


def test_metrics() -> None:
    sc = card(GOOD)
    m = sc.metrics
    assert m["agent_speech_s"] == pytest.approx(19.0) and m["customer_speech_s"] == 5.0
    assert m["agent_talk_ratio"] == pytest.approx(19 / 24, abs=0.01)
    assert m["longest_customer_turn_s"] == 4.0
    assert m["mean_response_gap_s"] == pytest.approx(1.0)


def test_prompt_policy_cooldown_priority_and_snooze() -> None:
    def ev(kind, priority):
        return Event(kind, A, 0, 1, "text", "why", 0, priority)

    policy = PromptPolicy(PB.policy)
    assert policy.offer(ev("raised_voice", 95), now=10)
    assert not policy.offer(ev("fast_speech", 45), now=11)  # outranked while on screen
    assert not policy.offer(ev("raised_voice", 95), now=20)  # cooldown
    assert policy.offer(ev("raised_voice", 95), now=31)
    policy.snooze("interruption")
    assert not policy.offer(ev("interruption", 90), now=60)
    assert policy.current(now=33).kind == "raised_voice"
    assert policy.current(now=60) is None
    assert not policy.offer(Event("x", A, 0, 1, "", "why", 0), now=100)  # no prompt text


@pytest.mark.parametrize("content,words", [
    (None, "not found"), ("[thresholds\n", "not valid TOML"),
    ("[thresholds]\ndead_air_s = 'long'\n", "dead_air_s"),
    ("[thresholds]\nnope = 3\n", "unknown setting"),
    ("[phrases]\napology = ['(unclosed']\n", "bad pattern")])
def test_bad_playbook_gives_one_clear_line(tmp_path, content, words) -> None:
    path = tmp_path / "pb.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_playbook_tolerates_whisper_style() -> None:
    assert PB.find("apology", "I'M SO SORRY!!")
    assert PB.find("apology", "Sorry about that.")
    assert PB.find("time_estimate", "within 24 hours")
    assert PB.with_thresholds(dead_air_s=5).thresholds.dead_air_s == 5
    assert PB.thresholds.dead_air_s == 10
