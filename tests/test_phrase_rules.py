"""Transcript rules on hand-written transcripts in Whisper's varying style.

Each rule is fed utterances directly (each arriving when it ends, as in replay); a few
tests go through the engine to check the rules play well with it.
"""

from __future__ import annotations

import pytest

from coaching.engine import CoachingEngine, run_rules
from coaching.phrase_rules import (
    PHRASE_RULES,
    AnythingElseRule,
    ApologizeRule,
    EmpathizeRule,
    FastSpeechRule,
    ForbiddenPhraseRule,
    NextStepsRule,
    SummarizeRule,
    find_said,
    forbidden_set,
)
from coaching.playbook import load_playbook
from coaching.rule import Rule
from coaching.timeline import Event, Utterance
from tests.timeline_builder import HOP, build, call, talk, words_for

A, C = "agent", "customer"
PB = load_playbook()


def feed(rule_cls: type[Rule], script: list[tuple], lag: float = 0.0, playbook=PB
         ) -> list[Event]:
    """Each (speaker, start, end, text) arrives `lag` s after it ends, in order of end."""
    rule = rule_cls(playbook, HOP)
    out: list[Event] = []
    for line in sorted(script, key=lambda s: s[2]):
        out += rule.on_utterance(words_for(*line), line[2] + lag)
    return out


# -- forbidden phrases ----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Calm down.", "Sir, please calm down!", "CALM DOWN, SIR", "you need to come down",
    "Come down, sir.", "Sir, I need you to calm down right now.", "Just relax.",
    "Stop shouting at me.", "There's no need to raise your voice."])
def test_calm_down_in_any_style(text: str) -> None:
    found = feed(ForbiddenPhraseRule, [(A, 20.0, 24.0, text)])
    assert len(found) == 1
    event = found[0]
    assert forbidden_set(event) == "calm_down" and event.reason.endswith("(calm down)")
    assert event.reason.startswith(f'you said "{event.evidence}" at 2')
    assert event.prompt == "Acknowledge how they feel instead"
    assert event.detected_at == 24.0


@pytest.mark.parametrize("text,category", [
    ("That's company policy.", "deflection"), ("It's not my department.", "deflection"),
    ("There's nothing I can do.", "deflection"), ("That is just our policy, sir.", "deflection"),
    ("You'll have to call the bank.", "deflection"), ("Well, that's your fault.", "blame"),
    ("You should have read the contract.", "blame"), ("You should've checked the box.", "blame"),
    ("You must have entered the wrong number.", "blame")])
def test_blame_and_deflection(text: str, category: str) -> None:
    found = feed(ForbiddenPhraseRule, [(A, 2, 5, text)])
    assert [forbidden_set(e) for e in found] == [category]
    assert f"({category})" in found[0].reason


@pytest.mark.parametrize("text", [
    "I understand, I'm so sorry about that. I will fix it today.",
    "The technician will come down to your flat tomorrow.",
    "Prices should come down next month.", "You should have it by Friday.",
    "You should have received an email from us.", "Our policy is to refund you in full.",
    "Okay, let me look at your account now."])
def test_ordinary_agent_words_are_not_forbidden(text: str) -> None:
    assert feed(ForbiddenPhraseRule, [(A, 2, 6, text)]) == []


def test_the_customer_saying_calm_down_is_not_the_agent() -> None:
    assert feed(ForbiddenPhraseRule, [(C, 2, 5, "Calm down? It's your fault!")]) == []


def test_forbidden_phrase_is_placed_at_its_words() -> None:
    text = "Sir I need you to calm down right now"
    found = feed(ForbiddenPhraseRule, [(A, 2, 8, text)])
    words = words_for(A, 2, 8, text).words
    assert found[0].evidence == "i need you to calm down"
    assert (found[0].start, found[0].end) == (words[1].start, words[6].end)


def test_without_word_times_the_event_covers_the_utterance() -> None:
    rule = ForbiddenPhraseRule(PB, HOP)
    found = rule.on_utterance(Utterance(A, 3.0, 6.0, "Calm down. That's company policy."), 6.5)
    assert [forbidden_set(e) for e in found] == ["calm_down", "deflection"]
    assert found[0].start == 3.0 and found[0].end == 6.0
    assert len({e.key for e in found}) == 2  # the engine keeps both


def test_two_categories_in_one_utterance_through_the_engine() -> None:
    say = [(A, 2, 7, "Calm down, sir. That's company policy.")]
    events = run_rules(build(10, [(A, 2, 7)], say), PB)
    assert sorted(forbidden_set(e) for e in events if e.kind == "forbidden_phrase") == [
        "calm_down", "deflection"]


# -- speaking rate --------------------------------------------------------------------

def _talk(start: float, seconds: float, wpm: float) -> tuple:
    return (A, start, start + seconds, " ".join(["word"] * round(wpm * seconds / 60)))


# The mechanics on short stretches: a 30-s window needing 8 s of talk (the default playbook
# wants 20 s of talk in the last minute: a pace kept up).
QUICK = PB.with_thresholds(fast_speech_window_s=30.0, fast_speech_min_speech_s=8.0)


def fast(script: list[tuple], playbook=QUICK) -> list[Event]:
    return feed(FastSpeechRule, script, playbook=playbook)


def test_fast_speech_fires_once_with_its_rate() -> None:
    found = fast([_talk(1, 10, 240)])
    assert len(found) == 1
    assert found[0].measures["wpm"] == pytest.approx(240, abs=1)
    assert found[0].reason == "240 words per minute over your last 10 s of talk (aim under 180)"
    assert found[0].prompt == "Slow down a little"


def test_normal_rate_and_too_little_speech_do_not_fire() -> None:
    assert fast([_talk(1, 10, 150)]) == []
    assert fast([_talk(1, 5, 260)]) == []  # under fast_speech_min_speech_s


def test_a_pause_that_ends_a_turn_is_not_talk() -> None:
    # 2 x 5 s at 200 wpm with a 6 s pause: two turns, 10 s of talk, not 16 s of wall time.
    found = fast([_talk(1, 5, 200), _talk(12, 5, 200)])
    assert len(found) == 1 and found[0].measures["talk_s"] == pytest.approx(10)


def test_short_pauses_inside_a_turn_are_part_of_the_talk() -> None:
    # Talk time, as the field measures it: 2 x 5 s with a 1.5 s pause (under
    # talk_pause_s) is one turn of 11.5 s; 44 words make 230 wpm, not 264.
    found = fast([_talk(1, 5, 264), _talk(7.5, 5, 264)])
    assert found[0].measures["talk_s"] == pytest.approx(11.5)
    assert found[0].measures["wpm"] == pytest.approx(44 / 11.5 * 60, abs=0.1)


def test_the_customer_taking_the_floor_ends_the_agents_turn() -> None:
    # The same 1.5 s gap, but the customer spoke in it: two turns, 10 s of talk.
    found = fast([_talk(1, 5, 264), (C, 6.1, 7.3, "Wait, what was that?"),
                                  _talk(7.5, 5, 264)])
    assert found[0].measures["talk_s"] == pytest.approx(10)
    nod = fast([_talk(1, 5, 264), (C, 6.1, 6.6, "Okay."), _talk(7.5, 5, 264)])
    assert nod[0].measures["talk_s"] == pytest.approx(11.5)  # a backchannel keeps it


def test_fast_speech_waits_until_the_rate_drops_back_under() -> None:
    script = [_talk(1, 10, 240), _talk(12, 10, 240),  # fast, fast: one event
              _talk(30, 20, 100),  # 146 wpm over the window: back under
              _talk(60, 10, 260),  # 152 wpm with the slow talk still in the window
              _talk(71, 10, 260)]  # 258 wpm: fast again
    found = fast(script)
    assert [e.start for e in found] == [1, 60]  # the second starts at the window's oldest
    assert found[1].end == 81


def test_fast_speech_window_is_bounded() -> None:
    rule = FastSpeechRule(QUICK, HOP)
    for i in range(200):
        rule.on_utterance(words_for(*_talk(i * 3.0, 2.0, 150)), i * 3.0 + 2)
    assert len(rule._turns.turns) <= 11  # only the last fast_speech_window_s (30 s)


def test_a_pace_hovering_at_the_limit_is_one_episode() -> None:
    script = [_talk(1 + 12 * i, 10, wpm) for i, wpm in enumerate((190, 172, 190, 172, 190))]
    assert len(fast(script)) == 1  # 172 is not clearly back under 180


def test_by_default_only_a_pace_kept_up_is_prompted() -> None:
    assert feed(FastSpeechRule, [_talk(1, 10, 240)]) == []  # one quick stretch
    kept_up = [_talk(1 + 11 * i, 10, 240) for i in range(3)]  # 30 s of talk in a minute
    assert len(feed(FastSpeechRule, kept_up)) == 1


def test_customer_speed_is_not_coached() -> None:
    assert fast([(C, 1, 11, " ".join(["word"] * 50))]) == []


# -- apologize ------------------------------------------------------------------------

COMPLAINT = (C, 1, 5, "This is ridiculous, it's the third time I call.")


def test_apologize_after_the_wait_with_the_customer_words() -> None:
    script = [COMPLAINT, (A, 6, 9, "Let me look at your account."),
              (C, 10, 14, "It never arrived and nobody called me back."),
              (A, 15, 24, "I can see the order here, it was sent on Monday."),
              (C, 26, 28, "So where is it?"), (A, 29, 31, "Let me check with the courier.")]
    found = feed(ApologizeRule, script)
    assert len(found) == 1  # once per episode, however often they complain
    event = found[0]
    assert event.detected_at == 28.0  # the first utterance 20 s (apology_wait_s) after
    assert event.reason == 'customer said "This is ridiculous" at 1.9 s; no apology yet'
    assert event.evidence == "This is ridiculous" and event.prompt == "Apologize"
    # It covers the complaint's words up to the prompt.
    assert event.start == pytest.approx(1.889) and event.end == 28.0
    assert event.measures["waited_s"] == pytest.approx(23)


def test_no_apology_prompt_before_the_agent_had_a_fair_chance() -> None:
    assert feed(ApologizeRule, [COMPLAINT, (A, 6, 9, "Let me look at your account.")]) == []


@pytest.mark.parametrize("apology", ["I'm so sorry.", "i apologize", "Sorry about that!",
                                     "My apologies, sir.", "I am really sorry to hear that",
                                     "We're sorry for the trouble."])
def test_any_apology_closes_the_episode(apology: str) -> None:
    script = [COMPLAINT, (A, 6, 8, apology), (C, 30, 33, "Okay."), (A, 34, 36, "Right.")]
    assert feed(ApologizeRule, script) == []


def test_a_new_complaint_after_the_apology_is_a_new_episode() -> None:
    script = [COMPLAINT, (A, 6, 8, "I'm so sorry."),
              (C, 9, 12, "And it's still not working."),  # within apology_wait_s: covered
              (A, 13, 15, "Let me check."),
              (C, 40, 44, "This is unacceptable."), (A, 45, 50, "One moment."),
              (C, 66, 67, "Hello?")]
    found = feed(ApologizeRule, script)
    assert [e.start for e in found] == [pytest.approx(42.667)]  # at "unacceptable"


def test_distress_also_asks_for_an_apology() -> None:
    script = [(C, 1, 4, "I'm so frustrated with this."), (A, 30, 32, "Okay.")]
    assert len(feed(ApologizeRule, script)) == 1


# -- empathize ------------------------------------------------------------------------

def test_empathize_when_the_reply_ignores_how_they_feel() -> None:
    script = [(C, 1, 4, "Honestly I'm so frustrated with this."),
              (A, 5, 7, "Okay, can I have your account number?"),
              (C, 8, 10, "It's 4 4 7 2.")]
    found = feed(EmpathizeRule, script)
    assert len(found) == 1
    assert found[0].detected_at == 10.0 and found[0].prompt == "Show you understand"
    assert found[0].reason.startswith("customer said \"Honestly I'm so frustrated")


@pytest.mark.parametrize("reply", ["I understand how frustrating that is.",
                                   "That must be so annoying.", "I'm so sorry.",
                                   "I can imagine, let me fix this."])
def test_an_empathetic_reply_closes_it(reply: str) -> None:
    script = [(C, 1, 4, "I'm really upset."), (A, 5, 7, reply), (C, 8, 10, "Thank you.")]
    assert feed(EmpathizeRule, script) == []


def test_backchannels_are_not_the_reply() -> None:
    script = [(C, 1, 4, "I'm really worried about this."), (A, 4.5, 5, "Mm-hmm."),
              (C, 5.5, 9, "My mum needs the phone."), (A, 10, 12, "Right, okay."),
              (C, 13, 15, "So can you help?")]
    assert feed(EmpathizeRule, script) == []


def test_a_long_reply_without_empathy_prompts_before_they_speak_again() -> None:
    long = ("Okay so what we can do is look at the account first and then check the line "
            "from our side and then book a visit if we need one")
    found = feed(EmpathizeRule, [(C, 1, 4, "I'm fed up."), (A, 5, 15, long)])
    assert len(found) == 1 and found[0].detected_at == 15.0


# -- summarize ------------------------------------------------------------------------

STORY = [(C, 1, 10, "So last month I moved to a new flat " * 2),
         (C, 11, 20, "and since then the connection drops every evening " * 2),
         (C, 21, 30, "and my kids cannot do their homework " * 2)]


def test_summarize_when_the_agent_takes_the_floor_after_a_long_story() -> None:
    found = feed(SummarizeRule, STORY + [(A, 31, 34, "Okay, let me check that.")])
    assert len(found) == 1
    assert found[0].start == 31.0 and found[0].detected_at == 34.0
    # 29 s of talk time: the story's turn from its first word to its last.
    assert found[0].reason == ("the customer has told you 29 s of their story from 1.0 s "
                               "and you have not summarized yet")
    assert found[0].prompt == "Summarize what you heard"


def test_backchannels_during_the_story_do_not_take_the_floor() -> None:
    script = STORY + [(A, 12, 12.5, "Mm-hmm."), (A, 16, 16.4, "Mm -mm."),  # Whisper's
                      (A, 22, 22.4, "Okay."), (A, 25, 25.5, "Right.")]
    assert feed(SummarizeRule, script) == []


def test_a_summary_resets_the_count() -> None:
    script = STORY + [(A, 31, 36, "Just to confirm, the line drops every evening."),
                      (C, 37, 40, "Yes."), (A, 41, 44, "Let me run a test.")]
    assert feed(SummarizeRule, script) == []
    script += [(C, 45, 75, "and another thing " * 20), (A, 76, 78, "Okay, I see the fault.")]
    found = feed(SummarizeRule, script)
    assert len(found) == 1 and "since your last summary at 31.0 s" in found[0].reason


def test_short_answers_to_the_agents_questions_are_not_a_story() -> None:
    # 40 s of the customer's answers, none a turn of summary_turn_s (8 s).
    script = []
    for i in range(8):
        t = 1 + 10 * i
        script += [(A, t, t + 3, "And which model is it, please?"),
                   (C, t + 3.5, t + 8.5, "It is the blue one from twenty nineteen.")]
    script.append((A, 82, 85, "Okay, let me check the manual for that."))
    assert feed(SummarizeRule, script) == []


def test_a_short_customer_turn_needs_no_summary() -> None:
    assert feed(SummarizeRule, [(C, 1, 15, "short story " * 10), (A, 16, 18, "Okay, sure.")]) \
        == []


# -- next steps -----------------------------------------------------------------------

QUESTION = (C, 1, 4, "Okay. So when will it be fixed?")


def test_next_steps_when_the_answer_has_no_step_and_time() -> None:
    script = [QUESTION, (A, 5, 7, "Let me check that for you."), (C, 8, 9, "Hello?")]
    found = feed(NextStepsRule, script)
    assert len(found) == 1 and found[0].prompt == "Tell them what happens next"
    assert found[0].reason == ('customer asked "So when will it be fixed" at 1.9 s; your '
                               "answer did not say what happens next, or when")


@pytest.mark.parametrize("answer", [
    "I will send a technician tomorrow morning.", "We'll have it fixed within 24 hours.",
    "I'm going to escalate this, you'll hear from us in two days.",
    "A technician will come on Friday."])
def test_an_answer_with_step_and_time_closes_it(answer: str) -> None:
    assert feed(NextStepsRule, [QUESTION, (A, 5, 8, answer), (C, 9, 10, "Great.")]) == []


def test_a_step_without_a_time_says_what_is_missing() -> None:
    script = [(C, 1, 3, "How long will it take?"), (A, 4, 6, "I'll escalate it."),
              (C, 7, 8, "Fine.")]
    found = feed(NextStepsRule, script)
    assert found[0].reason.endswith("your answer said what happens but not when")


def test_a_step_said_just_before_the_question_counts() -> None:
    script = [(A, 1, 5, "I will send a technician."), (C, 6, 8, "When will he come?"),
              (A, 9, 10, "Tomorrow morning."), (C, 11, 12, "Great.")]
    assert feed(NextStepsRule, script) == []
    already = [(A, 1, 5, "I will send a technician tomorrow morning."),
               (C, 6, 8, "When will he come?"), (A, 9, 10, "As I said."), (C, 11, 12, "Ok?")]
    assert feed(NextStepsRule, already) == []


def test_an_answer_that_asks_them_to_choose_waits_for_their_answer() -> None:
    choose = (A, 6, 11, "That sounds great. Would you prefer between 8 and 10 or between 3 and 5?")
    script = [QUESTION, choose, (C, 12, 13, "Earlier the better."),
              (A, 14, 15, "Shall we say 8 then?"), (C, 16, 17, "Let's do it."),
              (A, 18, 22, "Wonderful, I have booked you in for Thursday at 8am.")]
    assert feed(NextStepsRule, script) == []
    # asked back, and then never told: the reply that follows their answer is read as
    # the answer, and prompts
    vague = script[:3] + [(A, 14, 17, "Okay, noted, the workshop is quite busy."),
                          (C, 18, 20, "My husband will drive it over.")]
    found = feed(NextStepsRule, vague)
    assert len(found) == 1 and found[0].reason.endswith("did not say what happens next, or when")


# -- anything else --------------------------------------------------------------------

def closing(script: list, duration: float, lag: float = 0.0) -> list[Event]:
    """The anything-else rule through the engine: it needs the hops as well as the words,
    each utterance's words arriving `lag` s after it ends (live, about a second)."""
    tl = call(duration, *script)
    engine = CoachingEngine(PB, HOP, has_customer=True, rules=[AnythingElseRule])
    pending = sorted(tl.utterances, key=lambda u: u.end)
    for agent, customer in zip(tl.agent_frames, tl.customer_frames, strict=True):
        while pending and pending[0].end + lag <= agent.t:
            engine.on_utterance(pending.pop(0), agent.t)
        engine.on_hop(agent, customer)
    engine.finish(duration)
    return list(engine.events)


@pytest.mark.parametrize("goodbye", ["No, that's all, thanks.", "Okay, thank you.",
                                     "Great, thanks a lot!", "Bye.",
                                     "Thank you so much for your help."])
def test_anything_else_on_a_closing_cue_once(goodbye: str) -> None:
    script = [talk(C, 1, 3, "My router is broken."), talk(A, 4, 8, "I'll send a new one today."),
              talk(C, 9, 11, goodbye), talk(C, 16, 17, "Bye.")]
    found = closing(script, 20)
    # The agent's own moment to ask first: anything_else_wait_s after the goodbye.
    assert len(found) == 1 and found[0].detected_at == pytest.approx(15.0, abs=HOP)
    assert found[0].prompt == "Ask if there is anything else"
    assert found[0].measures["waited_s"] == pytest.approx(4.0, abs=HOP)


def test_no_anything_else_prompt_once_asked_or_at_the_opening() -> None:
    asked = [talk(C, 1, 3, "My router is broken."),
             talk(A, 4, 7, "Is there anything else I can do?"),
             talk(C, 8, 10, "No, that's all, thanks.")]
    assert closing(asked, 20) == []
    opening = [talk(A, 0, 3, "Thank you for calling."), talk(C, 4, 5, "Hi, thanks.")]
    assert closing(opening, 20) == []


def test_the_agent_asking_right_after_the_goodbye_is_not_prompted() -> None:
    # She starts 0.6 s after the cue and asks within her turn; live her words come
    # after the wait, so the rule waits for them.
    script = [talk(C, 1, 3, "My router is broken."), talk(A, 4, 8, "I'll send a new one."),
              talk(C, 9, 11, "Great, thank you so much."),
              talk(A, 11.6, 16.5, "My pleasure. Is there anything else I can help you with?")]
    assert closing(script, 25) == []
    assert closing(script, 25, lag=1.2) == []  # live: her words come after the wait


def test_the_agent_talking_on_after_the_goodbye_is_prompted_when_she_stops() -> None:
    script = [talk(C, 1, 3, "My router is broken."), talk(A, 4, 8, "I'll send a new one."),
              talk(C, 9, 11, "Okay, thank you."),
              talk(A, 11.5, 17, "You're welcome, the router will come with a cable too.")]
    [e] = closing(script, 25)
    assert 17.0 < e.detected_at < 18.0  # once her turn is over (and its words are in)
    [live] = closing(script, 25, lag=1.2)
    assert 18.2 <= live.detected_at < 19.0


def test_a_customer_who_goes_on_after_a_goodbye_was_not_closing() -> None:
    # Whisper heard "Thanks for all. Bye." in the middle of the call; she goes on.
    script = [talk(C, 1, 3, "My oil light is on."), talk(A, 4, 8, "We can switch it off."),
              talk(C, 9, 10, "Thanks for all. Bye."),
              talk(C, 10.5, 16, "I drive right by you all on my way to and from work, so it "
                                "is not really a big deal.")]
    assert closing(script, 30) == []


def test_a_goodbye_the_agent_talks_on_after_was_not_one() -> None:
    # Whisper heard "Yeah, bye" mid-call; the agent goes on with the call, then a hold.
    script = [talk(C, 1, 3, "My oil light is on."), talk(C, 4, 5, "Yeah, bye."),
              talk(A, 6, 12, "Perfect. Give me just one second here, I'm going to look into "
                             "the manual on that car real quick and I will walk you through"),
              talk(A, 13, 20, "so what you're going to want to do is hold both of those little "
                              "buttons down for about ten seconds and then turn it off")]
    assert closing(script, 40) == []


def test_thanks_inside_a_sentence_is_not_a_goodbye() -> None:
    script = [talk(C, 1, 3, "Hello."),
              talk(C, 4, 9, "Thanks, but my order still has not arrived and I need it.")]
    assert closing(script, 20) == []


# -- the rules in the engine ----------------------------------------------------------

def test_prompts_arrive_when_the_utterance_ends_with_a_transcription_lag() -> None:
    found = feed(ApologizeRule, [COMPLAINT, (A, 25, 27, "Okay.")], lag=1.2)
    assert found[0].detected_at == pytest.approx(28.2)


def test_engine_runs_the_prompts_on_a_whole_call() -> None:
    say = [(A, 0.5, 3, "Thank you for calling, how can I help?"),
           (C, 4, 8, "This is ridiculous, my order never arrived. When will I get it?"),
           (A, 9, 12, "Let me have a look at that."), (C, 13, 15, "I'm waiting."),
           (A, 16, 30, "Okay so I see the order."), (C, 31, 32, "That's all, thanks.")]
    events = run_rules(build(40, [s[:3] for s in say], say), PB)
    kinds = [e.kind for e in events]
    assert {"prompt_apologize", "prompt_next_steps", "prompt_anything_else"} <= set(kinds)
    assert all(e.detected_at >= e.start for e in events)


def test_agent_only_skips_the_prompts_that_need_the_customer() -> None:
    engine = CoachingEngine(PB, HOP, has_customer=False, rules=PHRASE_RULES)
    assert {type(r) for r in engine.rules} == {ForbiddenPhraseRule, FastSpeechRule}
    assert {"prompt_apologize", "prompt_summarize", "prompt_anything_else"} <= set(
        engine.skipped_kinds)


def test_quotes_keep_the_clause_around_the_phrase() -> None:
    u = words_for(C, 0, 5, "Well, I have called you three times this week. It is not okay.")
    said = find_said(PB, "complaint", u)
    assert said.phrase == "called you three times"
    assert said.quote == "I have called you three times this week"
    assert said.start == u.words[3].start
