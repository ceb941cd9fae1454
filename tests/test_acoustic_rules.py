"""Every acoustic rule on hand-written timelines: fires where it should (count, start,
moment of detection to within a hop), not in the near miss, and never on an absolute
level."""

from __future__ import annotations

import pytest

from coaching.engine import ACOUSTIC_RULES, run_rules
from coaching.playbook import load_playbook
from coaching.timeline import AGENT as A
from coaching.timeline import CUSTOMER as C
from tests.timeline_builder import HOP, call, say, speech, talk

PB = load_playbook()
ONE_HOP = HOP + 1e-6


def events(tl, kind, playbook=PB):
    return [e for e in run_rules(tl, playbook, ACOUSTIC_RULES) if e.kind == kind]


def at(value: float) -> object:
    """Equal to within one hop."""
    return pytest.approx(value, abs=ONE_HOP)


# -- interruption -------------------------------------------------------------------------

def test_interruption_fires_once_the_agent_holds_the_floor_past_an_acknowledgement() -> None:
    # No acknowledgement lasts acknowledgement_max_s (2 s): the prompt comes then.
    tl = call(20, speech(C, 1, 8), speech(A, 6.0, 9.0))
    [e] = events(tl, "interruption")
    assert (e.start, e.detected_at, e.end) == (at(6.0), at(8.0), at(9.0))
    assert e.speaker == A and e.prompt == "Listen - let them finish" and e.prompted
    assert "kept talking for 3.0 s" in e.reason and "(2.0 s of overlap)" in e.reason
    assert e.measures == {"talk_s": at(3.0), "overlap_s": at(2.0)}


def test_backchannels_during_a_long_customer_turn_are_listening() -> None:
    nods = [speech(A, s, s + 0.5) for s in (4, 9, 14, 19)]  # "mm-hmm", "okay", ...
    assert events(call(30, speech(C, 1, 25), *nods), "interruption") == []
    longest = [speech(A, 4, 4.7)]  # just under backchannel_max_s
    assert events(call(30, speech(C, 1, 25), *longest), "interruption") == []


def test_a_second_of_talk_that_makes_them_stop_is_an_interruption() -> None:
    # They went on 0.8 s after the agent started, then gave way: with no transcript to
    # come, the timing decides once the agent's talk has ended (its turn's hang-over).
    [e] = events(call(30, speech(C, 1, 4.8), speech(A, 4, 5.4)), "interruption")
    assert (e.start, e.end) == (at(4.0), at(5.4))
    assert 5.4 < e.detected_at < 5.9
    assert e.measures["overlap_s"] == at(0.8)


def test_starting_on_their_last_word_is_not_an_interruption() -> None:
    # They went on only 0.3 s after the agent began: the agent took the next turn.
    assert events(call(30, speech(C, 1, 4.3), speech(A, 4, 9)), "interruption") == []


def test_a_second_of_talk_they_talk_through_is_not_an_interruption() -> None:
    # The customer kept the floor: the agent neither took it nor fought for it.
    assert events(call(30, speech(C, 1, 25), speech(A, 4, 5.0)), "interruption") == []


def test_a_short_talk_is_judged_by_its_words() -> None:
    cut_off = [speech(C, 1, 4.8), speech(A, 4, 5.4)]
    taken = call(30, *cut_off, say(A, 4, 5.4, "No, that is not what happened"))
    [e] = events(taken, "interruption")
    assert (e.start, e.end) == (at(4.0), at(5.4))
    assert e.reason.endswith('"No, that is not what happened"')
    assert e.evidence == "No, that is not what happened"
    listening = call(30, *cut_off, say(A, 4, 5.4, "No problem, no problem."))
    assert events(listening, "interruption") == []


def test_a_short_talk_whose_words_never_come_is_let_go() -> None:
    # A transcript is expected (the call has one) but none covers the talk.
    tl = call(40, speech(C, 1, 4.8), speech(A, 4, 5.4), say(C, 1, 4.8, "my order is late"))
    assert events(tl, "interruption") == []


def test_a_quick_answer_after_they_stop_is_not_an_interruption() -> None:
    assert events(call(20, speech(C, 1, 6), speech(A, 6.2, 10)), "interruption") == []


def test_starting_together_is_not_an_interruption() -> None:
    # The customer had not been speaking for interruption_customer_lead_s yet.
    assert events(call(20, speech(C, 1, 6), speech(A, 1.1, 6)), "interruption") == []


def test_customer_interruption_is_the_mirror_image() -> None:
    tl = call(20, speech(A, 1, 8), speech(C, 5, 9))
    [e] = events(tl, "customer_interruption")
    assert e.speaker == C and (e.start, e.detected_at, e.end) == (at(5.0), at(7.0), at(9.0))
    assert e.prompt == "Pause - they want to speak"
    assert events(tl, "interruption") == []


# -- raised voice -------------------------------------------------------------------------

def _calm_then_loud(offset_db: float = 0.0, raise_db: float = 8.0) -> list:
    """9 s of calm agent speech at -25 dBFS (+offset), then 3 s `raise_db` louder."""
    calm = [speech(A, s, s + 3, db=-25 + offset_db) for s in (1, 6, 11)]
    return [*calm, speech(A, 16, 19, db=-25 + offset_db + raise_db, pitch=160.0),
            speech(C, 20, 22)]


# The window is the last 1.5 s of voice (94 hops); it is raised once its active level (mean
# power) is 6 dB up and each third of it within 3 dB of that: with the loud line 8 dB up,
# that is its 69th hop, 1.1 s into it (the first third must hold some of the loud line);
# a line 10 dB up gets there at its 67th hop.
RAISED_AT = 16.0 + 69 * HOP


def test_raised_voice_against_the_agents_own_baseline() -> None:
    [e] = events(call(25, *_calm_then_loud()), "raised_voice")
    assert (e.start, e.detected_at, e.end) == (at(16.0), at(RAISED_AT), at(19.0))
    assert e.measures["excess_db"] == pytest.approx(8.0, abs=0.2)
    assert e.measures["baseline_dbfs"] == pytest.approx(-25.0, abs=0.2)
    assert e.measures["pitch_rise_st"] == pytest.approx(5.0, abs=0.1)  # 120 -> 160 Hz
    assert e.reason == "+8.0 dB over your usual level for 3.0 s of speech; pitch up 5 semitones"
    assert e.prompt == "Lower your voice"


def test_a_mic_15_db_quieter_gives_the_same_raised_voice_events() -> None:
    def same(e):
        return (e.start, e.end, e.detected_at, e.reason, e.measures["excess_db"])

    loud = events(call(25, *_calm_then_loud(0)), "raised_voice")
    quiet = events(call(25, *_calm_then_loud(-15)), "raised_voice")
    assert len(loud) == 1 and [same(e) for e in loud] == [same(e) for e in quiet]
    assert quiet[0].measures["baseline_dbfs"] == pytest.approx(-40.0, abs=0.2)


def test_four_db_louder_is_not_a_raised_voice() -> None:
    assert events(call(25, *_calm_then_loud(raise_db=4)), "raised_voice") == []


def test_a_loud_but_steady_speaker_is_not_raised() -> None:
    steady = [speech(A, s, s + 3, db=-8.0) for s in (1, 6, 11, 16)]
    assert events(call(25, *steady), "raised_voice") == []


def test_no_raised_voice_before_the_baseline_is_trusted() -> None:
    # 2.4 s of calm speech, then 1.5 s loud: the baseline needs baseline_min_speech_s (4 s)
    # of finished phrases, and the loud phrase is not one of them.
    tl = call(12, speech(A, 1, 3.4), speech(A, 4, 5.5, db=-15))
    assert events(tl, "raised_voice") == []
    sooner = PB.with_thresholds(baseline_min_speech_s=2.0)
    assert len(events(tl, "raised_voice", sooner)) == 1


def test_a_single_loud_word_is_not_a_raised_voice() -> None:
    script = [*_calm_then_loud()[:3], speech(A, 16, 16.6, db=-15), speech(A, 16.8, 19)]
    assert events(call(25, *script), "raised_voice") == []


def _emphatic_phrase(start: float, db: float = -25.0) -> list:
    """A 3-s phrase with one stressed word (+8 dB for 0.4 s) in its middle, as people
    speak: loudness moves by several dB inside any sentence."""
    return [speech(A, start, start + 1.3, db=db), speech(A, start + 1.3, start + 1.7, db=db + 8),
            speech(A, start + 1.7, start + 3.0, db=db)]


def test_stressed_words_in_calm_speech_are_not_a_raised_voice() -> None:
    script = [s for start in (1, 5, 9, 13, 17, 21) for s in _emphatic_phrase(start)]
    assert events(call(26, *script), "raised_voice") == []


def test_a_whole_raised_phrase_after_emphatic_speech_is_raised() -> None:
    calm = [s for start in (1, 5, 9) for s in _emphatic_phrase(start)]
    # The usual level includes the emphasis; a phrase 10 dB over it throughout is raised.
    [e] = events(call(20, *calm, speech(A, 13, 16, db=-15, pitch=160.0)), "raised_voice")
    assert e.start == at(13.0) and e.detected_at < 13.0 + 1.5
    # 10 dB over the plain words is 7.7 dB over phrases that carry their stressed word.
    assert e.measures["excess_db"] == pytest.approx(7.7, abs=0.2)


def test_a_few_very_loud_hops_do_not_lift_a_phrase() -> None:
    # A phrase a little louder than usual (+4 dB) with a laugh or a cough into the mic:
    # 0.05 s at +25 dB. As raw power it would lift 1.5 s of speech over +6 dB; each hop
    # counts for at most 6 dB over the raised level.
    script = [*_calm_then_loud()[:3], speech(A, 16, 17, db=-21), speech(A, 17, 17.05, db=0),
              speech(A, 17.05, 18.5, db=-21)]
    assert events(call(25, *script), "raised_voice") == []


def test_raised_again_after_a_pause_is_the_same_event() -> None:
    script = [*_calm_then_loud()[:3], speech(A, 16, 19, db=-17), speech(A, 20.5, 23, db=-17)]
    [e] = events(call(26, *script), "raised_voice")
    assert (e.start, e.end) == (at(16.0), at(23.0))
    assert e.measures["raised_speech_s"] == pytest.approx(5.5, abs=0.1)


def test_a_new_event_only_after_the_voice_was_back_near_the_baseline() -> None:
    script = [*_calm_then_loud()[:3], speech(A, 16, 19, db=-17), speech(A, 19.5, 23.5),
              speech(A, 24, 27, db=-17)]
    found = events(call(30, *script), "raised_voice")
    assert [(e.start, e.end) for e in found] == [(at(16.0), at(19.0)), (at(24.0), at(27.0))]


def test_customer_raised_voice() -> None:
    script = [speech(C, s, s + 3, db=-30) for s in (1, 6, 11)] + [speech(C, 16, 19, db=-20)]
    [e] = events(call(25, *script), "customer_raised_voice")
    assert e.speaker == C and (e.start, e.detected_at) == (at(16.0), at(16.0 + 67 * HOP))
    assert e.prompt == "Listen - let them have their say"
    assert "over their usual level" in e.reason


# -- silence ------------------------------------------------------------------------------

def test_dead_air_after_ten_seconds_of_silence() -> None:
    [e] = events(call(19, speech(A, 1, 3), speech(C, 15.5, 17)), "dead_air")
    assert (e.start, e.detected_at, e.end) == (at(3.0), at(13.0), at(15.5))
    assert e.reason == "12.5 s of silence on the line"
    assert e.prompt == "Tell them what you are doing"


def test_nine_seconds_of_silence_is_not_dead_air() -> None:
    assert events(call(16, speech(A, 1, 3), speech(C, 12, 14)), "dead_air") == []


def test_a_click_neither_ends_nor_starts_dead_air() -> None:
    tl = call(19, speech(A, 1, 3), speech(C, 8, 8.05), speech(C, 15.5, 17))
    [e] = events(tl, "dead_air")
    assert (e.start, e.detected_at, e.end) == (at(3.0), at(13.0), at(15.5))


def test_dead_air_still_open_at_the_end_of_the_call() -> None:
    [e] = events(call(20, speech(A, 1, 3)), "dead_air")
    assert (e.start, e.end) == (at(3.0), at(20.0))


def test_slow_response_after_three_seconds() -> None:
    [e] = events(call(20, speech(C, 1, 4), speech(A, 8.2, 10)), "slow_response")
    assert (e.start, e.detected_at, e.end) == (at(4.0), at(7.0), at(8.2))
    assert e.reason == "you took 4.2 s to answer"
    assert e.prompt == "Let them know you heard them"


def test_two_and_a_half_seconds_is_not_a_slow_response() -> None:
    assert events(call(20, speech(C, 1, 4), speech(A, 6.5, 10)), "slow_response") == []


def test_the_customer_going_on_is_not_a_slow_response() -> None:
    tl = call(20, speech(C, 1, 4), speech(C, 5.5, 9), speech(A, 9.5, 19))
    assert events(tl, "slow_response") == []


def test_a_customer_who_speaks_first_and_waits_gets_a_slow_response() -> None:
    [e] = events(call(12, speech(C, 0.5, 3), speech(A, 7, 9)), "slow_response")
    assert (e.start, e.detected_at, e.end) == (at(3.0), at(6.0), at(7.0))


def test_a_slow_response_that_becomes_dead_air_ends_there() -> None:
    tl = call(20, speech(C, 1, 4), speech(A, 16, 18))
    [slow] = events(tl, "slow_response")
    [dead] = events(tl, "dead_air")
    assert (slow.start, slow.end) == (at(4.0), at(14.0))
    assert (dead.start, dead.detected_at, dead.end) == (at(4.0), at(14.0), at(16.0))


def test_slow_response_waits_for_the_customers_words_and_names_them() -> None:
    tl = call(20, talk(C, 1, 4, "When will my new card arrive?"), speech(A, 8.2, 10))
    [e] = events(tl, "slow_response")
    assert (e.start, e.detected_at, e.end) == (at(4.0), at(7.0), at(8.2))
    assert e.reason == 'you took 4.2 s to answer after "When will my new card arrive?"'
    assert e.evidence == "When will my new card arrive?"


def test_a_customer_pausing_inside_their_turn_is_not_waiting() -> None:
    # Words that trail off: they are still thinking, and they go on after 4 s.
    tl = call(20, talk(C, 1, 4, "I'm calling in today because about"),
              talk(C, 8, 10, "two weeks ago I bought a car."), speech(A, 10.5, 14))
    assert events(tl, "slow_response") == []
    comma = call(20, talk(C, 1, 4, "So the light came on,"), speech(A, 8.2, 10))
    assert events(comma, "slow_response") == []


def test_a_finished_sentence_hands_the_floor_over() -> None:
    tl = call(20, talk(C, 1, 4, "The light is still on."), speech(A, 8.2, 10))
    assert len(events(tl, "slow_response")) == 1


def test_no_slow_response_when_the_customers_words_never_come() -> None:
    # A transcript is coming for this call, but Whisper heard nothing in that turn
    # (a murmur): nothing says the floor was handed over.
    tl = call(20, talk(A, 0.5, 0.9, "Hello?"), speech(C, 1, 4), speech(A, 8.2, 10))
    assert events(tl, "slow_response") == []


def test_an_announced_hold_is_not_a_slow_response() -> None:
    tl = call(20, talk(C, 0.5, 2, "Can you check my order?"),
              talk(A, 2.5, 5, "Sure, let me check that, one second."),
              talk(C, 5.3, 5.8, "Okay."), speech(A, 11, 13))
    assert events(tl, "slow_response") == []
    assert events(tl, "dead_air") == []  # 5.2 s of silence
    instruction = call(30, talk(A, 1, 6, "Hold both buttons down for about ten seconds."),
                       talk(C, 6.5, 7, "Mm-hmm."), speech(A, 14, 16))
    assert events(instruction, "slow_response") == []


def test_a_hold_ends_when_the_agent_speaks_again() -> None:
    tl = call(30, talk(A, 1, 3, "One moment please."), speech(A, 8, 10),
              talk(C, 11, 13, "Is it done?"), speech(A, 18, 20))
    [e] = events(tl, "slow_response")
    assert e.start == at(13.0)


def test_dead_air_in_an_announced_hold_says_what_was_announced() -> None:
    tl = call(20, talk(A, 1, 3, "Let me look into that for you."),
              talk(C, 3.3, 3.8, "Sure."), speech(A, 16, 18))
    [e] = events(tl, "dead_air")
    assert e.reason.startswith("12.2 s of silence on the line since you said")
    assert "look into that" in e.reason


# -- holding the floor --------------------------------------------------------------------

def test_long_monologue() -> None:
    agent = [speech(A, s, s + 4.5) for s in range(1, 60, 5)]  # 0.5 s breaths only
    nod = speech(C, 20, 20.5)  # "mm-hmm" does not take the floor
    [e] = events(call(70, *agent, nod), "long_monologue")
    assert (e.start, e.detected_at, e.end) == (at(1.0), at(46.0), at(60.5))
    assert e.reason == "you talked for 60 s without a pause for the customer"


def test_pauses_or_a_customer_turn_break_a_monologue() -> None:
    paused = [speech(A, s, s + 4.0) for s in range(1, 60, 6)]  # 2 s pauses: room to speak
    assert events(call(70, *paused), "long_monologue") == []
    agent = [speech(A, s, s + 4.5) for s in range(1, 60, 5)]
    assert events(call(70, *agent, speech(C, 30, 32)), "long_monologue") == []
