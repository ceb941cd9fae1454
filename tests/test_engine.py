"""The coaching engine: event updates, prompts, utterance timing, agent-only mode, what-if
replays and the cost of a long call."""

from __future__ import annotations

import sys
import time

import pytest

from coaching.engine import ACOUSTIC_RULES, CoachingEngine, default_rules, run_rules
from coaching.playbook import load_playbook
from coaching.rule import Hop, Rule
from coaching.timeline import AGENT as A
from coaching.timeline import CUSTOMER as C
from coaching.timeline import Event, Utterance
from tests.timeline_builder import HOP, call, say, speech, talk

PB = load_playbook()


def kinds(found, kind: str) -> list[Event]:
    return [e for e in found if e.kind == kind]


class _Growing(Rule):
    """Test rule: an event at 0.8 s, extended at 1.6 s and 2.4 s (as an interruption is)."""

    kinds = ("interruption",)

    def on_hop(self, hop: Hop) -> list[Event]:
        if round(hop.t / HOP) in (50, 100, 150):
            return [self.event("interruption", A, 0.5, hop.t, f"until {hop.t}", hop.t)]
        return []


class _Heard(Rule):
    """Test rule: records when each utterance is delivered."""

    heard: list[tuple[str, float]] = []

    def on_utterance(self, utterance: Utterance, now: float) -> list[Event]:
        self.heard.append((utterance.text, now))
        return []


def test_an_update_replaces_the_earlier_copy_without_a_new_prompt() -> None:
    tl = call(5, speech(A, 0, 1))
    engine = CoachingEngine(PB, HOP, has_customer=True, rules=[_Growing])
    returned = []
    for agent, customer in zip(tl.agent_frames, tl.customer_frames, strict=True):
        returned += engine.on_hop(agent, customer)
    assert len(returned) == 1 and returned[0].end == 0.8 and returned[0].prompted
    [final] = engine.events
    assert final.end == 2.4 and final.reason == "until 2.4"
    assert final.prompted and final.detected_at == 0.8  # the first copy's
    assert engine.policy.current(2.4) == final  # the card follows the update


def test_utterances_arrive_at_the_first_hop_after_they_end() -> None:
    _Heard.heard = []
    tl = call(6, say(A, 0.5, 2.0, "first"), say(C, 2.5, 3.01, "second"),
              say(A, 5.5, 9.0, "after the end"))
    run_rules(tl, PB, [_Heard])
    assert _Heard.heard == [("first", 2.0), ("second", pytest.approx(3.024)),
                            ("after the end", 9.0)]


def test_events_are_sorted_by_start_and_replay_is_deterministic() -> None:
    tl = call(40, speech(C, 1, 8), speech(A, 6, 9), speech(C, 12, 14), speech(A, 19, 22),
              speech(C, 22.5, 30), speech(A, 29, 31))
    first = run_rules(tl, PB)
    assert [e.start for e in first] == sorted(e.start for e in first)
    assert {e.kind for e in first} >= {"interruption", "slow_response"}
    assert run_rules(tl, PB) == first


def test_live_feeding_gives_the_replay_events() -> None:
    tl = call(30, talk(C, 1, 8, "this is ridiculous I want a refund"), speech(A, 6, 9),
              talk(A, 12, 15, "I am so sorry about that"))
    engine = CoachingEngine(PB, tl.hop_s, has_customer=True)
    pending = sorted(tl.utterances, key=lambda u: u.end)
    live: list[Event] = []
    for agent, customer in zip(tl.agent_frames, tl.customer_frames, strict=True):
        while pending and pending[0].end <= agent.t:
            live += engine.on_utterance(pending.pop(0), agent.t)
        live += engine.on_hop(agent, customer)
    live += engine.finish(tl.duration_s)
    assert engine.events == run_rules(tl, PB)
    assert {e.key for e in live} == {e.key for e in engine.events}  # each reported once


def test_a_customer_channel_that_runs_short_is_silence() -> None:
    tl = call(20, speech(C, 1, 4), speech(A, 9, 10))
    engine = CoachingEngine(PB, HOP, has_customer=True, rules=ACOUSTIC_RULES,
                            transcript_expected=False)
    for i, agent in enumerate(tl.agent_frames):
        engine.on_hop(agent, tl.customer_frames[i] if i < 400 else None)
    engine.finish(20)
    assert [e.kind for e in engine.events] == ["slow_response"]


# -- prompts --------------------------------------------------------------------------

def test_cooldown_holds_back_a_repeat_prompt_but_keeps_the_event() -> None:
    script = [speech(C, 0.5, 40)] + [speech(A, s, s + 2.5) for s in (3, 12, 26)]
    found = kinds(run_rules(call(45, *script), PB), "interruption")
    assert [e.start for e in found] == [pytest.approx(s, abs=HOP) for s in (3, 12, 26)]
    assert [e.prompted for e in found] == [True, False, True]  # 12 is within 20 s of 3


def test_a_lower_priority_prompt_is_held_back_while_a_higher_one_shows() -> None:
    # Interruption (90) shown at 16.0; the customer raises their voice (70) 1.1 s later.
    calm = [speech(C, 1, 4, db=-30), speech(C, 6, 9, db=-30), speech(C, 11, 16, db=-30)]
    script = [*calm, speech(C, 16, 22, db=-20), speech(A, 14.0, 19)]
    found = run_rules(call(25, *script), PB)
    [cut_in] = kinds(found, "interruption")
    [loud] = kinds(found, "customer_raised_voice")
    assert cut_in.prompted and cut_in.detected_at < loud.detected_at < cut_in.detected_at + 3
    assert not loud.prompted


# -- agent-only mode and "what if" ------------------------------------------------------

def test_agent_only_mode_skips_what_needs_the_customer() -> None:
    engine = CoachingEngine(PB, HOP, has_customer=False)
    needs_customer = {"interruption", "customer_interruption", "customer_raised_voice",
                      "dead_air", "slow_response", "long_monologue"}
    assert needs_customer <= set(engine.skipped_kinds)
    assert "raised_voice" not in engine.skipped_kinds
    assert CoachingEngine(PB, HOP, has_customer=True).skipped_kinds == ()
    # 17 s of silence and a shout: only the agent's own voice is judged.
    calm = [speech(A, s, s + 3) for s in (1, 6, 11)]
    tl = call(50, *calm, speech(A, 16, 19, db=-15), speech(A, 36, 38), agent_only=True)
    assert [e.kind for e in run_rules(tl, PB)] == ["raised_voice"]


def test_default_rules_work_without_the_phrase_rules(monkeypatch) -> None:
    assert set(ACOUSTIC_RULES) < set(default_rules())
    monkeypatch.setitem(sys.modules, "coaching.phrase_rules", None)  # import fails
    assert default_rules() == list(ACOUSTIC_RULES)


def test_what_if_a_different_threshold_changes_the_events() -> None:
    tl = call(14, speech(A, 1, 3), speech(C, 11, 13))  # 8 s of silence
    assert kinds(run_rules(tl, PB), "dead_air") == []
    [e] = kinds(run_rules(tl, PB.with_thresholds(dead_air_s=6.0)), "dead_air")
    assert e.detected_at == pytest.approx(9.0, abs=HOP)
    tl = call(20, speech(C, 1, 8), speech(A, 6.0, 7.5))  # 1.5 s over them, they go on
    assert kinds(run_rules(tl, PB), "interruption") == []
    eager = PB.with_thresholds(acknowledgement_max_s=1.0)  # no acknowledgement that long
    assert len(kinds(run_rules(tl, eager), "interruption")) == 1


# -- cost -----------------------------------------------------------------------------

def _ten_minute_call():
    """Turns of 2-9 s, some overlapping, a few loud stretches, a line of words each."""
    script, t, i = [], 0.5, 0
    while t < 595:
        who = (A, C)[i % 2]
        length = 2 + (i * 7) % 8
        db = -18.0 if i % 11 == 0 else -25.0
        text = "I am so sorry to hear that thank you for calling is there anything else"
        script += talk(who, t, min(599.0, t + length), text, db=db)
        t += length + (-0.6 if i % 5 == 0 else 0.3 + (i % 4))
        i += 1
    return call(600, *script)


def test_a_ten_minute_call_runs_through_the_rules_without_blowing_up() -> None:
    """A guard against work that grows with the call (a rule that re-reads its history
    every hop would take minutes here), not a speed figure: those are bench/'s. Idle, the
    rules take about half a second for these 37,500 hops; a busy 2-core machine has been
    seen to take 2 s, so the bound leaves room for that."""
    tl = _ten_minute_call()
    assert len(tl.agent_frames) == 37_500
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        run_rules(tl, PB)
        best = min(best, time.perf_counter() - t0)
    assert best < 8.0, f"{best:.2f} s for 37,500 hops"
