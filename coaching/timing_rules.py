"""Silence and holding the floor: `dead_air`, `slow_response`, `long_monologue`.

A customer left in silence feels ignored; one talked at for a minute feels unheard. All
three measure from the end of actual voice, not from the end of the hang-over. A silence
the agent announced ("one second, let me check") is not a slow answer, and a pause the
customer goes on after is theirs.
"""

from __future__ import annotations

from coaching.playbook import Playbook, normalize_text
from coaching.rule import Hop, Rule
from coaching.said import Said, find_said
from coaching.timeline import AGENT, CUSTOMER, Event, Utterance

__all__ = ["DeadAirRule", "SlowResponseRule", "LongMonologueRule", "HoldTracker",
           "hands_over"]

_HOLD_SLACK_S = 0.3  # agent speech this soon after the announcement is part of it
_WORDS_SLACK_S = 1.0  # Whisper's utterance ends are this loose against voice activity
# Words a finished sentence does not end on: the speaker is still going.
_TRAILING = frozenset("and or but so because cause if the a an my your our their of than "
                      "um uh er".split())


class HoldTracker:
    """Whether the agent has announced a wait ("one second", "let me check", "hold both
    buttons for ten seconds") that the silence since is part of.

    The hold starts with the agent utterance that announces it (the playbook's `hold`
    phrases) and lasts until the agent speaks again after it. Live, its transcript comes
    a second after it ends; an announcement the agent has already talked past is moot.
    """

    def __init__(self, rule: Rule) -> None:
        self._rule = rule
        self._agent_talk_start = float("-inf")  # start of the agent's latest voiced run
        self._was_voice = False
        self.said: Said | None = None  # the announcement of the hold in force

    def on_hop(self, hop: Hop) -> None:
        a = hop.agent
        if a.voice and not self._was_voice:
            self._agent_talk_start = hop.t
        self._was_voice = a.voice
        if (self.said is not None and a.voice and a.in_turn
                and self._agent_talk_start > self.said.end + _HOLD_SLACK_S):
            self.said = None  # the agent speaks again (a turn, not a click): it is over

    def on_utterance(self, u: Utterance) -> None:
        if u.speaker != AGENT:
            return
        said = find_said(self._rule.playbook, "hold", u)
        if said is not None and self._agent_talk_start <= u.end + _HOLD_SLACK_S:
            self.said = said

    @property
    def active(self) -> bool:
        return self.said is not None


class DeadAirRule(Rule):
    """Neither party speaks for `dead_air_s` (only once the call has started).

    Speaking means a turn: a click or a cough that never becomes one neither ends the
    silence nor starts a new one. An announced hold does not stop it (a hold needs a word
    now and then); the reason then says what was announced.
    """

    kinds = ("dead_air",)
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._voice_end: float | None = None  # end of the last voiced hop of a turn
        self._run_start = 0.0  # first hop of the latest stretch of voice
        self._was_voice = False
        self._event: Event | None = None
        self.hold = HoldTracker(self)
        self._hold_said: Said | None = None

    def on_utterance(self, utterance: Utterance, now: float) -> list[Event]:
        self.hold.on_utterance(utterance)
        return []

    def on_hop(self, hop: Hop) -> list[Event]:
        self.hold.on_hop(hop)
        a, c = hop.agent, hop.customer
        t = hop.t
        voice = a.voice or c.voice
        if voice and not self._was_voice:
            self._run_start = t
        self._was_voice = voice
        if a.in_turn or c.in_turn:
            if (a.voice and a.in_turn) or (c.voice and c.in_turn):
                self._voice_end = t + self.hop_s
            if self._event is None:
                return []
            # Someone speaks: the silence ended where their voice began.
            event = self._make(max(self._run_start, self._event.start))
            self._event = None
            return [event]
        if self._voice_end is None or self._event is not None:
            return []
        if t + self.hop_s - self._voice_end > self.th.dead_air_s:
            self._event = self._make(t + self.hop_s)
            return [self._event]
        return []

    def _make(self, end: float) -> Event:
        start = self._event.start if self._event else self._voice_end
        detected = self._event.detected_at if self._event else end
        if self._event is None:  # the hold the silence began in, if any
            self._hold_said = self.hold.said
        reason = f"{end - start:.1f} s of silence on the line"
        if self._hold_said is not None:
            reason += (f' since you said "{self._hold_said.quote}" at '
                       f"{self._hold_said.start:.1f} s")
        return self.event("dead_air", AGENT, start, end, reason, detected,
                          measures={"silence_s": round(end - start, 2)})

    def finish(self, end_t: float) -> list[Event]:
        return [self._make(end_t)] if self._event is not None else []


class SlowResponseRule(Rule):
    """The customer handed the floor over and the agent took more than `slow_response_s`
    to answer.

    The agent owes an answer once the customer has finished a turn: a question, or a
    statement Whisper ends with a full stop. Words that trail off ("because about", "and
    the...") mean they are still thinking, and a pause they then go on after is theirs.
    So the wait, from the customer's last voiced hop to the agent's answer (speech that
    becomes a turn, not a click), prompts only when the customer's last words are in and
    say so; with no transcript coming at all, the timing alone decides. A wait the agent
    announced (`hold` phrases: "one second", "let me check", "count to ten") is not a
    slow answer; `dead_air` still guards it. A customer who speaks first and waits is
    waiting too, so this also runs at the start of the call. The wait ends when the agent
    answers, when the customer goes on, or once it has become dead air.
    """

    kinds = ("slow_response",)
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._customer_in_turn = False
        self._customer_voice_end = 0.0
        self._agent_run_start = 0.0
        self._agent_was_voice = False
        self._waiting_since: float | None = None
        self._owed: bool | None = None  # None: the customer's last words are not in yet
        self._last_words: Utterance | None = None
        self._event: Event | None = None
        self.hold = HoldTracker(self)

    def on_utterance(self, utterance: Utterance, now: float) -> list[Event]:
        self.hold.on_utterance(utterance)
        if utterance.speaker == CUSTOMER:
            self._last_words = utterance
            self._judge_words()
        return []

    def _judge_words(self) -> None:
        """Whether the customer's words that ended the wait's turn hand the floor over."""
        u, since = self._last_words, self._waiting_since
        if u is None or since is None or self._owed is not None:
            return
        if since - _WORDS_SLACK_S <= u.end <= since + _WORDS_SLACK_S:
            self._owed = hands_over(u.text)

    def on_hop(self, hop: Hop) -> list[Event]:
        self.hold.on_hop(hop)
        a, c = hop.agent, hop.customer
        t = hop.t
        if a.voice and not self._agent_was_voice:
            self._agent_run_start = t
        self._agent_was_voice = a.voice
        if c.voice:
            self._customer_voice_end = t + self.hop_s
        if self._customer_in_turn and not c.in_turn:
            self._waiting_since = self._customer_voice_end
            self._owed = None if self.transcript_expected else True
            self._judge_words()
        self._customer_in_turn = c.in_turn
        if self._waiting_since is None:
            return []
        if a.voice and a.in_turn:
            answer = max(self._agent_run_start, self._waiting_since)
            return self._stop(answer, "you took {gap:.1f} s to answer")
        if c.in_turn:
            return self._stop(t, "the customer waited {gap:.1f} s, then went on")
        gap = t + self.hop_s - self._waiting_since
        if self._event is not None and gap >= self.th.dead_air_s:
            return self._stop(t + self.hop_s, "no answer for {gap:.1f} s: dead air")
        if (self._event is None and gap > self.th.slow_response_s and self._owed
                and not self.hold.active):
            self._event = self._make(t + self.hop_s, "the customer has waited {gap:.1f} s "
                                     "for an answer")
            return [self._event]
        return []

    def _stop(self, end: float, reason: str) -> list[Event]:
        out = [self._make(end, reason)] if self._event is not None else []
        self._waiting_since, self._event, self._owed = None, None, None
        return out

    def _make(self, end: float, reason: str) -> Event:
        start = self._waiting_since
        detected = self._event.detected_at if self._event else end
        words = self._last_words
        evidence = (words.text.strip() if words is not None and self.transcript_expected
                    and abs(words.end - start) <= _WORDS_SLACK_S else "")
        if evidence:
            reason += f' after "{_tail(evidence)}"'
        return self.event("slow_response", AGENT, start, end,
                          reason.format(gap=end - start), detected, evidence=evidence,
                          measures={"gap_s": round(end - start, 2)})

    def finish(self, end_t: float) -> list[Event]:
        return self._stop(end_t, "no answer for {gap:.1f} s before the call ended")


def hands_over(text: str) -> bool:
    """Whether words end a turn: a question or a finished sentence, not words that trail
    off ("because about", "and the...", "um")."""
    text = text.strip()
    if not text or text.endswith(("...", "\u2026", "-", ",")) or text[-1] not in ".?!":
        return False
    last = normalize_text(text).split()
    return bool(last) and last[-1] not in _TRAILING


def _tail(text: str, words: int = 8) -> str:
    parts = text.split()
    return text if len(parts) <= words else "..." + " ".join(parts[-words:])


class LongMonologueRule(Rule):
    """The agent holds the floor `long_monologue_s` without a pause for the customer."""

    kinds = ("long_monologue",)
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._floor_start: float | None = None
        self._voice_end = 0.0
        self._customer_turn_since: float | None = None
        self._event: Event | None = None

    def on_hop(self, hop: Hop) -> list[Event]:
        a, c = hop.agent, hop.customer
        t = hop.t
        out: list[Event] = []
        if c.in_turn:
            if self._customer_turn_since is None:
                self._customer_turn_since = t
        else:
            self._customer_turn_since = None
        # Longer than a backchannel ("mm-hmm") is the customer taking the floor.
        customer_took_floor = (self._customer_turn_since is not None
                               and t - self._customer_turn_since > self.th.backchannel_max_s)
        paused = not a.voice and t - self._voice_end >= self.th.monologue_pause_s
        if self._floor_start is not None and (customer_took_floor or paused):
            if self._event is not None:
                out.append(self._make(self._voice_end))
            self._floor_start, self._event = None, None
        if a.voice:
            self._voice_end = t + self.hop_s
            if self._floor_start is None and not customer_took_floor:
                self._floor_start = t
        if self._floor_start is not None and self._event is None:
            held = t + self.hop_s - self._floor_start
            if held > self.th.long_monologue_s:
                self._event = self._make(t + self.hop_s)
                out.append(self._event)
        return out

    def _make(self, end: float) -> Event:
        start = self._floor_start
        detected = self._event.detected_at if self._event else end
        return self.event("long_monologue", AGENT, start, end,
                          f"you talked for {end - start:.0f} s without a pause for the "
                          "customer", detected, measures={"floor_s": round(end - start, 1)})

    def finish(self, end_t: float) -> list[Event]:
        return [self._make(self._voice_end)] if self._event is not None else []
