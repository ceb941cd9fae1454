"""Every acoustic rule on hand-written timelines: fires where it should, not in the near
miss, and never on an absolute level."""

from __future__ import annotations

import pytest

from coaching.engine import run_rules
from coaching.playbook import load_playbook
from tests.timeline_builder import build

A, C = "agent", "customer"
PB = load_playbook()


def events(tl, kind, playbook=PB):
    return [e for e in run_rules(tl, playbook) if e.kind == kind]


def test_interruption_fires_after_the_agent_talks_over_them_for_0_8_s() -> None:
    tl = build(20, [(C, 1, 8), (A, 6.0, 9.0)])
    found = events(tl, "interruption")
    assert len(found) == 1
    e = found[0]
    assert e.start == pytest.approx(6.0, abs=0.02)
    assert e.detected_at == pytest.approx(6.8, abs=0.04)
    assert e.end == pytest.approx(9.0, abs=0.05)
    assert "3.0 s" in e.reason and e.measures["overlap_s"] == pytest.approx(2.0, abs=0.05)
    assert e.prompt == "Listen - let them finish" and e.prompted


def test_short_backchannels_are_listening_not_interrupting() -> None:
    tl = build(30, [(C, 1, 25)] + [(A, s, s + 0.5) for s in (4, 9, 14, 19)])
    assert events(tl, "interruption") == []


def test_a_quick_answer_after_they_stop_is_not_an_interruption() -> None:
    tl = build(20, [(C, 1, 6), (A, 6.2, 10)])
    assert events(tl, "interruption") == []


def test_talking_at_once_from_the_start_is_not_an_interruption() -> None:
    tl = build(20, [(C, 1, 6), (A, 1.1, 6)])  # the customer had no lead
    assert events(tl, "interruption") == []


def test_customer_interruption_is_the_mirror_image() -> None:
    tl = build(20, [(A, 1, 8), (C, 5, 9)])
    found = events(tl, "customer_interruption")
    assert len(found) == 1 and found[0].speaker == C
    assert found[0].start == pytest.approx(5.0, abs=0.02)
    assert events(tl, "interruption") == []


def _calm_then_loud(offset_db: float, raise_db: float) -> list[tuple]:
    calm = [(A, s, s + 3, -25 + offset_db) for s in (1, 6, 11)]
    return calm + [(A, 16, 19, -25 + offset_db + raise_db, 160.0), (C, 20, 22)]


def test_raised_voice_against_the_agents_own_baseline() -> None:
    found = events(build(25, _calm_then_loud(0, 8)), "raised_voice")
    assert len(found) == 1
    e = found[0]
    assert e.start == pytest.approx(16.0, abs=0.05)
    assert e.end == pytest.approx(19.0, abs=0.05)
    # Prompted once most of the last 1.5 s of speech is raised, not on a single shout.
    assert 17.0 <= e.detected_at <= 17.55
    assert e.measures["excess_db"] == pytest.approx(8.0, abs=0.2)
    assert e.measures["pitch_rise_hz"] == pytest.approx(40.0, abs=1)
    assert "+8.0 dB over your usual level" in e.reason and "pitch +40 Hz" in e.reason


def test_raised_voice_is_relative_a_mic_15_db_quieter_gives_the_same_events() -> None:
    loud = events(build(25, _calm_then_loud(0, 8)), "raised_voice")
    quiet = events(build(25, _calm_then_loud(-15, 8)), "raised_voice")
    assert [(e.start, e.end, e.detected_at) for e in loud] == \
        [(e.start, e.end, e.detected_at) for e in quiet]


def test_four_db_louder_is_not_a_raised_voice() -> None:
    assert events(build(25, _calm_then_loud(0, 4)), "raised_voice") == []


def test_a_loud_but_steady_speaker_is_not_raised() -> None:
    steady = [(A, s, s + 3, -8.0) for s in (1, 6, 11, 16)]
    assert events(build(25, steady), "raised_voice") == []


def test_customer_raised_voice() -> None:
    speech = [(C, s, s + 3, -30) for s in (1, 6, 11)] + [(C, 16, 19, -20)]
    found = events(build(25, speech), "customer_raised_voice")
    assert len(found) == 1 and found[0].prompt == "Listen - let them have their say"


def test_dead_air_after_ten_seconds_of_silence_and_not_nine() -> None:
    found = events(build(19, [(A, 1, 3), (C, 15.5, 17)]), "dead_air")
    assert len(found) == 1
    assert found[0].start == pytest.approx(3.0, abs=0.02)
    assert found[0].detected_at == pytest.approx(13.0, abs=0.05)
    assert found[0].end == pytest.approx(15.5, abs=0.05)
    assert events(build(16, [(A, 1, 3), (C, 12, 14)]), "dead_air") == []


def test_slow_response_after_three_seconds_and_not_two_and_a_half() -> None:
    found = events(build(20, [(C, 1, 4), (A, 8.2, 10)]), "slow_response")
    assert len(found) == 1
    assert found[0].start == pytest.approx(4.0, abs=0.02)
    assert found[0].detected_at == pytest.approx(7.0, abs=0.05)
    assert "4.2 s" in found[0].reason
    assert events(build(20, [(C, 1, 4), (A, 6.5, 10)]), "slow_response") == []


def test_the_customer_going_on_is_not_a_slow_response() -> None:
    assert events(build(20, [(C, 1, 4), (C, 5.5, 9), (A, 9.5, 19)]), "slow_response") == []


def test_long_monologue() -> None:
    agent = [(A, s, s + 4.5) for s in range(1, 60, 5)]  # 0.5 s breaths only
    found = events(build(70, agent), "long_monologue")
    assert len(found) == 1 and found[0].detected_at == pytest.approx(46.0, abs=0.1)
    paused = [(A, s, s + 4.0) for s in range(1, 60, 6)]  # 2 s pauses: room to speak
    assert events(build(70, paused), "long_monologue") == []


def test_agent_only_mode_skips_what_needs_the_customer() -> None:
    tl = build(30, [(A, 1, 3), (A, 20, 22)], agent_only=True)
    from coaching.engine import CoachingEngine

    engine = CoachingEngine(PB, tl.hop_s, has_customer=False)
    assert {"interruption", "dead_air", "slow_response", "customer_interruption",
            "long_monologue", "prompt_summarize"} <= set(engine.skipped_kinds)
    assert "raised_voice" not in engine.skipped_kinds
    assert run_rules(tl, PB) == ()


def test_what_if_a_different_threshold_changes_the_cues() -> None:
    tl = build(14, [(A, 1, 3), (C, 11, 13)])  # 8 s of silence
    assert events(tl, "dead_air") == []
    assert len(events(tl, "dead_air", PB.with_thresholds(dead_air_s=6.0))) == 1
    tl = build(20, [(C, 1, 8), (A, 6.0, 6.7)])  # 0.7 s over them
    assert events(tl, "interruption") == []
    assert len(events(tl, "interruption", PB.with_thresholds(
        interruption_min_talk_s=0.5, backchannel_max_s=0.5))) == 1


def test_cooldown_holds_back_a_repeat_prompt_but_keeps_the_event() -> None:
    speech = [(C, 0.5, 30)] + [(A, s, s + 1.5) for s in (3, 8, 30.5)]
    found = events(build(40, speech + [(C, 26, 40)]), "interruption")
    assert len(found) == 3
    assert [e.prompted for e in found] == [True, False, True]
