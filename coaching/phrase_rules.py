"""Rules that read the transcript: forbidden phrases, speaking rate, and the prompts that
remind the agent what a good agent says next (L.E.A.R.N.: Listen, Empathize, Apologize,
Resolve, Now).

The prompts are timed so that they help rather than nag. Each waits until the agent has
had a fair chance: an apology within `apology_wait_s` of the complaint, empathy or a dated
next step in the reply to the customer's words, a summary when the agent takes the floor
after a long stretch of the customer's speech. Each fires once per occasion and says why,
quoting the customer's words and their time. Phrases come from the playbook and tolerate
Whisper's casing, punctuation and small wording changes (`coaching.playbook.normalize_text`).

Every rule here is driven by `on_utterance` only: `now` is the call time at which the
transcript became available, and it is the `detected_at` of what the rule emits.
"""

from __future__ import annotations

from collections import deque

from coaching.acknowledgement import substantive
from coaching.playbook import Playbook
from coaching.rule import Hop, Rule
from coaching.said import Said, find_said, locate, said_at
from coaching.talk_speed import TalkTurn, TalkTurns, talk_rate, words_in
from coaching.text import ends_asking
from coaching.timeline import AGENT, CUSTOMER, Event, Speaker, Utterance

__all__ = ["PHRASE_RULES", "FORBIDDEN_SETS", "Said", "find_said", "said_at", "locate",
           "forbidden_set", "ForbiddenPhraseRule", "FastSpeechRule", "ApologizeRule",
           "EmpathizeRule", "SummarizeRule", "NextStepsRule", "AnythingElseRule"]

# Forbidden phrase sets and the category each is reported under (in the event's reason).
FORBIDDEN_SETS: dict[str, str] = {"calm_down": "calm down", "blame": "blame",
                                  "deflection": "deflection"}
# Thresholds a trainer tunes live in the playbook; these only shape how a reply is read.
_REPLY_WORDS = 25  # a reply this long without the remedy has missed its moment
_FAST_REARM = 0.9  # after a fast-speech prompt, the rate must drop under 90% of the limit
_CLOSING_GOES_ON_WORDS = 8  # a customer who says this much more after a goodbye goes on
_WORDS_WAIT_S = 4.0  # live, a turn's transcript comes within this; later it is not coming
_WORDS_SLACK_S = 0.5  # Whisper's word times are this loose against voice activity
_CONTEXT_S = 30.0  # a next step and time said this shortly before the question still count


def forbidden_set(event: Event) -> str | None:
    """The phrase set ("calm_down", "blame", "deflection") behind a forbidden_phrase event."""
    if event.kind != "forbidden_phrase":
        return None
    for name, label in FORBIDDEN_SETS.items():
        if event.reason.endswith(f"({label})"):
            return name
    return None


class _TranscriptRule(Rule):
    """Helpers shared by the transcript rules."""

    def said(self, name: str, u: Utterance) -> Said | None:
        return find_said(self.playbook, name, u)

    def substantive(self, u: Utterance) -> bool:
        return substantive(self.playbook, u.text)

    def cue_event(self, kind: str, cue: Said, tail: str, now: float,
                  measures: dict[str, float] | None = None) -> Event:
        """A prompt due to the customer's words `cue`, from them until now."""
        verb = "asked" if kind == "prompt_next_steps" else "said"
        return self.event(kind, AGENT, cue.start, max(now, cue.end),
                          f'customer {verb} "{cue.quote}" at {cue.start:.1f} s; {tail}', now,
                          evidence=cue.quote, measures=measures)


class ForbiddenPhraseRule(_TranscriptRule):
    """The agent said "calm down", blamed the customer, or deflected ("company policy").

    One event per phrase set per utterance, placed at the offending words.
    """

    kinds = ("forbidden_phrase",)

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        if u.speaker != AGENT:
            return []
        out: list[Event] = []
        for name, label in FORBIDDEN_SETS.items():
            said = self.said(name, u)
            if said is None:
                continue
            start = said.start
            # Words that cannot be located fall back to the utterance's start; keep the
            # events of two sets apart (the engine treats an equal start as an update).
            while any(round(e.start, 3) == round(start, 3) for e in out):
                start += 0.001
            how = f", {said.how}" if said.how.startswith(("close to", "learned")) else ""
            out.append(self.event("forbidden_phrase", AGENT, start, max(said.end, start),
                                  f'you said "{said.phrase}" at {said.start:.1f} s{how} '
                                  f'({label})', now, evidence=said.phrase))
        return out


class FastSpeechRule(_TranscriptRule):
    """The agent's talk speed over their talk in the last `fast_speech_window_s` is over
    `fast_speech_wpm`: words per minute of talk time, as contact-center analytics measure
    it (`coaching.talk_speed`: each turn from its first word to its last, pauses under
    `talk_pause_s` inside it counted). It needs `fast_speech_min_speech_s` of talk, and
    is quiet again until the rate drops clearly back under (`_FAST_REARM` of the limit):
    a pace hovering at the limit is one episode, not a prompt every minute.
    """

    kinds = ("fast_speech",)

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._turns = TalkTurns(self.th.talk_pause_s, self.substantive)
        self._fast = False

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        if u.speaker != AGENT:
            self._turns.other(u)
            return []
        if self._turns.add(u) is None:
            return []
        turns = self._turns.turns
        since = u.end - self.th.fast_speech_window_s
        while len(turns) > 1 and turns[0].end < since:  # bounded: the window's turns only
            turns.pop(0)
        recent = [t for t in turns if t.end >= since]
        wpm, talk_s, words = talk_rate(recent)
        if wpm is None or talk_s < self.th.fast_speech_min_speech_s:
            return []
        limit = self.th.fast_speech_wpm
        if self._fast:
            self._fast = wpm > limit * _FAST_REARM
            return []
        if wpm <= limit:
            return []
        self._fast = True
        return [self.event("fast_speech", AGENT, recent[0].start, u.end,
                           f"{wpm:.0f} words per minute over your last {talk_s:.0f} s of "
                           f"talk (aim under {self.th.fast_speech_wpm:.0f})", now,
                           measures={"wpm": round(wpm, 1), "talk_s": round(talk_s, 2),
                                     "words": float(words)})]


class ApologizeRule(_TranscriptRule):
    """The customer complained (or is distressed) and `apology_wait_s` later the agent has
    still not apologized; checked as each later utterance arrives.

    An episode runs from the complaint to the agent's apology and prompts once, however
    often the customer complains meanwhile. A complaint within `apology_wait_s` after an
    apology opens none: the customer is repeating what was just apologized for.
    """

    kinds = ("prompt_apologize",)
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._cue: Said | None = None
        self._cue_end = 0.0  # end of the complaining utterance: the agent's turn from here
        self._prompted = False
        self._apology_end: float | None = None

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        wait = self.th.apology_wait_s
        if u.speaker == AGENT and self.said("apology", u):
            self._apology_end, self._cue, self._prompted = u.end, None, False
            return []
        if u.speaker == CUSTOMER and self._cue is None:
            cue = self.said("complaint", u) or self.said("distress", u)
            if cue and (self._apology_end is None or cue.start - self._apology_end >= wait):
                self._cue, self._cue_end = cue, u.end
            return []
        if self._cue is None or self._prompted or now - self._cue_end < wait:
            return []
        self._prompted = True
        return [self.cue_event("prompt_apologize", self._cue, "no apology yet", now,
                               {"waited_s": round(now - self._cue_end, 2)})]


class _ReplyRule(_TranscriptRule):
    """A customer cue asks for something in the agent's reply ("I'm so frustrated" asks for
    empathy). The reply is read as it arrives: the remedy closes the cue; a reply that is
    over without it prompts. It is over when the customer takes the floor again, or once
    the agent has said `_REPLY_WORDS` words. Backchannels are neither reply nor floor."""

    kind = ""
    cue_set = ""

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._cue: Said | None = None
        self._reply_words = 0

    def remedied(self, u: Utterance | None) -> bool:
        """Whether the reply so far, ending with agent utterance `u`, gives what the cue
        asks for (`u` None: whether it was said just before the cue)."""
        raise NotImplementedError

    def missing(self) -> str:
        """The end of the reason: what the reply lacked."""
        raise NotImplementedError

    def asks_back(self, u: Utterance) -> bool:
        """Whether agent utterance `u` leaves the reply open for the customer's answer
        (then the reply goes on after it, and the customer's answer does not end it)."""
        return False

    def seen_agent(self, u: Utterance) -> None:
        """Every agent utterance, before it is read as a reply (context for subclasses)."""

    def _fire(self, now: float) -> list[Event]:
        event = self.cue_event(self.kind, self._cue, self.missing(), now)
        self._cue = None
        return [event]

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        if u.speaker == AGENT:
            self.seen_agent(u)
            if self._cue is not None and self.remedied(u):
                self._cue = None
            elif self._cue is not None and self.substantive(u) and self.asks_back(u):
                self._reply_words = 0  # the answer waits for theirs
            elif self._cue is not None and self.substantive(u):
                self._reply_words += words_in(u)
                if self._reply_words >= _REPLY_WORDS:
                    return self._fire(now)
            return []
        out: list[Event] = []
        if self._cue is not None and self._reply_words > 0 and self.substantive(u):
            out = self._fire(now)  # they have the floor again: the reply is over
        if self._cue is None:
            self._cue, self._reply_words = self.said(self.cue_set, u), 0
            if self._cue is not None and self.remedied(None):
                self._cue = None
        return out


class EmpathizeRule(_ReplyRule):
    """The customer said they are upset and the agent's reply showed no empathy (nor an
    apology, which acknowledges the feeling too)."""

    kinds = ("prompt_empathize",)
    kind = "prompt_empathize"
    cue_set = "distress"
    needs_customer = True

    def remedied(self, u: Utterance | None) -> bool:
        return u is not None and bool(self.said("empathy", u) or self.said("apology", u))

    def missing(self) -> str:
        return "your reply did not acknowledge how they feel"


class NextStepsRule(_ReplyRule):
    """The customer asked what happens next, when, or how long, and the agent's answer did
    not give both a next step and a time. What the agent said shortly before the question
    counts too: "When will he come?" after "I'll send a technician" needs only the time;
    and an answer that asks them something back waits for their answer, and goes on."""

    kinds = ("prompt_next_steps",)
    kind = "prompt_next_steps"
    cue_set = "next_steps_question"
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._recent: deque[tuple[float, bool, bool]] = deque()  # (end, step, time)

    def seen_agent(self, u: Utterance) -> None:
        self._recent.append((u.end, bool(self.said("next_steps", u)),
                             bool(self.said("time_estimate", u) or self.said("done_now", u))))
        since = (self._cue.start if self._cue is not None else u.end) - _CONTEXT_S
        while self._recent and self._recent[0][0] < since:
            self._recent.popleft()

    def _have(self) -> tuple[bool, bool]:
        since = (self._cue.start if self._cue is not None else 0.0) - _CONTEXT_S
        said = [(s, t) for end, s, t in self._recent if end >= since]
        return any(s for s, _ in said), any(t for _, t in said)

    def remedied(self, u: Utterance | None) -> bool:
        return all(self._have())

    def asks_back(self, u: Utterance) -> bool:
        """An answer that asks them to choose ("8 to 10, or 3 to 5?") is still being
        worked out with them: what happens next comes once they have answered."""
        return ends_asking(u.text)

    def missing(self) -> str:
        step, time = self._have()
        if step:
            return "your answer said what happens but not when"
        if time:
            return "your answer gave a time but not what happens"
        return "your answer did not say what happens next, or when"


class AnythingElseRule(_TranscriptRule):
    """The customer is closing ("that's all, thanks") and the agent does not ask whether
    there is anything else; once per call.

    The prompt is for a moment the agent would otherwise miss, so it waits: at least
    `anything_else_wait_s` after the closing words, and until the line is quiet with every
    word in (live, an agent who started talking right after the cue may be asking it: her
    words decide). A customer who goes on talking was not closing ("thanks, bye... well, I
    drive right by you every day, so..."): the cue is dropped. The customer's first
    utterance ("Hi, thanks") is an opening, not a goodbye, and a goodbye the agent answers
    with a question of her own ("...or have you already gotten home?"), or by talking on
    for `_REPLY_WORDS` words, was not one: the call went on.
    """

    kinds = ("prompt_anything_else",)
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._done = False
        self._customer_spoke = False
        self._cue: Said | None = None
        self._cue_end = 0.0
        self._said_since = 0  # customer words after the cue that were not closing words
        self._agent_said_since = 0  # the agent's words after the cue
        self._in_turn = {AGENT: False, CUSTOMER: False}
        self._turn_end = {AGENT: float("-inf"), CUSTOMER: float("-inf")}
        self._words_end = {AGENT: float("-inf"), CUSTOMER: float("-inf")}

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        self._words_end[u.speaker] = max(self._words_end[u.speaker], u.end)
        if self._done:
            return []
        if u.speaker == AGENT:
            if self.said("anything_else", u) is not None:
                self._done, self._cue = True, None
            elif self._cue is not None and u.start >= self._cue.start:
                self._agent_said_since += words_in(u) if self.substantive(u) else 0
                if ends_asking(u.text) or self._agent_said_since >= _REPLY_WORDS:
                    self._cue = None  # she asked them something, or talks on: not closing
            return []
        first, self._customer_spoke = not self._customer_spoke, True
        closing = None if first else self.said("closing_cue", u)
        if self._cue is None:
            if closing is not None:
                self._cue, self._cue_end = closing, u.end
                self._said_since = self._agent_said_since = 0
            return []
        if closing is None and self.substantive(u):
            self._said_since += words_in(u)
            if self._said_since >= _CLOSING_GOES_ON_WORDS:
                self._cue = None  # they went on: that was not the end of the call
        return []

    def on_hop(self, hop: Hop) -> list[Event]:
        for speaker, frame in ((AGENT, hop.agent), (CUSTOMER, hop.customer)):
            if self._in_turn[speaker] and not frame.in_turn:
                self._turn_end[speaker] = hop.t
            self._in_turn[speaker] = frame.in_turn
        if self._cue is None or self._done:
            return []
        now = hop.t + self.hop_s
        if now - self._cue_end < self.th.anything_else_wait_s or any(self._in_turn.values()):
            return []
        if any(self._words_pending(s, now) for s in (AGENT, CUSTOMER)):
            return []
        self._done = True
        return [self.cue_event("prompt_anything_else", self._cue,
                               "you have not asked if there is anything else", now,
                               {"waited_s": round(now - self._cue_end, 2)})]

    def _words_pending(self, speaker: Speaker, now: float) -> bool:
        """A turn of theirs ended after the cue and its words have not come (yet)."""
        end = self._turn_end[speaker]
        return (end > self._cue_end and self._words_end[speaker] < end - _WORDS_SLACK_S
                and now - end < _WORDS_WAIT_S)


class SummarizeRule(_TranscriptRule):
    """The customer has told `summary_after_customer_s` of story since the agent last
    summarized (or since the call began), and the agent takes the floor without a summary.

    A story is what the customer says while holding the floor: talk turns
    (`coaching.talk_speed`) of at least `summary_turn_s`. Short answers to the agent's
    questions ("it's a 2019", "yes, that's me") are not a story to play back, however
    many there are.
    """

    kinds = ("prompt_summarize",)
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._turns = TalkTurns(self.th.talk_pause_s, self.substantive)
        self._counted_from = float("-inf")  # story told before this is summarized
        self._last_summary: float | None = None

    def _story(self) -> list[TalkTurn]:
        return [t for t in self._turns.turns if t.end > self._counted_from
                and t.talk_s >= self.th.summary_turn_s]

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        if u.speaker == CUSTOMER:
            self._turns.add(u)
            return []
        self._turns.other(u)
        summary = self.said("summary", u)
        if summary is not None:
            self._counted_from, self._last_summary = u.end, summary.start
            return []
        story = self._story()
        heard = sum(t.talk_s for t in story)
        if heard < self.th.summary_after_customer_s or not self.substantive(u):
            return []
        self._counted_from = u.end
        self._turns.turns[:] = [t for t in self._turns.turns if t.end > u.end]
        last = (f"since your last summary at {self._last_summary:.1f} s"
                if self._last_summary is not None else "and you have not summarized yet")
        return [self.event("prompt_summarize", AGENT, u.start, u.end,
                           f"the customer has told you {heard:.0f} s of their story from "
                           f"{story[0].start:.1f} s {last}", now,
                           measures={"customer_story_s": round(heard, 2)})]


PHRASE_RULES: list[type[Rule]] = [ForbiddenPhraseRule, FastSpeechRule, ApologizeRule,
                                  EmpathizeRule, SummarizeRule, NextStepsRule,
                                  AnythingElseRule]
