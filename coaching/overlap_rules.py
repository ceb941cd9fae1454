"""Talking over each other: `interruption` (the agent) and `customer_interruption`.

An interruption is about taking the floor: you start while they are talking, and they
either give way (they stop and you go on) or keep fighting for it (you both keep going).
Listening sounds different: speech over them that stops within `backchannel_max_s`
("mm-hmm") never counts, and neither does a short acknowledgement judged by its words
("no problem, no problem", "got it", "okay, sure") up to `acknowledgement_max_s`. Nor
does a brief overlap they talk through: they kept the floor.

So the rule decides at one of two moments:
- your talk over them passes `acknowledgement_max_s`: no acknowledgement is that long,
  the prompt comes at once (live, within a hop of that moment);
- your talk stopped sooner, after they gave way: its transcript decides (not all
  acknowledgement words: an interruption, prompted when the words arrive). With no
  transcript coming (`--no-transcribe`) the timing alone decides.
They must have gone on talking `interruption_min_overlap_s` after you started (the overlap,
from your first word to their last one while you talk): starting as they say their last
word is taking your turn, not taking theirs.
"""

from __future__ import annotations

from collections import deque

from coaching.acknowledgement import substantive
from coaching.playbook import Playbook
from coaching.rule import Hop, Rule
from coaching.timeline import AGENT, CUSTOMER, Event, Frame, Speaker, Utterance

__all__ = ["InterruptionRule", "CustomerInterruptionRule"]

_QUIET_BEFORE_ONSET_S = 0.3  # the interrupter was silent this long before starting
_GAVE_WAY_S = 0.3  # they were quiet this long before your talk ended: they gave way
_STOPPED_S = 0.5  # a pause this long ends their going on (a noisy line breaks voice up)
_WORDS_WAIT_S = 10.0  # a short talk whose transcript has not come by then is let go
_WORDS_SLACK_S = 0.5  # Whisper's word times are this loose against the voice activity


class _OverlapRule(Rule):
    speaker: Speaker = AGENT
    kind = "interruption"
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._other_turn_since: float | None = None  # the other party's open turn
        self._voice_end = float("-inf")  # end of the interrupter's last voiced hop
        self._onset: float | None = None  # a candidate interruption's onset
        self._event: Event | None = None  # the open event, extended while it lasts
        self._overlap_s = 0.0  # they went on talking this long after the onset
        self._their_voice_end = float("-inf")
        self._pending: tuple[float, float, float, float] | None = None  # words to wait for
        self._words: deque[Utterance] = deque(maxlen=4)  # the interrupter's latest words

    def _frames(self, hop: Hop) -> tuple[Frame, Frame]:
        if self.speaker == AGENT:
            return hop.agent, hop.customer
        return hop.customer, hop.agent

    def on_hop(self, hop: Hop) -> list[Event]:
        me, them = self._frames(hop)
        t, out = hop.t, []
        if not them.in_turn:
            self._other_turn_since = None
        elif self._other_turn_since is None:
            self._other_turn_since = t
        if self._pending is not None and t - self._pending[1] > _WORDS_WAIT_S:
            self._pending = None  # no transcript for that short talk: let it go
        # Starting inside their turn (while they speak, or in a pause between their
        # sentences) is a candidate; what follows decides.
        if (self._onset is None and me.voice and them.in_turn
                and t - self._voice_end >= _QUIET_BEFORE_ONSET_S
                and self._other_turn_since is not None
                and t - self._other_turn_since >= self.th.interruption_customer_lead_s):
            self._onset, self._overlap_s, self._their_voice_end = t, 0.0, t
        if me.voice:
            self._voice_end = t + self.hop_s
        if self._onset is None:
            return out
        # Still talking: in a turn, or in a gap too short to end one that is not yet
        # confirmed (a turn opens only after a little speech).
        if me.in_turn or t - self._voice_end < _QUIET_BEFORE_ONSET_S:
            if them.voice and t - self._their_voice_end < _STOPPED_S:
                # The overlap: from your start to where they stopped; what they say after
                # a pause ("got it") is not them going on.
                self._their_voice_end = t + self.hop_s
                self._overlap_s = self._their_voice_end - self._onset
            talked = self._voice_end - self._onset  # voiced extent, not the hang-over
            if (self._event is None and self._overlap_s >= self.th.interruption_min_overlap_s
                    and talked > max(self.th.acknowledgement_max_s,
                                     self.th.interruption_min_talk_s)):
                self._event = self._make(talked, t + self.hop_s)
                out.append(self._event)
            return out
        talked = self._voice_end - self._onset
        if self._event is not None:
            out.append(self._make(talked, t))
        elif self._short_takeover(talked):
            out += self._judge_short(talked, t)
        self._onset, self._event = None, None
        return out

    def _short_takeover(self, talked: float) -> bool:
        """A talk too short to be sure of by its length: it took the floor if it was longer
        than a backchannel, they had been going on, and they gave way before it ended."""
        return (talked > max(self.th.backchannel_max_s, self.th.interruption_min_talk_s)
                and self._overlap_s >= self.th.interruption_min_overlap_s
                and self._voice_end - self._their_voice_end >= _GAVE_WAY_S)

    def _judge_short(self, talked: float, now: float) -> list[Event]:
        if not self.transcript_expected:
            return [self._make(talked, now)]
        self._pending = (self._onset, self._voice_end, talked, self._overlap_s)
        for words in self._words:  # a replayed call has the words before the talk ends
            found = self._judge_words(words, now)
            if found is not None:
                return found
        return []

    def on_utterance(self, utterance: Utterance, now: float) -> list[Event]:
        if utterance.speaker != self.speaker:
            return []
        self._words.append(utterance)
        return self._judge_words(utterance, now) or []

    def _judge_words(self, utterance: Utterance, now: float) -> list[Event] | None:
        """The words of a pending short talk decide it (None: not its words)."""
        if self._pending is None:
            return None
        onset, end, talked, overlap = self._pending
        if not (utterance.start <= end + _WORDS_SLACK_S
                and utterance.end >= onset - _WORDS_SLACK_S):
            return None
        self._pending = None
        if not substantive(self.playbook, utterance.text):
            return []  # "no problem, no problem": listening
        return [self._make(talked, now, onset, overlap, words=utterance.text)]

    def _make(self, talked: float, now: float, onset: float | None = None,
              overlap: float | None = None, words: str = "") -> Event:
        """The event of the current talk (or of the pending one: `onset`, `overlap`)."""
        onset = self._onset if onset is None else onset
        overlap = self._overlap_s if overlap is None else overlap
        who = "you" if self.speaker == AGENT else "the customer"
        whom = "the customer" if self.speaker == AGENT else "you"
        reason = (f"{who} started over {whom} and kept talking for {talked:.1f} s "
                  f"({overlap:.1f} s of overlap)")
        if words:
            reason += f': "{words.strip()}"'
        detected = self._event.detected_at if self._event is not None else now
        return self.event(self.kind, self.speaker, onset, onset + talked, reason, detected,
                          evidence=words, measures={"talk_s": round(talked, 2),
                                                    "overlap_s": round(overlap, 2)})

    def finish(self, end_t: float) -> list[Event]:
        if self._event is not None and self._onset is not None:
            return [self._make(self._voice_end - self._onset, end_t)]
        return []


class InterruptionRule(_OverlapRule):
    kinds = ("interruption",)
    speaker = AGENT
    kind = "interruption"


class CustomerInterruptionRule(_OverlapRule):
    kinds = ("customer_interruption",)
    speaker = CUSTOMER
    kind = "customer_interruption"
