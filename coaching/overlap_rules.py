"""Talking over each other: `interruption` (the agent) and `customer_interruption`.

Listening well means letting them have their say. Starting over the other person and
keeping going is an interruption; a short "mm-hmm", "okay" or "I see" while they talk is
active listening, so speech that stops within `backchannel_max_s` never counts.
"""

from __future__ import annotations

from coaching.playbook import Playbook
from coaching.rule import Hop, Rule
from coaching.timeline import AGENT, CUSTOMER, Event, Frame, Speaker

__all__ = ["InterruptionRule", "CustomerInterruptionRule"]

_QUIET_BEFORE_ONSET_S = 0.3  # the interrupter was silent this long before starting
_MIN_OVERLAP_S = 0.2  # both voices at once this long: answering in their pause is not it


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
        self._overlap_s = 0.0

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
        # Starting inside their turn (while they speak, or in a pause between their
        # sentences) is a candidate; it counts only if they are talked over (see below).
        if (self._onset is None and me.voice and them.in_turn
                and t - self._voice_end >= _QUIET_BEFORE_ONSET_S
                and self._other_turn_since is not None
                and t - self._other_turn_since >= self.th.interruption_customer_lead_s):
            self._onset, self._overlap_s = t, 0.0
        if me.voice:
            self._voice_end = t + self.hop_s
        if self._onset is not None:
            # Still talking: in a turn, or in a gap too short to end one that is not yet
            # confirmed (a turn opens only after a little speech).
            if me.in_turn or t - self._voice_end < _QUIET_BEFORE_ONSET_S:
                self._overlap_s += self.hop_s if (me.voice and them.voice) else 0.0
                talked = self._voice_end - self._onset  # voiced extent, not the hang-over
                if (self._event is None and self._overlap_s >= _MIN_OVERLAP_S
                        and talked > max(self.th.interruption_min_talk_s,
                                         self.th.backchannel_max_s)):
                    self._event = self._make(talked, t + self.hop_s)
                    out.append(self._event)
            else:
                if self._event is not None:
                    out.append(self._make(self._voice_end - self._onset, t))
                self._onset, self._event = None, None
        return out

    def _make(self, talked: float, now: float) -> Event:
        who = "you" if self.speaker == AGENT else "the customer"
        whom = "the customer" if self.speaker == AGENT else "you"
        reason = (f"{who} started over {whom} and kept talking for {talked:.1f} s "
                  f"({self._overlap_s:.1f} s of overlap)")
        detected = self._event.detected_at if self._event is not None else now
        return self.event(self.kind, self.speaker, self._onset, self._onset + talked, reason,
                          detected, measures={"talk_s": round(talked, 2),
                                              "overlap_s": round(self._overlap_s, 2)})

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
